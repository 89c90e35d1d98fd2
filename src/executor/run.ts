/**
 * RUN in place (`kiln executor`): the step's command runs as a child process
 * of kiln in the root the in-place snapshotter prepared — `/` itself, so no
 * mount, namespace or runc is needed — with the step's environment (HOME from
 * the user's passwd entry as Docker adds it), user and group, and working
 * directory (made when missing, as runc does). With a root other than `/`
 * (tests), the command is started through chroot(8). The step's layer is what
 * the snapshot walk finds changed afterwards.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { invalidArgument, unimplemented } from '../errors.js';
import { chainIds } from '../oci/config.js';
import { resolveInRoot } from '../layer/tar.js';
import { mergeEnv } from '../runtime/env.js';
import { readUserDb, resolveUser } from '../runtime/user.js';
import { commitMounted, type CommittedLayer } from '../builder/layer-commit.js';
import { lineSink, RunFailed, type RunDeps, type RunInput } from '../builder/run-step.js';
import { helperCommand } from '../self.js';
import type { RunAsSpec } from './run-as.js';
import { throughLoader, type OwnLoader } from './own-loader.js';

const RUN_AS = fileURLToPath(new URL('./run-as.js', import.meta.url));

/** The executable `name` names, looked up on PATH inside `root` as execvp would (in place, root is `/`). */
function lookPath(root: string, name: string, env: string[]): string {
  if (name.includes('/')) return name;
  const p = env.find((kv) => kv.startsWith('PATH='))?.slice(5) ?? '';
  for (const dir of p.split(':')) {
    const candidate = path.posix.join(dir || '.', name);
    try {
      accessSync(path.join(root, candidate), constants.X_OK);
      return candidate;
    } catch {
      /* next */
    }
  }
  throw invalidArgument(`exec: "${name}": executable file not found in $PATH`);
}

export function inPlaceRun(root: string, own?: OwnLoader): (deps: RunDeps, input: RunInput) => Promise<CommittedLayer> {
  return async (deps, input) => {
    if (input.mounts.length > 0 || (input.declaredMounts?.length ?? 0) > 0) {
      throw unimplemented(`RUN --mount (and heredocs with #!) cannot run in kiln executor: it makes no mounts`, { hint: 'use kiln build, or COPY the files in a step before' });
    }
    if (input.network === 'none') throw unimplemented('RUN --network=none cannot run in kiln executor: RUN steps share its network', { hint: 'use kiln build' });
    const id = `kiln-step-${randomBytes(6).toString('hex')}`;
    const mounted = await deps.snap.prepare(id, input.chainDir);
    let committed = false;
    try {
      const c = input.config;
      const user = resolveUser(c.User || undefined, await readUserDb(mounted.rootfs));
      const workdir = c.WorkingDir || '/';
      resolveInRoot(mounted.rootfs, workdir.split('/').filter(Boolean), { followLast: true, mkdirs: true });
      const env = mergeEnv(c.Env, input.env ?? [], { home: user.home });
      const envObj = Object.fromEntries(env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
      let file: string;
      let argv: string[];
      let ids: { uid?: number; gid?: number } = { uid: user.uid, gid: user.gid };
      // The primary group also a supplementary one, as kiln build's runc (containerd's WithAdditionalGIDs under BuildKit).
      const groups = [...new Set([user.gid, ...user.additionalGids])];
      let group = false;
      if (mounted.rootfs === '/' && groups.length > 1) {
        // Node's spawn cannot set supplementary groups: kiln's run-as helper sets them and starts the command.
        const spec: RunAsSpec = { uid: user.uid, gid: user.gid, groups, cwd: workdir, file: lookPath('/', input.args[0]!, env), argv0: input.args[0]!, args: input.args.slice(1) };
        // Through kiln's own loader and libraries: the image's /lib is not kiln's.
        const cmd = helperCommand(RUN_AS, [JSON.stringify(spec)]);
        ({ file, args: argv } = own ? throughLoader(own, cmd.file, cmd.args) : cmd);
        ids = {};
        group = true;
      } else if (mounted.rootfs === '/') {
        file = lookPath('/', input.args[0]!, env);
        argv = input.args.slice(1);
      } else {
        // Tests: a directory standing for `/`. chroot(8) enters it, sh changes to the working directory.
        file = 'chroot';
        argv = [`--userspec=${user.uid}:${user.gid}`, `--groups=${groups.join(',')}`, mounted.rootfs, '/bin/sh', '-c', 'cd -- "$0" && exec "$@"', workdir, lookPath(mounted.rootfs, input.args[0]!, env), ...input.args.slice(1)];
        ids = {};
      }
      const tail: string[] = [];
      const out = lineSink('stdout', input, tail);
      const err = lineSink('stderr', input, tail);
      input.signal?.throwIfAborted();
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn(file, argv, {
          argv0: group ? undefined : input.args[0],
          detached: group,
          cwd: mounted.rootfs === '/' ? workdir : undefined,
          env: mounted.rootfs === '/' ? envObj : { ...envObj, PATH: envObj.PATH ?? '' },
          stdio: ['ignore', 'pipe', 'pipe'],
          ...ids,
        });
        // Through the helper, the command is its child: the whole process group goes.
        const onAbort = () => (group && child.pid ? process.kill(-child.pid, 'SIGKILL') : child.kill('SIGKILL'));
        input.signal?.addEventListener('abort', onAbort, { once: true });
        child.stdout.pipe(out);
        child.stderr.pipe(err);
        child.on('error', (e) => reject(new RunFailed(127, tail, invalidArgument(`RUN ${input.args.join(' ')}: ${e.message}`))));
        child.on('close', (status, signal) => {
          input.signal?.removeEventListener('abort', onAbort);
          resolve(status ?? 128 + (signal === 'SIGKILL' ? 9 : 15));
        });
      });
      input.onStarted?.();
      input.signal?.throwIfAborted();
      if (code !== 0) throw new RunFailed(code, tail);
      const layer = (await commitMounted(deps.content, deps.snap, id, mounted, { codec: deps.codec, sourceDateEpoch: deps.sourceDateEpoch, always: true }))!;
      await deps.snap.commit(id, chainIds([...input.diffIds, layer.diffId]).pop()!);
      committed = true;
      return layer;
    } finally {
      if (!committed) await deps.snap.remove(id);
    }
  };
}
