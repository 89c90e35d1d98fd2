/** Helpers for the builder's end-to-end tests: a store with busybox imported, context dirs, leftover checks. */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { kiln, kilnOk, testCache, type RunResult } from '../testing/kiln.js';
import { Runc } from '../runtime/runc.js';

export interface BuildFixture {
  tmp: string;
  root: string;
  /** Writes files (path → content) into a fresh context dir and returns it. */
  context(files: Record<string, string>): string;
  build(args: string[], input?: string | Buffer, env?: Record<string, string>): Promise<RunResult>;
  buildOk(args: string[], input?: string | Buffer, env?: Record<string, string>): Promise<RunResult>;
  inspect(ref: string): Promise<{ Id: string; Config: Record<string, unknown>; RootFS: { Layers: string[] } }>;
  /** Asserts no mount, runc container, bundle, scratch dir, owner record or partial blob is left by the builds. */
  assertNoLeftovers(): Promise<void>;
  cleanup(): Promise<void>;
}

export async function buildFixture(prefix: string): Promise<BuildFixture> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), prefix));
  const root = path.join(tmp, 'root');
  await kilnOk(['import', path.join(testCache(), 'busybox-rootfs.tar'), 'busybox:latest'], { root });
  let n = 0;
  const fx: BuildFixture = {
    tmp,
    root,
    context(files) {
      const dir = path.join(tmp, `ctx${++n}`);
      for (const [p, content] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
        writeFileSync(path.join(dir, p), content);
      }
      mkdirSync(dir, { recursive: true });
      return dir;
    },
    build: (args, input, env) => kiln(['build', ...args], { root, ...(input !== undefined ? { input } : {}), ...(env ? { env } : {}) }),
    buildOk: (args, input, env) => kilnOk(['build', ...args], { root, ...(input !== undefined ? { input } : {}), ...(env ? { env } : {}) }),
    async inspect(ref) {
      return JSON.parse((await kilnOk(['inspect', ref], { root })).stdout)[0];
    },
    async assertNoLeftovers() {
      const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(tmp));
      assert.deepEqual(mounts, [], 'mounts left behind');
      const runcRoot = path.join(root, 'build', 'runc');
      const left = existsSync(runcRoot) ? await new Runc({ root: runcRoot }).list() : [];
      assert.deepEqual(left.map((c) => c.id), [], 'runc containers left behind');
      const ls = (p: string) => (existsSync(p) ? readdirSync(p) : []);
      assert.deepEqual(ls(path.join(root, 'build', 'containers')), [], 'container bundles left behind');
      assert.deepEqual(ls(path.join(root, 'build', 'scratch')), [], 'step scratch dirs left behind');
      assert.deepEqual(ls(path.join(root, 'mounts')), [], 'snapshot mounts left behind');
      assert.deepEqual(ls(path.join(root, 'ingest')), [], 'partial blobs left behind');
      assert.deepEqual(ls(path.join(root, 'build', 'owners')), [], 'RUN container owner records left behind');
    },
    async cleanup() {
      rmSync(tmp, { recursive: true, force: true });
    },
  };
  return fx;
}
