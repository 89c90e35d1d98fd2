/** Test helpers for the runtime tests: a busybox rootfs in a temp dir, and checks that nothing is left behind. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { runcRoot } from '../runtime/paths.js';
import { Runc } from '../runtime/runc.js';
import { repoRoot } from './root.js';

export function busyboxTar(): string {
  const cache = process.env['KILN_TEST_CACHE'] ?? '/var/cache/kiln-test';
  const tar = join(cache, 'busybox-rootfs.tar');
  if (!existsSync(tar)) execFileSync('bash', [join(repoRoot(), 'scripts/test-images.sh')], { env: { ...process.env, KILN_TEST_CACHE: cache } });
  return tar;
}

export interface RuntimeFixture {
  dir: string;
  rootfs: string;
  stateDir: string;
  /** Asserts runc has no containers, no mount under dir remains, no kiln cgroup is left, then removes dir. */
  cleanup(): Promise<void>;
}

export async function runtimeFixture(): Promise<RuntimeFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-rt-'));
  const rootfs = join(dir, 'rootfs');
  const stateDir = join(dir, 'state');
  execFileSync('mkdir', ['-p', rootfs]);
  execFileSync('tar', ['-C', rootfs, '-xf', busyboxTar()]);
  // The cached tarball records its root as 0700 (mktemp); images have 0755, which non-root users need.
  execFileSync('chmod', ['0755', rootfs]);
  return {
    dir,
    rootfs,
    stateDir,
    async cleanup() {
      const left = existsSync(runcRoot(stateDir)) ? await new Runc({ root: runcRoot(stateDir) }).list() : [];
      assert.deepEqual(left.map((c) => c.id), [], 'runc containers left behind');
      const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(dir));
      assert.deepEqual(mounts, [], 'mounts left behind');
      for (const ctl of ['pids', 'memory', 'cpu']) {
        const base = `/sys/fs/cgroup/${ctl}/kiln`;
        if (existsSync(base)) {
          const ids = (await readdir(base, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
          assert.ok(!ids.some((id) => existsSync(join(stateDir, 'containers', id))), `cgroups left in ${base}: ${ids.join(' ')}`);
        }
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
