/** The local ContainerEngine: records under ROOT/containers, runc through src/runtime, roots from src/snapshot. */
import { refuseRestart } from '../../containers/restart.js';
import type { Platform } from '../../../oci/types.js';
import { failedPrecondition, isKilnError, notFound } from '../../../errors.js';
import { runcRoot } from '../../../runtime/paths.js';
import { formatReference, parseNormalizedNamed } from '../../../name/reference.js';
import type { ContainerDetail, ContainerEngine, ContainerSpec, ContainerSummary, CreateOptions } from '../../containers.js';
import type { Engine, ImageDetail } from '../../engine.js';
import { appendEvent, readEvents } from '../events.js';
import { containerContext, logFile, type ContainerContext } from './context.js';
import { containerDetail } from '../../containers/detail.js';
import { filterContainers } from '../../containers/filter.js';
import { usersByImage } from '../../containers/in-use.js';
import { liveState, monitorRunning } from './state.js';
import type { ContainerRecord } from './store.js';
import { localVolumes } from '../volumes/engine.js';

/*
 * What only some commands need (runc driver, snapshots, CNI, the image store)
 * is imported by the method that needs it: `kiln ps` loads the records and
 * state files, nothing more.
 */
const runtime = () => import('../../../runtime/index.js');
const teardown = () => import('./teardown.js');
import { setTimeout as sleep } from 'node:timers/promises';
import { pipeline } from 'node:stream/promises';
import { newestFirst } from '../../../util/newest-first.js';

async function lastDieCode(root: string, id: string): Promise<number | undefined> {
  let code: number | undefined;
  for await (const e of readEvents(root, { filters: ['type=container', 'event=die', `container=${id}`] })) {
    const n = Number(e.attributes.exitCode);
    if (Number.isInteger(n)) code = n;
  }
  return code;
}

/** A running container's record and init pid; otherwise one line: its filesystem exists only while it runs. */
async function running(ctx: ContainerContext, ref: string): Promise<ContainerRecord & { pid: number }> {
  const rec = await ctx.store.resolve(ref);
  const live = await liveState(ctx.stateDir, rec);
  if (live.state !== 'running' || live.pid === undefined) {
    throw failedPrecondition(`container ${rec.name} is not running: a kiln container's filesystem exists only while it runs (each start is a fresh root)`, {
      hint: `start it (kiln start ${rec.name}), or use a volume for what must outlive it`,
    });
  }
  return { ...rec, pid: live.pid };
}

/** Runs a copy against a running container's root (/proc/PID/root) with the container paused, as docker does. */
async function copying(ctx: ContainerContext, ref: string, fn: (root: string, name: string) => Promise<number>): Promise<number> {
  const { pid, ...rec } = await running(ctx, ref);
  const live = { pid };
  const runc = new (await runtime()).Runc({ root: runcRoot(ctx.stateDir) });
  await runc.pause(rec.id);
  try {
    return await fn(`/proc/${live.pid}/root`, rec.name);
  } finally {
    await runc.resume(rec.id);
  }
}

async function detail(ctx: ContainerContext, rec: ContainerRecord): Promise<ContainerDetail> {
  return containerDetail(rec, await liveState(ctx.stateDir, rec), { dir: ctx.store.containerDir(rec.id), log: logFile(ctx, rec.id) });
}

