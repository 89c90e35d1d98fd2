/**
 * One build Job, from start to end: the Job and its Secret made, the pod
 * waited for (one status line per state; a pod that cannot run fails at once
 * in one line), its log followed to the caller's stream as it comes, the
 * context streamed into the build container's stdin through the API server,
 * the exit code and the digest (the executor's termination message) read,
 * and everything deleted at the end — success, failure or cancel — unless
 * `keep`. The Secret is owned by the Job, so the garbage collector removes it
 * with the Job (also when the Job's TTL ends it after kiln was killed).
 */
import { randomBytes } from 'node:crypto';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { BatchV1Api, CoreV1Api, Log, type V1Pod } from '@kubernetes/client-node';
import { failedPrecondition, unavailable } from '../../errors.js';
import { parseNormalizedNamed } from '../../name/reference.js';
import { call, isStatus } from '../errors.js';
import type { Kube } from '../kubeconfig.js';
import { uploadStdin } from './attach.js';
import { buildPodState, type BuildPodState } from './pod-state.js';
import { RetryGrace } from '../waiting.js';
import { BUILD_CONTAINER, BUILD_LABEL, jobObject, secretObject, type JobSpec } from './spec.js';

export interface BuildJobRequest {
  spec: JobSpec;
  /** The context as a tar stream (made lazily: only once the pod runs). */
  context: () => Readable;
  dockerfile: string;
  /** `.dockerconfigjson` of the Secret. */
  dockerConfigJson: string;
}

export interface BuildJobIo {
  /** The build's own output (the executor's progress, RUN steps' output), as it comes. */
  output: Writable;
  /** kiln's status lines (job made, pod state, context sent). */
  status(line: string): void;
  signal?: AbortSignal;
  /** How long the pod may take to start (default 300 s). */
  startTimeoutMs?: number;
}

export interface BuildJobResult {
  job: string;
  namespace: string;
  pod: string;
  node?: string;
  exitCode: number;
  /** The pushed (or built) manifest digest, when the build succeeded. */
  digest?: string;
  contextBytes: number;
  ms: number;
}

/** `kiln-build-NAME-xxxxx`: the last path component of the first destination, then random. */
export function jobName(destinations: string[]): string {
  const first = destinations[0] ?? 'image';
  let repo: string;
  try {
    repo = parseNormalizedNamed(first).path.split('/').pop()!;
  } catch {
    repo = first;
  }
  const slug = repo.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 30) || 'image';
  return `kiln-build-${slug}-${randomBytes(3).toString('hex')}`;
}

/** Resolves after ms, or at once when signal aborts; `unref`: the timer alone does not keep the process alive. */
const sleep = (ms: number, signal?: AbortSignal, unref = false) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    if (unref) t.unref();
    signal?.addEventListener('abort', done, { once: true });
  });

