/**
 * The ContainerEngine contract (../../containers.ts) on containerd: records
 * in the Containers service, processes as tasks of the io.containerd.runc.v2
 * shim, roots from containerd's snapshotter, bridge networking through
 * src/runtime/cni.ts, logs written by kiln's log driver under the shim. What
 * it cannot do yet says so in one line (see the README's table).
 */
import { refusePlatform } from '../../containers/restart.js';
import { failedPrecondition, isKilnError, notFound, unimplemented } from '../../../errors.js';
import type { ContainerDetail, ContainerEngine, ContainerSummary, CreateOptions } from '../../containers.js';
import { containerDetail } from '../../containers/detail.js';
import { filterContainers } from '../../containers/filter.js';
import { usersByImage } from '../../containers/in-use.js';
import type { Engine, ImageDetail } from '../../engine.js';
import { createCtr, destroyCtr, endRun, logFile, startCtr, type CtrContext } from './lifecycle.js';
import type { CtrRecord } from './records.js';
import { ctrVolumes } from './volumes.js';
import { refuseRestartPolicy } from './restart.js';
import { getTask, killTask, listTasks, signalNumber, stateOf, stopTask, waitTask, type TaskState } from './tasks.js';
import { newestFirst } from '../../../util/newest-first.js';

type Images = Pick<Engine, 'inspectImage' | 'pull' | 'commitImage'>;

function detail(rec: CtrRecord, live: TaskState): ContainerDetail {
  return containerDetail(rec, live, { dir: rec.dir, log: logFile(rec) });
}

const notYet = (what: string, hint: string) => () => Promise.reject(unimplemented(`${what} is not supported on the containerd backend yet`, { hint }));
/** Commands not done on this backend yet (cp and stats as main's contract names them): one line each. */
const refused = {
  copyFromContainer: notYet('cp', 'use kiln exec CONTAINER cat FILE > FILE, or --backend local'),
  copyToContainer: notYet('cp', 'use --backend local'),
  statsContainers: notYet('stats', 'use ctr tasks metrics, or --backend local'),
  diffContainer: notYet('diff', 'use ctr snapshots diff, or --backend local'),
  exportContainer: notYet('export', 'use kiln exec CONTAINER tar -c /, or --backend local'),
};