/** `engine` opens (once) the image engine of the same root: only commands that need images pay for it. */
export function localContainerEngine(root: string, engine: () => Promise<Engine>): ContainerEngine {
  const ctx = containerContext(root);

  /** A local image straight from the store (the full engine, with its registry client, is not loaded for this). */
  async function localImage(ref: string, platform?: Platform): Promise<ImageDetail> {
    const [{ openStore }, { inspectImage }] = await Promise.all([import('../../../content/layout.js'), import('../../../image/list.js')]);
    const store = await openStore(root, { create: false, writable: false }).catch((e: unknown) => {
      if (isKilnError(e, 'NOT_FOUND')) throw notFound(`no such image: ${ref}`);
      throw e;
    });
    try {
      return await inspectImage(store, ref, platform);
    } finally {
      await store.close();
    }
  }

  /** The image by name or id, pulled as the policy says (`missing`: only when not stored and named, as Docker does). */
  async function findImage(ref: string, opts: CreateOptions): Promise<ImageDetail> {
    const policy = opts.pull ?? 'missing';
    const isId = /^(sha256:)?[0-9a-f]{12,64}$/.test(ref);
    if (policy !== 'always' || isId) {
      try {
        return await localImage(ref, opts.platform);
      } catch (e) {
        if (!isKilnError(e, 'NOT_FOUND') || policy === 'never' || isId) throw e;
      }
    }
    const images = await engine();
    opts.onPull?.start(ref, policy !== 'always');
    try {
      const result = await images.pull(ref, { ...(opts.progress ? { progress: opts.progress } : {}), ...(opts.platform ? { platform: opts.platform } : {}) });
      opts.onPull?.done(result);
    } catch (e) {
      if (policy === 'always') throw e;
      const why = e instanceof Error ? e.message : String(e);
      throw notFound(`unable to find image '${ref}' locally, and pulling it failed: ${why}`, {
        hint: 'check the name, or import/pull the image first',
        cause: e,
      });
    }
    return opts.platform ? localImage(ref, opts.platform) : images.inspectImage(ref);
  }

  /** An image of a foreign platform runs under QEMU: its interpreter registered (or one line saying why it cannot be). */
  async function emulate(image: ImageDetail): Promise<void> {
    const { architecture, os, variant } = image.config;
    if (!architecture || !os) return;
    const { ensureEmulation } = await import('../../../runtime/binfmt.js');
    await ensureEmulation([{ os, architecture, ...(variant ? { variant } : {}) }]);
  }

  const imageOf = async (rec: ContainerRecord): Promise<ImageDetail> =>
    localImage(rec.imageId).catch((e: unknown) => {
      if (isKilnError(e, 'NOT_FOUND')) {
        throw failedPrecondition(`the image ${rec.image} (${rec.imageId.slice(7, 19)}) of container ${rec.name} was removed`, { hint: 'remove the container and run the image again' });
      }
      throw e;
    });

  /** The image the last createContainer found, for `run`'s start of that container right after: read once, not twice. */
  let created: { id: string; image: ImageDetail } | undefined;

  async function summaries(): Promise<ContainerDetail[]> {
    return Promise.all((await ctx.store.list()).map((r) => detail(ctx, r)));
  }

  return {
    async createContainer(spec: ContainerSpec, opts = {}) {
      refuseRestart(spec, 'local');
      const image = await findImage(spec.image, opts);
      await emulate(image);
      // Check what can be checked before anything is written.
      const [{ containerArgs }, { parseMounts }, { parsePublish }] = await Promise.all([
        import('../../../runtime/command.js'),
        import('../../volumes/mounts.js'),
        import('../../../runtime/cni.js'),
      ]);
      const args = containerArgs(image.config.config ?? {}, { ...(spec.cmd?.length ? { cmd: spec.cmd } : {}), ...(spec.entrypoint ? { entrypoint: spec.entrypoint } : {}) });
      parseMounts(spec);
      const ports = parsePublish(spec.publish);
      let name = spec.image;
      try {
        name = formatReference(parseNormalizedNamed(spec.image));
      } catch {
        name = spec.image; // an image id
      }
      const rec = await ctx.store.create(
        { created: new Date().toISOString(), spec, image: name, imageId: image.id, args, restartCount: 0, ports, mounts: [] },
        spec.name,
      );
      await appendEvent(root, { type: 'container', action: 'create', id: rec.id, attributes: { name: rec.name, image: rec.image } });
      created = { id: rec.id, image };
      return rec.id;
    },

    async startContainer(ref, opts = {}) {
      const rec = await ctx.store.resolve(ref);
      const live = await liveState(ctx.stateDir, rec);
      if (live.state === 'running') {
        if (opts.attach) throw failedPrecondition(`container ${rec.name} is already running`, { hint: `see its output with kiln logs -f ${rec.name}` });
        return undefined;
      }
      const { startRecord } = await import('./start.js');
      const fresh = created?.id === rec.id ? created.image : undefined;
      created = undefined;
      const image = fresh ?? (await imageOf(rec));
      if (!fresh) await emulate(image);
      return startRecord(ctx, image, rec, opts.attach);
    },

    async stopContainer(ref, opts = {}) {
      const rec = await ctx.store.resolve(ref);
      const live = await liveState(ctx.stateDir, rec);
      if (live.state !== 'running') return rec.id;
      const image = await localImage(rec.imageId).catch(() => undefined);
      const signal = opts.signal ?? image?.config.config?.StopSignal ?? 'SIGTERM';
      const timeoutMs = (opts.timeoutSeconds ?? 10) * 1000;
      if (live.monitor) {
        await (await runtime()).stopContainer(ctx.stateDir, rec.id, { timeoutMs, signal });
        // The monitor releases the network (and removes a --rm container) before it ends.
        await (await teardown()).waitMonitorGone(ctx, rec.id, 15_000);
      } else {
        // No monitor to record the exit: signal, wait for the process, then kill.
        const runc = new (await runtime()).Runc({ root: runcRoot(ctx.stateDir) });
        await runc.kill(rec.id, signal).catch(() => undefined);
        const end = Date.now() + timeoutMs;
        while (Date.now() < end && (await liveState(ctx.stateDir, rec)).state === 'running') await sleep(50);
        if ((await liveState(ctx.stateDir, rec)).state === 'running') await runc.kill(rec.id, 'SIGKILL', { all: true }).catch(() => undefined);
      }
      await appendEvent(root, { type: 'container', action: 'stop', id: rec.id, attributes: { name: rec.name, image: rec.image } });
      return rec.id;
    },

    async restartContainer(ref, opts = {}) {
      const id = await this.stopContainer(ref, opts);
      await this.startContainer(id);
      return id;
    },

    async killContainer(ref, signal = 'SIGKILL') {
      const rec = await ctx.store.resolve(ref);
      if ((await liveState(ctx.stateDir, rec)).state !== 'running') {
        throw failedPrecondition(`cannot kill container ${rec.name}: it is not running`, { hint: 'start it first' });
      }
      const sig = /^\d+$/.test(signal) ? signal : signal.toUpperCase().startsWith('SIG') ? signal.toUpperCase() : `SIG${signal.toUpperCase()}`;
      await new (await runtime()).Runc({ root: runcRoot(ctx.stateDir) }).kill(rec.id, sig);
      await appendEvent(root, { type: 'container', action: 'kill', id: rec.id, attributes: { name: rec.name, image: rec.image, signal: sig } });
      return rec.id;
    },

    async removeContainer(ref, opts = {}) {
      const rec = await ctx.store.resolve(ref);
      const live = await liveState(ctx.stateDir, rec);
      if (live.state === 'running' && !opts.force) {
        throw failedPrecondition(`cannot remove container ${rec.name}: it is running`, { hint: `stop it first or use kiln rm -f ${rec.name}` });
      }
      await (await teardown()).destroy(ctx, rec, { ...(opts.volumes ? { volumes: true } : {}) });
      return rec.id;
    },

    async topContainer(ref, psArgs = []) {
      const rec = await ctx.store.resolve(ref);
      if ((await liveState(ctx.stateDir, rec)).state !== 'running') {
        throw failedPrecondition(`container ${rec.name} is not running`, { hint: `start it first: kiln start ${rec.name}` });
      }
      return new (await runtime()).Runc({ root: runcRoot(ctx.stateDir) }).ps(rec.id, psArgs);
    },

    async diffContainer(ref) {
      const rec = await running(ctx, ref);
      return (await import('./changes.js')).containerChanges(root, rec.id, rec.name);
    },

    async commitContainer(ref, opts = {}) {
      const rec = await running(ctx, ref);
      const [{ commitLocal }, image, images] = await Promise.all([import('./commit.js'), imageOf(rec), engine()]);
      return commitLocal(ctx, rec, image, images, opts);
    },

    async exportContainer(ref, out) {
      const rec = await running(ctx, ref);
      const { exportRoot } = await import('./changes.js');
      await pipeline(exportRoot(root, rec.id), out);
    },

    async copyFromContainer(ref, src, dest, flags) {
      return copying(ctx, ref, (root, name) => import('./copy.js').then((m) => m.copyOut(root, name, src, dest, flags)));
    },

    async copyToContainer(ref, src, dest, flags) {
      return copying(ctx, ref, (root, name) => import('./copy.js').then((m) => m.copyIn(root, name, src, dest, flags)));
    },

    async statsContainers(refs, opts = {}) {
      const recs = refs.length > 0 ? await Promise.all(refs.map((r) => ctx.store.resolve(r))) : await ctx.store.list();
      const live = await Promise.all(recs.map(async (rec) => ({ rec, live: await liveState(ctx.stateDir, rec) })));
      const shown = refs.length > 0 ? live : live.filter((l) => l.live.state === 'running');
      const { sampleStats } = await import('./stats.js');
      return sampleStats(ctx.stateDir, shown.map((l) => ({ id: l.rec.id, name: l.rec.name, pid: l.live.state === 'running' ? l.live.pid : undefined })), opts.intervalMs ?? 1000);
    },

    async renameContainer(ref, name) {
      const rec = await ctx.store.resolve(ref);
      await ctx.store.rename(rec.id, name);
      await appendEvent(root, { type: 'container', action: 'rename', id: rec.id, attributes: { name, oldName: rec.name, image: rec.image } });
      return rec.id;
    },

    async listContainers(opts = {}) {
      const all = await summaries();
      const shown = filterContainers(all, opts);
      return shown.sort((a, b) => newestFirst(a.created, b.created)).map((d): ContainerSummary => {
        const { spec: _s, args: _a, pid: _p, error: _e, restartCount: _r, ip: _i, mounts: _m, paths: _d, ...summary } = d;
        return summary;
      });
    },

    async inspectContainer(ref) {
      return detail(ctx, await ctx.store.resolve(ref));
    },

    async containerLogs(ref, out, opts = {}) {
      const rec = await ctx.store.resolve(ref);
      const isDone = async () => (await liveState(ctx.stateDir, rec)).state !== 'running';
      const { readCriLog, writeLogs } = await import('../../../runtime/logs.js');
      const entries = readCriLog(logFile(ctx, rec.id), {
        ...(opts.since !== undefined ? { since: opts.since } : {}),
        ...(opts.until !== undefined ? { until: opts.until } : {}),
        ...(opts.tail !== undefined ? { tail: opts.tail } : {}),
        follow: !!opts.follow && !(await isDone()),
        isDone,
      });
      await writeLogs(entries, out, { timestamps: !!opts.timestamps });
    },

    async execInContainer(ref, exec, attach = {}) {
      const rec = await ctx.store.resolve(ref);
      if ((await liveState(ctx.stateDir, rec)).state !== 'running') {
        throw failedPrecondition(`container ${rec.name} is not running`, { hint: `start it first: kiln start ${rec.name}` });
      }
      return (await import('../../../runtime/exec.js')).execInContainer(ctx.stateDir, rec.id, exec.args, {
        ...(exec.env ? { env: exec.env } : {}),
        ...(exec.user !== undefined ? { user: exec.user } : {}),
        ...(exec.workdir !== undefined ? { workdir: exec.workdir } : {}),
        ...(exec.tty ? { tty: true } : {}),
        ...(exec.detach ? { detach: true } : {}),
        ...attach,
      });
    },

    async waitContainer(ref) {
      const rec = await ctx.store.resolve(ref).catch(async (e: unknown) => {
        // A --rm container already gone: its full id still finds its die event.
        const code = isKilnError(e, 'NOT_FOUND') && /^[0-9a-f]{64}$/.test(ref) ? await lastDieCode(root, ref) : undefined;
        if (code === undefined) throw e;
        return code;
      });
      if (typeof rec === 'number') return rec;
      let last = rec.lastExit?.exitCode;
      const removalDeadline = Date.now() + 30_000;
      for (;;) {
        const current = await ctx.store.get(rec.id);
        // Removed meanwhile (--rm): the code its die event recorded.
        if (current === undefined) return last ?? (await lastDieCode(root, rec.id)) ?? 255;
        const live = await liveState(ctx.stateDir, current);
        if (live.exitCode !== undefined) last = live.exitCode;
        if (live.state === 'exited' && !(await monitorRunning(ctx.stateDir, rec.id))) {
          const code = live.exitCode ?? (await lastDieCode(root, rec.id)) ?? 255;
          // A --rm container: return once it is gone too (its removal may still be under way), as `docker run --rm` does.
          if (current.spec.autoRemove && Date.now() < removalDeadline) {
            last = code;
            await sleep(50);
            continue;
          }
          return code;
        }
        await sleep(50);
      }
    },

    imagesInUse: async () => usersByImage(await ctx.store.list()),

    ...localVolumes(root),
  };
}
