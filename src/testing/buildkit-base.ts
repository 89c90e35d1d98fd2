/**
 * What each test against a real buildkitd starts with: a temp dir, a
 * docker-registry, a buildkitd that trusts it (./buildkit.ts), and kiln's
 * offline busybox pushed there as `<registry>/base/busybox:1` (the FROM both
 * tools build on). `stop()` ends both and removes the dir.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startBuildkit, type BuildkitOptions, type TestBuildkit } from './buildkit.js';
import { kilnOk, testCache } from './kiln.js';
import { startRegistry, type TestRegistry } from './registry.js';

export interface BuildkitWithBase {
  tmp: string;
  reg: TestRegistry;
  bk: TestBuildkit;
  /** `<registry>/base/busybox:1`, pushed. */
  base: string;
  stop(): Promise<void>;
}

export async function startBuildkitWithBase(prefix: string, opts: BuildkitOptions = {}): Promise<BuildkitWithBase> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), prefix));
  let reg: TestRegistry | undefined;
  let bk: TestBuildkit | undefined;
  const stop = async () => {
    await bk?.stop();
    await reg?.stop();
    rmSync(tmp, { recursive: true, force: true });
  };
  try {
    reg = await startRegistry();
    bk = await startBuildkit([reg.host], opts);
    const base = `${reg.host}/base/busybox:1`;
    const seed = path.join(tmp, 'seed');
    await kilnOk(['import', path.join(testCache(), 'busybox-rootfs.tar'), base], { root: seed });
    await kilnOk(['push', base], { root: seed });
    return { tmp, reg, bk, base, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** `buildctl build` of the Dockerfile in `ctx` (plain progress) with a local output and, optionally, a cache to export (mode=max) or import: its stderr. */
export async function buildctlBuild(bk: TestBuildkit, ctx: string, opts: { out: string; exportCache?: string; importCache?: string; target?: string }): Promise<string> {
  const r = await bk.buildctl([
    'build', '--progress=plain', '--frontend', 'dockerfile.v0', '--local', `context=${ctx}`, '--local', `dockerfile=${ctx}`,
    ...(opts.target ? ['--opt', `target=${opts.target}`] : []),
    ...(opts.exportCache ? ['--export-cache', `type=local,dest=${opts.exportCache},mode=max`] : []),
    ...(opts.importCache ? ['--import-cache', opts.importCache] : []),
    '--output', `type=local,dest=${opts.out}`,
  ]);
  return r.stderr;
}