export function containerdContainers(c: CtrContext, images: Images): ContainerEngine {
  const live = async (rec: CtrRecord) => stateOf(rec, await getTask(c.conn, rec.id));

  async function findImage(ref: string, opts: CreateOptions): Promise<ImageDetail> {
    const policy = opts.pull ?? 'missing';
    const isId = /^(sha256:)?[0-9a-f]{12,64}$/.test(ref);
    if (policy !== 'always' || isId) {
      try {
        return await images.inspectImage(ref);
      } catch (e) {
        if (!isKilnError(e, 'NOT_FOUND') || policy === 'never' || isId) {
          if (isKilnError(e, 'NOT_FOUND')) throw notFound(`no such image in containerd (namespace ${c.conn.namespace}): ${ref}`, { hint: 'pull, import or load it with --backend containerd, or build it there', cause: e });
          throw e;
        }
      }
    }
    opts.onPull?.start(ref, policy !== 'always');
    const result = await images.pull(ref, opts.progress ? { progress: opts.progress } : {});
    opts.onPull?.done(result);
    return images.inspectImage(ref);
  }

  async function running(ref: string, verb: string): Promise<{ rec: CtrRecord; pid: number }> {
    const rec = await c.records.resolve(ref);
    const st = await live(rec);
    if (st.state !== 'running') throw failedPrecondition(`cannot ${verb} container ${rec.name}: it is not running`, { hint: `start it first: kiln start ${rec.name}` });
    return { rec, pid: st.pid ?? 0 };
  }

  /** Stopped by hand: the restart monitor lets it be (docker ignores the policy then). */
  async function handBack(rec: CtrRecord): Promise<CtrRecord> {
    if (!rec.monitor) return rec;
    const { monitor: _m, ...rest } = rec;
    await c.records.save(rest);
    return rest;
  }

  return {
    ...refused,
    async createContainer(spec, opts = {}) {
      refuseRestartPolicy(spec);
      refusePlatform(opts, 'containerd');
      return createCtr(c, spec, await findImage(spec.image, opts));
    },

    async startContainer(ref, opts = {}) {
      const rec = await c.records.resolve(ref);
      if (rec.creating) throw failedPrecondition(`container ${rec.name} was never fully made (the kiln creating it was stopped)`, { hint: `remove it: kiln rm ${rec.name}, or kiln container prune` });
      if ((await live(rec)).state === 'running') {
        if (opts.attach) throw failedPrecondition(`container ${rec.name} is already running`, { hint: `see its output with kiln logs -f ${rec.name}` });
        return undefined;
      }
      return startCtr(c, rec, opts.attach);
    },

    async stopContainer(ref, opts = {}) {
      const rec = await handBack(await c.records.resolve(ref));
      if ((await live(rec)).state !== 'running') return rec.id;
      const image = await images.inspectImage(rec.imageId).catch(() => undefined);
      const signal = opts.signal ?? image?.config.config?.StopSignal ?? 'SIGTERM';
      await stopTask(c.conn, rec.id, signal, (opts.timeoutSeconds ?? 10) * 1000);
      await endRun(c, rec);
      return rec.id;
    },

    async restartContainer(ref, opts = {}) {
      const id = await this.stopContainer(ref, opts);
      await this.startContainer(id);
      return id;
    },

    async killContainer(ref, signal = 'SIGKILL') {
      const { rec } = await running(ref, 'kill');
      signalNumber(signal);
      await handBack(rec);
      await killTask(c.conn, rec.id, signal);
      return rec.id;
    },

    async removeContainer(ref, opts = {}) {
      const rec = await c.records.resolve(ref);
      if ((await live(rec)).state === 'running' && !opts.force) {
        throw failedPrecondition(`cannot remove container ${rec.name}: it is running`, { hint: `stop it first or use kiln rm -f ${rec.name}` });
      }
      await destroyCtr(c, rec, { ...(opts.volumes ? { volumes: true } : {}) });
      return rec.id;
    },

    async commitContainer(ref, opts = {}) {
      const { rec } = await running(ref, 'commit');
      const { commitCtr } = await import('./commit.js');
      return commitCtr(c, rec, await images.inspectImage(rec.imageId), images, opts);
    },

    async topContainer() {
      throw unimplemented('top is not supported on the containerd backend yet', { hint: 'use kiln exec CONTAINER ps, or ctr tasks ps' });
    },

    async renameContainer(ref, name) {
      const rec = await c.records.resolve(ref);
      await c.records.save({ ...rec, name: await c.records.claimName(name) });
      return rec.id;
    },

    async listContainers(opts = {}) {
      const [records, tasks] = await Promise.all([c.records.list(), listTasks(c.conn)]);
      const all = records.map((r) => detail(r, stateOf(r, tasks.get(r.id))));
      return filterContainers(all, opts)
        .sort((a, b) => newestFirst(a.created, b.created))
        .map((d): ContainerSummary => {
          const { spec: _s, args: _a, pid: _p, error: _e, restartCount: _r, ip: _i, mounts: _m, paths: _d, ...summary } = d;
          return summary;
        });
    },

    async inspectContainer(ref) {
      const rec = await c.records.resolve(ref);
      return detail(rec, await live(rec));
    },

    async containerLogs(ref, out, opts = {}) {
      const rec = await c.records.resolve(ref);
      const isDone = async () => (await live(rec)).state !== 'running';
      const { readCriLog, writeLogs } = await import('../../../runtime/logs.js');
      const entries = readCriLog(logFile(rec), {
        ...(opts.since !== undefined ? { since: opts.since } : {}),
        ...(opts.until !== undefined ? { until: opts.until } : {}),
        ...(opts.tail !== undefined ? { tail: opts.tail } : {}),
        follow: !!opts.follow && !(await isDone()),
        isDone,
      });
      await writeLogs(entries, out, { timestamps: !!opts.timestamps });
    },

    async execInContainer(ref, exec, attach = {}) {
      const { rec, pid } = await running(ref, 'exec in');
      return (await import('./exec.js')).execCtr(c, rec, pid, exec, attach);
    },

    async waitContainer(ref) {
      const rec = await c.records.resolve(ref);
      const st = await live(rec);
      if (st.state !== 'running') return st.exitCode ?? (st.state === 'created' ? 0 : 255);
      return (await waitTask(c.conn, rec.id)).exitCode;
    },

    imagesInUse: async () => usersByImage(await c.records.list()),

    ...ctrVolumes(c),
  };
}
