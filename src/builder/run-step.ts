/**
 * RUN: a runc container on an overlay of the parent state (upper = the
 * step's changes), with the image's env, user, workdir and shell, the
 * generated /etc/hosts and resolv.conf, and the step's RUN --mounts. The
 * upper directory, minus the mount points runc had to create, becomes the
 * layer. Whatever happens, the container and the mount are gone afterwards;
 * both are recorded with the build's process first (./owned.ts,
 * the snapshotter's mount records), so a killed build's are cleared later.
 */
import { lstatSync, readdirSync, rmdirSync, unlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { access, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { KilnError, failedPrecondition, isKilnError } from '../errors.js';
import { prepareContainer, removeContainer, runForeground, Runc, type Mount as SpecMount } from '../runtime/index.js';
import type { ContainerConfig } from '../oci/types.js';
import type { LayeredSnapshotter } from '../snapshot/overlay.js';
import { chainIds } from '../oci/config.js';
import type { ContentStore } from '../content/store.js';
import type { Codec } from '../layer/compress.js';
import { commitLayer, whileDetaching, type CommittedLayer } from './layer-commit.js';
import { claimStepContainer, releaseStepContainer } from './owned.js';

export interface RunInput {
  chainDir: string;
  /** The parent's diff IDs (the new layer's chain ID is computed from them). */
  diffIds: string[];
  /** Env (the RUN environment), User, WorkingDir. */
  config: ContainerConfig;
  args: string[];
  network: 'host' | 'none';
  addHosts?: string[];
  /** RUN --mount and heredoc files, already prepared on the host. */
  mounts: SpecMount[];
  /** The type of every --mount the RUN declares, even those that make no mount (a secret not given). */
  declaredMounts?: string[];
  /** Extra env (secret env=), kept out of the image. */
  env?: string[];
  onOutput(stream: 'stdout' | 'stderr', text: string): void;
  /** Called once the container exists with its mounts made (and at the latest when the step ends). */
  onStarted?(): void;
  /**
   * Called once the step's runc is spawned: from then on the step waits for runc (its create, the mounts, the
   * process) and this thread is free until it exits. Not called by an executor whose step runs in place.
   */
  onSpawned?(): void;
  signal?: AbortSignal;
}

export interface RunDeps {
  /** State dir for build containers (runc root and bundles). */
  stateDir: string;
  snap: LayeredSnapshotter;
  content: ContentStore;
  codec: Codec;
  sourceDateEpoch?: number;
}

/** A failed RUN: the exit code and the last lines of output, for the builder's error. */
export class RunFailed extends Error {
  constructor(
    readonly exitCode: number,
    readonly tail: string[],
    readonly startError?: KilnError,
  ) {
    super(startError ? startError.message : `exit code: ${exitCode}`);
  }
}

const TAIL = 12;

export function lineSink(stream: 'stdout' | 'stderr', input: RunInput, tail: string[]): Writable {
  let partial = '';
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      const text = chunk.toString();
      input.onOutput(stream, text);
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) {
        tail.push(l);
        if (tail.length > TAIL) tail.shift();
      }
      cb();
    },
    final(cb) {
      if (partial) {
        tail.push(partial);
        if (tail.length > TAIL) tail.shift();
      }
      cb();
    },
  });
}

