/**
 * Starts Debian's containerd for a test with everything of its own: a temp
 * root, state directory, gRPC/ttrpc sockets and a generated config (the CRI
 * plugin on, runc at /usr/sbin/runc as the runtime, overlayfs as the
 * snapshotter, no TCP listener, no network use). Several can run at once.
 * `stop()` ends its shims and containerd, unmounts what it left under its dir
 * and removes the dir.
 */
import { spawn, execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { removeDir, tempDir } from './tempdir.js';
import { mountsUnder } from '../util/mountinfo.js';
import { containerdConfigHead } from './containerd-config.js';

const run = promisify(execFile);
export const CONTAINERD_BIN = process.env.KILN_TEST_CONTAINERD_BIN ?? '/usr/bin/containerd';
export const CTR_BIN = process.env.KILN_TEST_CTR_BIN ?? '/usr/bin/ctr';
export const RUNC_BIN = process.env.KILN_TEST_RUNC_BIN ?? '/usr/sbin/runc';

export interface TestContainerd {
  /** The gRPC unix socket path. */
  address: string;
  dir: string;
  root: string;
  state: string;
  logFile: string;
  /** Runs `ctr --address SOCK -n NAMESPACE args…`; resolves with stdout, rejects with stderr on failure. */
  ctr(args: string[], opts?: { namespace?: string; timeoutMs?: number }): Promise<string>;
  /** Kills containerd (SIGKILL), keeping its root and state, as a crash would. */
  crash(): Promise<void>;
  /** Starts containerd again on the same root, state and socket (after crash(), or kills it first). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function config(dir: string): string {
  const q = (s: string) => JSON.stringify(s);
  return containerdConfigHead(dir, '\n[debug]\n  level = "debug"\n') + `  [plugins."io.containerd.gc.v1.scheduler"]
    startup_delay = "100ms"
  [plugins."io.containerd.grpc.v1.cri"]
    disable_tcp_service = true
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = ${q(path.join(dir, 'cni'))}
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          BinaryName = ${q(RUNC_BIN)}
          Root = ${q(path.join(dir, 'state', 'runc'))}
`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Shim processes serving this containerd (their command line names its socket). */
async function shimsOf(address: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = (await readFile(`/proc/${name}/cmdline`, 'utf8')).split('\0');
      if (argv[0]?.includes('containerd-shim') && argv.includes(address)) pids.push(Number(name));
    } catch {
      // the process ended meanwhile
    }
  }
  return pids;
}

/** One containerd process on dir's config, its output appended to logFile; resolves once it serves (and the CRI follows events). */
async function launch(dir: string, address: string, logFile: string, ctr: TestContainerd['ctr']) {
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(CONTAINERD_BIN, ['--config', path.join(dir, 'config.toml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const from = (await readFile(logFile, 'utf8').catch(() => '')).length;
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    log.end();
  };
  try {
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`containerd exited with ${child.exitCode}:\n${await readFile(logFile, 'utf8')}`);
      const text = (await readFile(logFile, 'utf8').catch(() => '')).slice(from);
      // "Start event monitor": the CRI plugin now follows image events.
      if (text.includes('containerd successfully booted') && text.includes('Start event monitor')) {
        await ctr(['version'], { timeoutMs: 10_000 });
        break;
      }
      if (Date.now() > deadline) throw new Error(`containerd at ${address} did not boot in 20s; log ${logFile}`);
      await sleep(50);
    }
  } catch (e) {
    await end('SIGKILL');
    throw e;
  }
  return { end };
}

export async function startContainerd(): Promise<TestContainerd> {
  const dir = await tempDir('kiln-ctd-');
  const address = path.join(dir, 'containerd.sock');
  const logFile = path.join(dir, 'containerd.log');
  await mkdir(path.join(dir, 'cni'));
  await writeFile(path.join(dir, 'config.toml'), config(dir));

  const ctr = async (args: string[], opts: { namespace?: string; timeoutMs?: number } = {}) => {
    try {
      const { stdout } = await run(CTR_BIN, ['--address', address, '-n', opts.namespace ?? 'k8s.io', ...args], { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 << 20 });
      return stdout;
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`ctr ${args.join(' ')}: ${err.stderr?.trim() || err.message}`);
    }
  };

  let current: Awaited<ReturnType<typeof launch>> | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const pid of await shimsOf(address)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await current?.end('SIGTERM');
    for (const m of await mountsUnder(dir)) await run('umount', ['-l', m]).catch(() => undefined);
    if (!process.env.KILN_KEEP_TEST_DIRS) await removeDir(dir);
  };
  const crash = async () => {
    await current?.end('SIGKILL');
    current = undefined;
  };
  const restart = async () => {
    await crash();
    current = await launch(dir, address, logFile, ctr);
  };

  try {
    current = await launch(dir, address, logFile, ctr);
  } catch (e) {
    await stop();
    throw e;
  }
  return { address, dir, root: path.join(dir, 'root'), state: path.join(dir, 'state'), logFile, ctr, stop, crash, restart };
}
