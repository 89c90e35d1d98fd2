/**
 * The ContainerEngine contract (../../containers.ts) on the kube backend:
 * each container is a Pod on the builder node, made and read through the API
 * server with the user's kubeconfig (the agent is asked only which images the
 * node has). The mapping, and what it cannot do, is the table in ../README.md.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { cancelled, failedPrecondition, isKilnError, KilnError } from '../../../errors.js';
import type { Apis } from '../../../kube/api.js';
import { call } from '../../../kube/errors.js';
import type { Kube, KubeFlags } from '../../../kube/kubeconfig.js';
import type { Attach, ContainerEngine, ContainerSummary } from '../../containers.js';
import { filterContainers } from '../../containers/filter.js';
import { createPod, type AgentSide } from './create.js';
import { forwardPorts } from './forward.js';
import { attachPod, execPod, podLogs } from './io.js';
import { startKeeper } from './keeper-start.js';
import { ANN } from './names.js';
import { notOnKube } from './pod.js';
import { deletePod, findPod, idOf, listPods, nameOf } from './pods.js';
import { exitCode, waitExited, waitStarted } from './start.js';
import { podDetail, podLive, podSummary, portsOf } from './status.js';
import { refusePlatform } from '../../containers/restart.js';
import { newestFirst } from '../../../util/newest-first.js';

export interface KubeContainerDeps {
  k: Kube;
  a: Apis;
  flags: KubeFlags;
  agent: AgentSide;
  /** Where the keepers of detached containers write their logs. */
  keeperDir: string;
  /** One line for the user that does not stop the command. */
  warn(line: string): void;
}

const refuse = (what: string, hint: string) => () => Promise.reject(notOnKube(what, hint));
const volumeHint = '-v NAME:/path mounts an emptyDir, or the PersistentVolumeClaim NAME when there is one (kubectl -n NAMESPACE get pvc)';