export async function runBuildJob(k: Kube, req: BuildJobRequest, io: BuildJobIo): Promise<BuildJobResult> {
  const t0 = Date.now();
  const { spec } = req;
  const ns = spec.namespace;
  const core = k.kc.makeApiClient(CoreV1Api);
  const batch = k.kc.makeApiClient(BatchV1Api);
  const signal = io.signal;
  const stopIfCancelled = () => {
    if (signal?.aborted) throw signal.reason;
  };
  let made = false;
  let podName = '';
  let logs: AbortController | undefined;
  let upload: { close(): void } | undefined;
  try {
    // The Secret first (the kubelet would otherwise retry the pod's volume with a backoff), owned by the Job once it exists.
    await call(k, `create Secret ${ns}/${spec.name}`, () => core.createNamespacedSecret({ namespace: ns, body: secretObject(spec, req.dockerConfigJson, req.dockerfile) }));
    made = true;
    const job = await call(k, `create Job ${ns}/${spec.name}`, () => batch.createNamespacedJob({ namespace: ns, body: jobObject(spec) }));
    const owner = { apiVersion: 'batch/v1', kind: 'Job', name: spec.name, uid: job.metadata!.uid!, blockOwnerDeletion: false };
    await call(k, `set the owner of Secret ${ns}/${spec.name}`, () => core.patchNamespacedSecret({ name: spec.name, namespace: ns, body: [{ op: 'add', path: '/metadata/ownerReferences', value: [owner] }] }));
    io.status(`created Job ${ns}/${spec.name} and its Secret`);

    let state = await waitStarted(k, core, spec, io);
    podName = state.pod.metadata!.name!;
    const node = state.pod.spec?.nodeName;
    stopIfCancelled();

    // The log from its start, while the context goes in (the executor prints nothing before it has read it).
    const logDone = followLog(k, ns, podName, io.output);
    logs = await logDone.controller;
    let contextBytes = 0;
    if (state.v.state === 'running') {
      io.status(`pod ${podName}${node ? ` on node ${node}` : ''} running: sending the context`);
      const t1 = Date.now();
      const up = await uploadStdin(k.kc, { ...k, namespace: ns }, podName, BUILD_CONTAINER, req.context(), signal);
      upload = up;
      // The container may end first (a bad Dockerfile, a context it refuses): its exit code says why.
      const ended = waitEnded(k, core, ns, podName, signal);
      const sent = await Promise.race([up.done.then((n) => ({ n }), (e: unknown) => ({ e })), ended.then(() => undefined)]);
      stopIfCancelled();
      if (sent && 'n' in sent) {
        contextBytes = sent.n;
        io.status(`context sent: ${contextBytes} bytes in ${((Date.now() - t1) / 1000).toFixed(2)} s`);
      }
      state = { pod: state.pod, v: await ended };
      stopIfCancelled();
    }
    await Promise.race([logDone.ended, sleep(10_000, undefined, true)]);
    if (state.v.state !== 'ended') throw unavailable(`the build pod ${ns}/${podName} ended in no known state`);
    const digest = /^sha256:[0-9a-f]{64}$/.test(state.v.message) ? state.v.message : undefined;
    return { job: spec.name, namespace: ns, pod: podName, ...(node ? { node } : {}), exitCode: state.v.exitCode, ...(digest ? { digest } : {}), contextBytes, ms: Date.now() - t0 };
  } finally {
    upload?.close();
    logs?.abort();
    if (made && !spec.keep) await removeJob(k, core, batch, spec).catch((e: Error & { hint?: string }) => io.status(`could not delete Job ${ns}/${spec.name}: ${e.message}${e.hint ? ` (${e.hint})` : ''}`));
    else if (made) io.status(`kept Job ${ns}/${spec.name} (--keep-job): kubectl -n ${ns} logs job/${spec.name}; kubectl -n ${ns} delete job ${spec.name}`);
  }
}

/** Polls the Job's pod until its build container runs (or has already ended); fails at once when it cannot run. */
async function waitStarted(k: Kube, core: CoreV1Api, spec: JobSpec, io: BuildJobIo): Promise<{ pod: V1Pod; v: BuildPodState }> {
  const start = Date.now();
  const limit = io.startTimeoutMs ?? 300_000;
  let shown = '';
  const grace = new RetryGrace();
  for (;;) {
    if (io.signal?.aborted) throw io.signal.reason;
    const pods = await call(k, `list pods of Job ${spec.namespace}/${spec.name}`, () => core.listNamespacedPod({ namespace: spec.namespace, labelSelector: `${BUILD_LABEL}=${spec.name}` }));
    const pod = pods.items[0];
    let line = 'waiting for the Job controller to make the pod';
    if (pod) {
      const v = grace.settle(buildPodState(pod, spec.image));
      if (v.state === 'running' || v.state === 'ended') return { pod, v };
      if (v.state === 'failed') {
        if (v.logsOf) io.output.write(await lastLog(core, spec.namespace, pod.metadata!.name!, v.logsOf));
        throw failedPrecondition(v.line, { hint: v.hint });
      }
      line = v.line;
    } else if (Date.now() - start > 3000) {
      // The Job controller could not make it (Pod Security admission, a quota): its event says why.
      const events = await call(k, `list events of Job ${spec.namespace}/${spec.name}`, () => core.listNamespacedEvent({ namespace: spec.namespace, fieldSelector: `involvedObject.name=${spec.name},reason=FailedCreate` }));
      const why = events.items.at(-1)?.message;
      if (why) throw failedPrecondition(`the Job ${spec.namespace}/${spec.name} cannot make its pod: ${why}`, { hint: 'build in a namespace that allows it (--job-namespace), or ask a cluster admin' });
    }
    if (line !== shown) io.status((shown = line));
    if (Date.now() - start > limit) throw unavailable(`the build pod of Job ${spec.namespace}/${spec.name} did not start in ${Math.round(limit / 1000)} s: ${line}`, { hint: `see kubectl -n ${spec.namespace} describe pods -l ${BUILD_LABEL}=${spec.name}` });
    await sleep(300, io.signal);
  }
}

