/** Runs the built kiln CLI as a user would, for tests. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './root.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export { repoRoot };

export const kilnBin = (): string => path.join(repoRoot(), 'dist', 'cli', 'main.js');

/** The packaged executable `npm run package` writes (scripts/package.mjs). */
export const kilnExe = (): string => path.join(repoRoot(), 'dist', 'kiln');

/**
 * How tests start kiln: node on dist/cli/main.js, or the executable named by
 * KILN_EXE (e.g. dist/kiln) — then the same tests run against the package.
 */
export function kilnCommand(args: string[]): { file: string; args: string[] } {
  const exe = process.env.KILN_EXE;
  return exe ? { file: exe, args } : { file: process.execPath, args: [kilnBin(), ...args] };
}

/** Where scripts/test-images.sh leaves the offline base root filesystems. */
export const testCache = (): string => process.env.KILN_TEST_CACHE ?? '/var/cache/kiln-test';

export function kiln(args: string[], opts: { root: string; input?: Buffer | string; env?: Record<string, string> }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const cmd = kilnCommand(['--root', opts.root, ...args]);
    const child = spawn(cmd.file, cmd.args, {
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
    );
    child.stdin.end(opts.input ?? '');
  });
}

/** Like kiln(), but fails the test with the output when the exit code is not 0. */
export async function kilnOk(args: string[], opts: Parameters<typeof kiln>[1]): Promise<RunResult> {
  const r = await kiln(args, opts);
  if (r.code !== 0) throw new Error(`kiln ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}