export function kubeContainers(d: KubeContainerDeps): ContainerEngine {
  const { k, a } = d;
  /** Pods this process made for `run`, started by the next startContainer. */
  const made = new Map<string, V1Pod>();

  async function running(ref: string, verb: string): Promise<V1Pod> {
    const pod = await findPod(k, a, ref);
    if (podLive(pod).state !== 'running') throw failedPrecondition(`cannot ${verb} container ${nameOf(pod)}: it is not running`, { hint: `kiln --backend kube ps -a shows its state` });
    return pod;
  }

  async function foreground(pod: V1Pod, attach: Attach): Promise<number> {
    const name = pod.metadata!.name!;
    const spec = podDetail(pod).spec;
    const stop = new AbortController();
    const onInt = () => stop.abort(cancelled(`kiln run interrupted; container ${nameOf(pod)} ${spec.autoRemove ? 'removed' : `runs on (kiln --backend kube stop ${nameOf(pod)})`}`, { exitCode: 130 }));
    process.once('SIGINT', onInt);
    let fw: Awaited<ReturnType<typeof forwardPorts>> | undefined;
    try {
      const started = await waitStarted(k, a, pod, stop.signal);
      if (portsOf(started).length) fw = await forwardPorts(k, name, portsOf(started));
      if (spec.interactive || spec.tty) {
        await attachPod(k, name, attach, !!spec.tty).catch(async (e: unknown) => {
          // Ended before the attach could reach it: what it wrote is in its log.
          if (podLive((await findPod(k, a, idOf(pod)).catch(() => pod)) as V1Pod).state !== 'exited') throw e;
          if (attach.stdout) await podLogs(k, a, name, attach.stdout);
        });
      } else if (attach.stdout) {
        await podLogs(k, a, name, attach.stdout, { follow: true, signal: stop.signal });
      }
      if (stop.signal.aborted) throw stop.signal.reason;
      return exitCode(await waitExited(k, a, pod, stop.signal));
    } finally {
      process.off('SIGINT', onInt);
      await fw?.close();
      if (spec.autoRemove) await deletePod(k, a, name);
    }
  }

  return {
    async createContainer(spec, opts = {}) {
      refusePlatform(opts, 'kube');
      if (!opts.run) throw notOnKube('create', 'a pod starts when it is made: use kiln --backend kube run (-d to keep it in the background)');
      const pod = await createPod(k, a, d.agent, spec, opts);
      made.set(idOf(pod), pod);
      return idOf(pod);
    },

    async startContainer(ref, opts = {}) {
      const pod = made.get(ref);
      made.delete(ref);
      if (!pod) {
        const found = await findPod(k, a, ref);
        if (podLive(found).state === 'running' && !opts.attach) return undefined;
        throw notOnKube('start of a container that ran (a pod runs once)', `run it again: kiln --backend kube rm ${nameOf(found)}, then kiln --backend kube run …`);
      }
      if (opts.attach) return foreground(pod, opts.attach);
      const name = pod.metadata!.name!;
      try {
        await waitStarted(k, a, pod);
      } catch (e) {
        await deletePod(k, a, name);
        throw e;
      }
      const ports = portsOf(pod);
      const autoRemove = pod.metadata?.annotations?.[ANN.autoRemove] === 'true';
      if (ports.length || autoRemove) await startKeeper(d.keeperDir, { flags: d.flags, pod: name, ports, autoRemove });
      return undefined;
    },

    async stopContainer(ref, opts = {}) {
      const pod = await findPod(k, a, ref);
      if (opts.signal) throw notOnKube('stop -s', "the kubelet sends the image's STOPSIGNAL (or SIGTERM): drop -s");
      // A pod between two runs of --restart is not running, but not done either.
      const phase = pod.status?.phase;
      if (podLive(pod).state !== 'running' && !(pod.spec?.restartPolicy !== 'Never' && (phase === 'Running' || phase === 'Pending'))) return idOf(pod);
      const grace = pod.spec?.terminationGracePeriodSeconds ?? 30;
      if (opts.timeoutSeconds !== undefined && opts.timeoutSeconds !== grace) {
        d.warn(`stop -t ${opts.timeoutSeconds}: the kube backend waits the pod's grace period (${grace} s, fixed when the pod was made) before SIGKILL`);
      }
      // The kubelet ends a pod past its active deadline (SIGTERM, SIGKILL after the grace period) and keeps it, Failed, with its log.
      await call(k, `stop pod ${k.namespace}/${pod.metadata!.name}`, () =>
        a.core.patchNamespacedPod({ name: pod.metadata!.name!, namespace: k.namespace, body: [{ op: 'add', path: '/spec/activeDeadlineSeconds', value: 1 }] }),
      );
      await waitExited(k, a, pod);
      return idOf(pod);
    },

    async killContainer(ref, signal = 'KILL') {
      const pod = await running(ref, 'kill');
      const sig = signal.toUpperCase().replace(/^SIG/, '');
      const shared = !!pod.spec?.shareProcessNamespace;
      if (!shared && ['KILL', '9', 'STOP', '19'].includes(sig)) {
        throw notOnKube(`kill -s ${sig} of a container without --init`, "Kubernetes has no signal call and a container's PID 1 cannot get SIGKILL from inside it: use kiln stop or rm -f, or run with --init (then kill reaches every process but the pod's pause)");
      }
      const code = await execPod(k, pod.metadata!.name!, { args: ['kill', '-s', sig, shared ? '-1' : '1'] });
      if (code !== 0) throw failedPrecondition(`kill -s ${sig} in container ${nameOf(pod)} exited ${code}`, { hint: 'the image needs a kill command (busybox, coreutils)' });
      return idOf(pod);
    },

    async removeContainer(ref, opts = {}) {
      const pod = await findPod(k, a, ref);
      if (podLive(pod).state === 'running' && !opts.force) {
        throw failedPrecondition(`cannot remove container ${nameOf(pod)}: container is running: stop the container before removing or force remove`, { hint: `kiln --backend kube rm -f ${nameOf(pod)}` });
      }
      await deletePod(k, a, pod.metadata!.name!);
      return idOf(pod);
    },

    async listContainers(opts = {}) {
      const all: ContainerSummary[] = (await listPods(k, a)).map(podSummary);
      return filterContainers(all, opts).sort((x, y) => newestFirst(x.created, y.created));
    },

    async inspectContainer(ref) {
      return podDetail(await findPod(k, a, ref));
    },

    async containerLogs(ref, out, opts = {}) {
      const pod = await findPod(k, a, ref);
      await podLogs(k, a, pod.metadata!.name!, out.stdout, opts);
    },

    async execInContainer(ref, exec, attach) {
      if (exec.user !== undefined) throw notOnKube('exec -u', "the exec call runs as the container's user");
      const pod = await running(ref, 'exec in');
      return execPod(k, pod.metadata!.name!, exec, attach);
    },

    async waitContainer(ref) {
      const pod = await findPod(k, a, ref);
      try {
        return exitCode(await waitExited(k, a, pod));
      } catch (e) {
        if (e instanceof KilnError && e.code === 'FAILED_PRECONDITION') return e.exitCode;
        throw e;
      }
    },

    async imagesInUse() {
      const used = new Map<string, string[]>();
      for (const p of await listPods(k, a).catch((e: unknown) => (isKilnError(e) ? [] : Promise.reject(e)))) {
        const id = p.status?.containerStatuses?.[0]?.imageID;
        if (id?.startsWith('sha256:')) used.set(id, [...(used.get(id) ?? []), p.metadata?.annotations?.[ANN.name] ?? '']);
      }
      return used;
    },

    restartContainer: refuse('restart', 'a pod runs once: kiln --backend kube rm -f NAME, then run it again'),
    renameContainer: refuse('rename', "a pod's name is fixed when it is made"),
    topContainer: refuse('top', 'use kiln --backend kube exec CONTAINER ps'),
    diffContainer: refuse('diff', 'the container root is in the node\'s containerd, not reachable through the API server'),
    exportContainer: refuse('export', 'use kiln --backend kube exec CONTAINER tar -c / > FILE'),
    commitContainer: refuse('commit', 'the container root is in the node\'s containerd, not reachable through the API server: build the change into a Dockerfile instead'),
    copyFromContainer: refuse('cp', 'use kiln --backend kube exec CONTAINER cat FILE > FILE (or kubectl cp)'),
    copyToContainer: refuse('cp', 'use kiln --backend kube exec -i CONTAINER sh -c "cat > FILE" < FILE (or kubectl cp)'),
    statsContainers: refuse('stats', 'use kubectl top pod (needs metrics-server)'),
    createVolume: refuse('volume create', volumeHint),
    listVolumes: refuse('volume ls', volumeHint),
    inspectVolume: refuse('volume inspect', volumeHint),
    removeVolume: refuse('volume rm', volumeHint),
    pruneVolumes: refuse('volume prune', volumeHint),
  };
}
