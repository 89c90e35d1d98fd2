/**
 * For container tests: a temp kiln root with the busybox test image imported
 * as `busybox:test`, its own bridge name and subnet (so parallel tests never
 * share one), and a cleanup that fails the test when anything is left:
 * containers, mounts, runc state, network namespaces, veths, the bridge.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { kiln, kilnCommand, kilnOk, type RunResult } from './kiln.js';
import { tempDir } from './tempdir.js';
import { busyboxTar } from './runtime-fixture.js';
import { removeMasquerade } from '../runtime/masquerade.js';

export const IMAGE = 'busybox:test';

export interface ContainerFixture {
  root: string;
  bridge: string;
  subnet: string;
  k(args: string[], input?: string): Promise<RunResult>;
  ok(args: string[], input?: string): Promise<RunResult>;
  /** The command line that runs kiln with ARGS on this backend (for a terminal around it), and the environment it needs beside this process's. */
  argv(args: string[]): string[];
  env?: Record<string, string>;
  cleanup(): Promise<void>;
}

export async function containerFixture(): Promise<ContainerFixture> {
  const root = await tempDir('kiln-ctr-');
  const bridge = `kt${randomBytes(4).toString('hex')}`;
  const subnet = `10.${randomInt(200, 250)}.${randomInt(0, 256)}.0/24`;
  writeFileSync(path.join(root, 'network.json'), JSON.stringify({ bridge, subnet }));
  const k = (args: string[], input?: string) => kiln(args, { root, ...(input !== undefined ? { input } : {}) });
  const ok = (args: string[], input?: string) => kilnOk(args, { root, ...(input !== undefined ? { input } : {}) });
  await ok(['import', busyboxTar(), IMAGE]);
  return {
    root,
    bridge,
    subnet,
    k,
    ok,
    argv: (args) => {
      const cmd = kilnCommand(['--root', root, ...args]);
      return [cmd.file, ...cmd.args];
    },
    async cleanup() {
      const ids = (await k(['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean);
      if (ids.length > 0) await k(['rm', '-f', ...ids]);
      const left = (await k(['ps', '-aq'])).stdout;
      const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(root));
      const runcDir = path.join(root, 'run', 'runc');
      const runc = existsSync(runcDir) ? execFileSync('runc', ['--root', runcDir, 'list', '-q']).toString().trim() : '';
      const netns = ids.length === 0 ? [] : execFileSync('ip', ['netns', 'list']).toString().split('\n').filter((l) => ids.some((id) => l.startsWith(`kiln-${id.slice(0, 16)}`)));
      const veths = bridgeMembers(bridge);
      try {
        execFileSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
      } catch {
        // no bridge was made (no bridge-networked container ran)
      }
      // The bridge's outbound NAT rule goes with it (kiln keeps it while the bridge lives).
      await removeMasquerade({ bridge, subnet });
      await rm(root, { recursive: true, force: true });
      assert.equal(left, '', 'containers left behind');
      assert.deepEqual(mounts, [], 'mounts left behind');
      assert.equal(runc, '', 'runc containers left behind');
      assert.deepEqual(netns, [], 'network namespaces left behind');
      assert.deepEqual(veths, [], 'veths left on the bridge');
    },
  };
}

/** Interfaces enslaved to the bridge (veths of live containers). */
export function bridgeMembers(bridge: string): string[] {
  try {
    return execFileSync('ip', ['-o', 'link', 'show', 'master', bridge], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .split('\n')
      .filter(Boolean);
  } catch {
    return [];
  }
}

export async function until(what: string, check: () => Promise<boolean> | boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** A kiln command started in the background on a fixture's backend, its output collected as it comes (for a test that acts while it runs). */
export interface RunningKiln {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  /** its exit code once it has closed its output */
  exited: Promise<number | null>;
}

export function startKiln(fx: Pick<ContainerFixture, 'argv' | 'env'>, args: string[]): RunningKiln {
  const [file, ...rest] = fx.argv(args);
  const child = spawn(file!, rest, { env: { ...process.env, ...fx.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const run: RunningKiln = { child, stdout: '', stderr: '', exited: new Promise((resolve) => child.on('close', resolve)) };
  child.stdout!.on('data', (c: Buffer) => (run.stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (run.stderr += c.toString()));
  return run;
}