/** Resolves with the build container's end (exit code, termination message); polls the pod. */
async function waitEnded(k: Kube, core: CoreV1Api, ns: string, pod: string, signal?: AbortSignal): Promise<BuildPodState & { state: 'ended' }> {
  const grace = new RetryGrace();
  for (;;) {
    if (signal?.aborted) throw signal.reason;
    let p: V1Pod;
    try {
      p = await core.readNamespacedPod({ name: pod, namespace: ns });
    } catch (e) {
      if (isStatus(e, 404)) throw unavailable(`the build pod ${ns}/${pod} was deleted during the build`, { hint: 'run the build again' });
      await sleep(1000, signal);
      continue;
    }
    const v = grace.settle(buildPodState(p, ''));
    if (v.state === 'ended') return v;
    if (v.state === 'failed') throw failedPrecondition(v.line, { hint: v.hint });
    await sleep(500, signal);
  }
}

/** Follows the build container's log into `out` (not ended with it). */
function followLog(k: Kube, ns: string, pod: string, out: Writable): { controller: Promise<AbortController | undefined>; ended: Promise<void> } {
  const sink = new PassThrough();
  const ended = new Promise<void>((resolve) => {
    sink.on('end', resolve);
    sink.on('close', resolve);
    sink.on('error', resolve);
  });
  sink.on('data', (c: Buffer) => out.write(c));
  const controller = new Log(k.kc).log(ns, pod, BUILD_CONTAINER, sink, { follow: true }).catch(() => {
    sink.end();
    return undefined;
  });
  return { controller, ended };
}

async function lastLog(core: CoreV1Api, ns: string, pod: string, container: string): Promise<string> {
  try {
    const text = await core.readNamespacedPodLog({ name: pod, namespace: ns, container, tailLines: 20 });
    return text.endsWith('\n') || text === '' ? text : `${text}\n`;
  } catch {
    return '';
  }
}

/** How long kiln waits for its Job's deleted pods to be gone (a finalizer the Job controller removes) before it says so. */
const GONE_WAIT_MS = 30_000;

/** Deletes the Job (its pods with it, at once) and the Secret, then waits for the pods to be gone; what is already gone is fine. */
async function removeJob(k: Kube, core: CoreV1Api, batch: BatchV1Api, spec: JobSpec): Promise<void> {
  const ns = spec.namespace;
  const gone = (e: unknown) => {
    if (!isStatus(e, 404)) throw e;
  };
  await call(k, `delete Job ${ns}/${spec.name}`, () => batch.deleteNamespacedJob({ name: spec.name, namespace: ns, propagationPolicy: 'Background', gracePeriodSeconds: 0 })).catch(gone);
  await call(k, `delete Secret ${ns}/${spec.name}`, () => core.deleteNamespacedSecret({ name: spec.name, namespace: ns })).catch(gone);
  const labelSelector = `${BUILD_LABEL}=${spec.name}`;
  await call(k, `delete the pods of Job ${ns}/${spec.name}`, () => core.deleteCollectionNamespacedPod({ namespace: ns, labelSelector, gracePeriodSeconds: 0 })).catch(gone);
  // As kubectl delete waits: a pod the Job controller still holds by its job-tracking finalizer (it drops it
  // once it has counted the pod; a loaded controller-manager lags) is gone a moment later, and kiln ends after that.
  const deadline = Date.now() + GONE_WAIT_MS;
  for (;;) {
    const left = (await call(k, `list the pods of Job ${ns}/${spec.name}`, () => core.listNamespacedPod({ namespace: ns, labelSelector }))).items;
    if (left.length === 0) return;
    if (Date.now() > deadline) {
      const names = left.map((p) => p.metadata?.name).join(', ');
      throw unavailable(`pods of Job ${ns}/${spec.name} still being deleted after ${GONE_WAIT_MS / 1000} s: ${names}`, { hint: `kubectl -n ${ns} get pod ${left[0]?.metadata?.name ?? ''} -o jsonpath='{.metadata.finalizers}'` });
    }
    await sleep(200);
  }
}


