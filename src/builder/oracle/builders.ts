/**
 * Runs the two builders the oracle compares on one case: Debian's `buildah bud`
 * (runc, chroot isolation, overlay storage in its own temp root) and the built
 * kiln CLI. Each leaves its image where image.ts reads it.
 */
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { kilnBin } from '../../testing/kiln.js';

export interface RunOutcome {
  code: number;
  output: string;
}

export function run(cmd: string, args: string[], opts: { timeoutMs?: number; cwd?: string } = {}): Promise<RunOutcome> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: opts.cwd, timeout: opts.timeoutMs ?? 240_000, maxBuffer: 64 << 20, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, output: `${stdout}${stderr}`.trim() });
    });
  });
}

/** The last lines of a command's output, for a failure message. */
export const tail = (s: string, n = 15): string => s.split('\n').slice(-n).join('\n');

export interface BuildRequest {
  name: string;
  context: string;
  buildArgs: Record<string, string>;
  target?: string;
  /** The Dockerfile, relative to the context (default `Dockerfile`). */
  file?: string;
  /** `--label K=V` for both builders. */
  labels?: Record<string, string>;
  /** `--secret id=ID,src=FILE`, FILE relative to the context. */
  secrets?: Record<string, string>;
}

/** The flags both builders spell the same way. */
function commonFlags(req: BuildRequest): string[] {
  const pairs = (flag: string, o: Record<string, string> = {}): string[] => Object.entries(o).flatMap(([k, v]) => [flag, `${k}=${v}`]);
  return [
    ...pairs('--build-arg', req.buildArgs),
    ...pairs('--label', req.labels),
    ...Object.entries(req.secrets ?? {}).flatMap(([id, src]) => ['--secret', `id=${id},src=${path.join(req.context, src)}`]),
    ...(req.target ? ['--target', req.target] : []),
    '-f', path.join(req.context, req.file ?? 'Dockerfile'),
  ];
}

export interface Buildah {
  root: string;
  runroot: string;
}

export function buildahArgs(b: Buildah): string[] {
  return ['--root', b.root, '--runroot', b.runroot, '--storage-driver', 'overlay'];
}

/** `buildah bud` then `buildah push --format v2s2 … dir:OUT`; `--layers` so each step is its own layer, as Docker does. */
export async function buildahBuild(b: Buildah, req: BuildRequest, out: string): Promise<RunOutcome> {
  const tag = `localhost/oracle/${req.name}:latest`;
  const bud = await run('buildah', [
    ...buildahArgs(b),
    'bud', '--runtime', '/usr/sbin/runc', '--isolation', 'chroot', '--tls-verify=false', '--layers', '--format', 'docker',
    ...commonFlags(req),
    '-t', tag, req.context,
  ]);
  if (bud.code !== 0) return bud;
  await mkdir(path.dirname(out), { recursive: true });
  const push = await run('buildah', [...buildahArgs(b), 'push', '--disable-compression', '--format', 'v2s2', tag, `dir:${out}`]);
  return { code: push.code, output: `${bud.output}\n${push.output}` };
}

/** `kiln build -t REF` into the store at `root`. */
export function kilnBuild(root: string, req: BuildRequest, ref: string): Promise<RunOutcome> {
  return run(process.execPath, [
    kilnBin(), '--root', root, 'build', '--progress', 'plain', '-t', ref,
    ...commonFlags(req),
    req.context,
  ]);
}