export async function executeRun(deps: RunDeps, input: RunInput): Promise<CommittedLayer> {
  const id = `kiln-build-${randomBytes(6).toString('hex')}`;
  const mounted = await deps.snap.prepare(id, input.chainDir);
  let claimed = false;
  let created = false;
  let committed = false;
  try {
    if (mounted.kind !== 'overlay' || !mounted.upper) {
      throw failedPrecondition('RUN needs an overlay mount and overlayfs could not be mounted here', { hint: 'run kiln as root on a kernel with overlayfs' });
    }
    const image: ContainerConfig = { ...input.config, Env: [...(input.config.Env ?? []), ...(input.env ?? [])] };
    const before = existingPaths(mounted.rootfs, [...input.mounts.map((m) => m.destination), ...RUNC_MOUNT_POINTS]);
    await claimStepContainer(deps.stateDir, id);
    claimed = true;
    const { spec } = await prepareContainer(deps.stateDir, id, {
      rootfs: mounted.rootfs,
      image,
      options: { network: input.network, entrypoint: [], cmd: input.args, mounts: input.mounts, noNewPrivileges: false },
      ...(input.addHosts?.length ? { etc: { extraHosts: input.addHosts } } : {}),
    });
    created = true;
    // Like containerd's WithAdditionalGIDs under BuildKit: the primary group is also a supplementary group.
    const u = spec.process.user;
    if (!(u.additionalGids ?? []).includes(u.gid)) {
      u.additionalGids = [u.gid, ...(u.additionalGids ?? [])];
      await writeFile(path.join(deps.stateDir, 'containers', id, 'config.json'), JSON.stringify(spec, null, 2));
    }
    const tail: string[] = [];
    // The step's container has its mounts once runc wrote its state file, or at
    // the latest when its process first writes: the secrets' copies are unlinked
    // before any of its output is passed on (a client that saw the output of a
    // RUN never leaves a secret on a killed agent's disk).
    let started = false;
    const markStarted = (): void => {
      if (started) return;
      started = true;
      clearInterval(watch);
      input.onStarted?.();
    };
    const sinkInput: RunInput = {
      ...input,
      onOutput: (stream, text) => {
        markStarted();
        input.onOutput(stream, text);
      },
    };
    const out = lineSink('stdout', sinkInput, tail);
    const err = lineSink('stderr', sinkInput, tail);
    // Cancelled: kill the container, retrying while runc may still be creating it.
    let running = true;
    const onAbort = async () => {
      const runc = new Runc({ root: path.join(deps.stateDir, 'runc') });
      while (running) {
        await runc.kill(id, 'SIGKILL', { all: true }).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    input.signal?.throwIfAborted();
    input.signal?.addEventListener('abort', () => void onAbort(), { once: true });
    let code: number;
    // runc writes its state file once the container is created: its mounts are made by then.
    const stateFile = path.join(deps.stateDir, 'runc', id, 'state.json');
    // Checked off the main thread: a stat that waits on a busy disk must not hold up the build's other work.
    const watch: NodeJS.Timeout | undefined = input.onStarted ? setInterval(() => void access(stateFile).then(markStarted, () => undefined), 20) : undefined;
    try {
      code = await runForeground(deps.stateDir, id, { stdout: out, stderr: err, ...(input.onSpawned ? { onSpawn: input.onSpawned } : {}) });
    } catch (e) {
      if (isKilnError(e)) throw new RunFailed(e.exitCode, tail, e);
      throw e;
    } finally {
      markStarted();
      running = false;
      out.end();
      err.end();
    }
    input.signal?.throwIfAborted();
    if (code !== 0) throw new RunFailed(code, tail);
    await removeContainer(deps.stateDir, id, { force: true });
    created = false;
    removeMountPoints(mounted.upper, before, spec.mounts.map((m) => m.destination));
    const upper = mounted.upper;
    const layer = await whileDetaching(deps.snap, id, mounted, () => commitLayer(deps.content, upper, { codec: deps.codec, sourceDateEpoch: deps.sourceDateEpoch }));
    await deps.snap.commit(id, chainIds([...input.diffIds, layer.diffId]).pop()!);
    committed = true;
    return layer;
  } finally {
    if (created) await removeContainer(deps.stateDir, id, { force: true }).then(() => (created = false), () => undefined);
    // A container that could not be removed keeps its record: the next build or `kiln system prune` clears it.
    if (claimed && !created) await releaseStepContainer(deps.stateDir, id);
    if (!committed) await deps.snap.remove(id);
  }
}

/** Files runc writes into the root when missing (besides the mounts' own destinations). */
const RUNC_MOUNT_POINTS = ['/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/proc', '/sys', '/dev'];

/** Which of these image paths (and their parents) exist before the container runs. */
function existingPaths(rootfs: string, dests: string[]): Set<string> {
  const out = new Set<string>();
  for (const d of dests) {
    let rel = path.posix.normalize(d).replace(/^\/+/, '');
    while (rel !== '' && rel !== '.') {
      if (lstatSync(path.join(rootfs, rel), { throwIfNoEntry: false })) out.add(rel);
      rel = path.posix.dirname(rel);
    }
  }
  return out;
}

/**
 * runc creates the mount points it needs (/etc/hostname, /run/secrets/x, /proc on
 * a bare image…); those that were not in the image and are still empty are not
 * the step's changes, so they leave the upper dir, with their emptied parents.
 */
export function removeMountPoints(upper: string, existed: Set<string>, destinations: string[]): void {
  const inLower = (rel: string) => existed.has(rel);
  // Only real directories of the upper dir are walked: a `..` or a symlink the step made never leads outside it.
  const reachable = (rel: string): boolean => {
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) if (!lstatSync(path.join(upper, ...parts.slice(0, i)), { throwIfNoEntry: false })?.isDirectory()) return false;
    return true;
  };
  for (const dest of [...destinations].sort((a, b) => b.length - a.length)) {
    let rel = path.posix.normalize(`/${dest}`).replace(/^\/+/, '');
    while (rel !== '' && rel !== '.' && reachable(rel)) {
      const p = path.join(upper, rel);
      const st = lstatSync(p, { throwIfNoEntry: false });
      if (!st || inLower(rel)) break;
      if (st.isDirectory()) {
        if (readdirSync(p).length > 0) break;
        rmdirSync(p);
      } else if (st.isFile() && st.size === 0) unlinkSync(p);
      else break;
      rel = path.posix.dirname(rel);
    }
  }
}
