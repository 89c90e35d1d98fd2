/** Runs the built kiln CLI as a user would, for tests. */
import assert from 'node:assert/strict';
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

/** The one line a failing command printed on stderr (the assertion fails when it printed more, or none). */
export function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
  return lines[0]!;
}

/**
 * Registry timeouts kiln must not hit in a test that is not about them: a loaded CI machine (2 cores, load 8)
 * can hold a healthy answer past 1 s.
 */
export const patientRegistryEnv = { KILN_REGISTRY_CONNECT_TIMEOUT: '30s', KILN_REGISTRY_HEADERS_TIMEOUT: '30s', KILN_REGISTRY_READ_TIMEOUT: '30s' };
