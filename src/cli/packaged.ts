/**
 * Entry of the packaged executable (dist/kiln, bundled by scripts/package.mjs):
 * kiln's CLI, or one of its helper processes when kiln re-runs itself as
 * `kiln __kiln-helper NAME ARGS…` (src/self.ts helperCommand). Each branch is
 * loaded on demand, as the commands are in program.ts. Importing it runs
 * nothing: the loader (scripts/sea-loader.cjs) calls `dispatch` in the
 * process, and `preload` once, when the executable's startup snapshot is
 * built.
 */
import net from 'node:net';
import { Readable, Transform } from 'node:stream';
import { CONTAINERD_LOGGER_COMMAND, HELPER_COMMAND } from '../self.js';

const HELPERS: Record<string, () => Promise<unknown>> = {
  'monitor-main': () => import('../runtime/monitor-main.js'),
  'monitor-entry': () => import('../engine/local/containers/monitor-entry.js'),
  reaper: () => import('../engine/containerd/containers/reaper.js'),
  keeper: () => import('../engine/kube/containers/keeper.js'),
  'run-as': () => import('../executor/run-as.js'),
};

/** Runs what this process's command line names: a helper, containerd's log driver, or the CLI. */
export function dispatch(): Promise<unknown> {
  const [first, name] = process.argv.slice(2);
  if (first === HELPER_COMMAND && name !== undefined && Object.hasOwn(HELPERS, name)) {
    // The helper reads its own arguments from process.argv.slice(2), as under node.
    process.argv.splice(2, 2);
    return HELPERS[name]!();
  }
  if (first === CONTAINERD_LOGGER_COMMAND) {
    // The log driver under containerd's shim: `kiln __kiln-containerd-logger LOG`.
    process.argv.splice(2, 1);
    return import('../engine/containerd/containers/logger.js');
  }
  return import('./main.js');
}

/**
 * Initialises, without running anything, the modules of every command in program.ts's table but those in
 * EXCEPT, and what they import: the packaged executable's startup snapshot holds them initialised.
 */
export async function preload(except: string[]): Promise<void> {
  const { COMMANDS } = await import('./program.js');
  for (const [name, load] of Object.entries(COMMANDS)) if (!except.includes(name)) await load();
  compileAddressRegexes();
  await compileStreamPaths();
}

/**
 * What every registry request runs in node's own code, once here so the snapshot holds it compiled: a URL with a
 * query, a body read by an async iterator (each answer kiln reads whole), a Transform (the counted and hashed push
 * body). At run time a push first compiled them between its first answers and its PUT.
 */
async function compileStreamPaths(): Promise<void> {
  const url = new URL('http://127.0.0.1:5000/v2/a/blobs/uploads/b?_state=c');
  url.searchParams.set('digest', 'sha256:0');
  void url.href;
  for await (const chunk of Readable.from([Buffer.alloc(1)])) void chunk;
  // (no pipe: pipe() reads process.stdout, which belongs to the run, not the build)
  const passOn = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      this.push(chunk);
      cb();
    },
  });
  passOn.end(Buffer.alloc(1));
  for await (const chunk of passOn) void chunk;
}

/**
 * node compiles its IP address regexes at their first use: ~4 ms for the IPv6 one, which every remote
 * command runs (node's TLS connect checks the server name with it, grpc-js's channel formats addresses
 * with it). Used once here, the snapshot holds them compiled to bytecode. Once only: a second use tiers a
 * regex up to machine code, which a V8 snapshot cannot hold (the package step then aborts).
 */
function compileAddressRegexes(): void {
  net.isIPv4('127.0.0.1');
  net.isIPv6('::1');
}
