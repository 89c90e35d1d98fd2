/**
 * A real BuildKit (buildkitd + buildctl, built by scripts/buildkit-build.sh
 * and found through $KILN_TEST_BUILDKIT_DIR or its --cached answer: a test
 * never builds it) as the oracle of kiln's BuildKit-format caches: the OCI
 * worker on runc, rootful, its root and unix socket in a temp dir, host
 * network (the only traffic: the test registry on 127.0.0.1, plain HTTP).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './root.js';
import { tempDir } from './tempdir.js';

const run = promisify(execFile);

export interface TestBuildkit {
  dir: string;
  /** Runs buildctl against this daemon; rejects with its output on a non-zero exit. */
  buildctl(args: string[], opts?: { cwd?: string }): Promise<{ stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

async function binDir(): Promise<string> {
  const dir = process.env.KILN_TEST_BUILDKIT_DIR;
  if (dir) return dir;
  try {
    return (await run('bash', [path.join(repoRoot(), 'scripts', 'buildkit-build.sh'), '--cached'])).stdout.trim();
  } catch (e) {
    throw new Error((e as { stderr?: string }).stderr?.trim() || (e as Error).message);
  }
}

export interface BuildkitOptions {
  /** Entitlements a build may ask for with `--allow` (buildkitd's --allow-insecure-entitlement): network.host, security.insecure. */
  entitlements?: string[];
}

/** `registries`: HOST:PORT of plain-HTTP test registries BuildKit may pull from and push to. */
export async function startBuildkit(registries: string[], opts: BuildkitOptions = {}): Promise<TestBuildkit> {
  const bin = await binDir();
  const dir = await tempDir('kiln-buildkit-');
  const sock = path.join(dir, 'buildkitd.sock');
  const config = path.join(dir, 'buildkitd.toml');
  await writeFile(config, registries.map((r) => `[registry."${r}"]\n  http = true\n  insecure = true\n`).join('\n'));
  const logFile = path.join(dir, 'buildkitd.log');
  const log = openSync(logFile, 'a');
  const child: ChildProcess = spawn(
    path.join(bin, 'buildkitd'),
    ['--config', config, '--root', path.join(dir, 'root'), '--addr', `unix://${sock}`, '--oci-worker=true', '--containerd-worker=false', '--oci-worker-net=host', '--oci-worker-gc=false', ...(opts.entitlements ?? []).flatMap((e) => ['--allow-insecure-entitlement', e])],
    { stdio: ['ignore', log, log] },
  );
  closeSync(log);
  const buildctl = async (args: string[], opts: { cwd?: string } = {}) => {
    try {
      return await run(path.join(bin, 'buildctl'), ['--addr', `unix://${sock}`, ...args], { cwd: opts.cwd, maxBuffer: 64 << 20 });
    } catch (e) {
      const x = e as { stdout?: string; stderr?: string; message: string };
      throw new Error(`buildctl ${args.join(' ')} failed: ${x.stderr ?? x.message}`);
    }
  };
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          r(undefined);
        }, 10_000);
        child.once('exit', () => {
          clearTimeout(t);
          r(undefined);
        });
      });
    }
    // The daemon's overlay mounts go with it; anything left under its root is unmounted before removal.
    const mounts = (await readFile('/proc/mounts', 'utf8')).split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(dir + '/'));
    for (const m of mounts.sort().reverse()) await run('umount', ['-l', m]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`buildkitd exited with ${child.exitCode}:\n${await readFile(logFile, 'utf8')}`);
    if (existsSync(sock)) {
      try {
        await buildctl(['debug', 'workers']);
        break;
      } catch {
        /* not ready yet */
      }
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`buildkitd did not answer in 30s; log:\n${await readFile(logFile, 'utf8').catch(() => '')}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { dir, buildctl, stop };
}
