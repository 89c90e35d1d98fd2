/**
 * A multi-platform build shares caches with a real buildkitd
 * (src/testing/buildkit.ts): BuildKit's mode=max local cache of
 * `--opt platform=linux/amd64,linux/arm64` → kiln with `--platform
 * linux/amd64,linux/arm64` on a fresh root: each platform's WORKDIR and RUN
 * CACHED (the arm64 RUN under QEMU does not run: its file is BuildKit's), and
 * kiln's export → buildkitd after `buildctl prune --all`: every step of both
 * platforms reused. Bases: Debian's busybox-static per architecture, pushed as an index.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startRegistry, type TestRegistry } from '../../testing/registry.js';
import { startBuildkit, type TestBuildkit } from '../../testing/buildkit.js';
import { kilnOk, testCache } from '../../testing/kiln.js';
import { buildctlReused, cachedSteps } from '../../testing/buildctl-steps.js';

let reg: TestRegistry;
let bk: TestBuildkit;
let tmp: string;
let ctx: string;
const bkRan: Record<string, string> = {};

const PLATFORMS = ['linux/amd64', 'linux/arm64'];
/** WORKDIR and RUN, per platform. */
const STEPS = 4;



const bkBuild = (extra: string[]) =>
  bk.buildctl(['build', '--progress=plain', '--frontend', 'dockerfile.v0', '--local', `context=${ctx}`, '--local', `dockerfile=${ctx}`, '--opt', `platform=${PLATFORMS.join(',')}`, ...extra]);

/** /app/ran of each platform's image kiln built (tagged `tag` in `root`). */
async function kilnRan(root: string, tag: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const p of PLATFORMS) out[p] = (await kilnOk(['run', '--rm', '--platform', p, tag, 'cat', '/app/ran'], { root })).stdout;
  return out;
}

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'kiln-bk-platforms-hit-'));
  reg = await startRegistry();
  bk = await startBuildkit([reg.host]);
  const root = path.join(tmp, 'root-base');
  const base = `${reg.host}/base/busybox:multi`;
  await kilnOk(['import', '--platform', 'linux/amd64', path.join(testCache(), 'busybox-rootfs.tar'), 'kiln-test/bb:amd64'], { root });
  await kilnOk(['import', '--platform', 'linux/arm64', path.join(testCache(), 'busybox-arm64-rootfs.tar'), 'kiln-test/bb:arm64'], { root });
  const baseCtx = path.join(tmp, 'base');
  mkdirSync(baseCtx);
  writeFileSync(path.join(baseCtx, 'Dockerfile'), 'ARG TARGETARCH\nFROM kiln-test/bb:${TARGETARCH}\n');
  await kilnOk(['build', '-q', '--platform', PLATFORMS.join(','), '-t', base, '--push', baseCtx], { root });
  ctx = path.join(tmp, 'app');
  mkdirSync(ctx);
  writeFileSync(
    path.join(ctx, 'Dockerfile'),
    `FROM ${base}\nARG TARGETARCH\nWORKDIR /app\nRUN uname -m > ran && echo "$TARGETARCH" >> ran && cat /proc/sys/kernel/random/uuid >> ran\n`,
  );
  const out = path.join(tmp, 'bk-out');
  await bkBuild(['--export-cache', `type=local,dest=${path.join(tmp, 'bk-cache')},mode=max`, '--output', `type=local,dest=${out}`]);
  for (const p of PLATFORMS) bkRan[p] = readFileSync(path.join(out, p.replace('/', '_'), 'app', 'ran'), 'utf8');
  assert.match(bkRan['linux/amd64']!, /^x86_64\namd64\n[0-9a-f-]{36}\n$/);
  assert.match(bkRan['linux/arm64']!, /^aarch64\narm64\n[0-9a-f-]{36}\n$/);
});

after(async () => {
  await bk?.stop();
  await reg?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

test("BuildKit's cache of a two-platform build → kiln --platform linux/amd64,linux/arm64 on a fresh root: both platforms' WORKDIR and RUN CACHED, BuildKit's files", async () => {
  const root = path.join(tmp, 'fresh');
  const r = await kilnOk(['build', '--progress=plain', '--platform', PLATFORMS.join(','), '-t', 'app:from-bk', '--cache-from', `type=local,src=${path.join(tmp, 'bk-cache')}`, ctx], { root });
  assert.equal(cachedSteps(r.stderr), STEPS, r.stderr);
  assert.deepEqual(await kilnRan(root, 'app:from-bk'), bkRan);
});

test("kiln's export of a two-platform build → buildkitd with no cache of its own: every step of both platforms reused, kiln's files", async () => {
  const root = path.join(tmp, 'kiln-writes');
  const local = path.join(tmp, 'kiln-cache');
  await kilnOk(['build', '-q', '--platform', PLATFORMS.join(','), '-t', 'app:kiln', '--cache-to', `type=local,dest=${local},mode=max`, ctx], { root });
  const kilnRanFiles = await kilnRan(root, 'app:kiln');
  assert.notDeepEqual(kilnRanFiles, bkRan, 'kiln ran its steps (no --cache-from)');
  await bk.buildctl(['prune', '--all']);
  const out = path.join(tmp, 'bk-from-kiln');
  const r = await bkBuild(['--import-cache', `type=local,src=${local}`, '--output', `type=local,dest=${out}`]);
  assert.equal(buildctlReused(r.stderr), STEPS, r.stderr);
  for (const p of PLATFORMS) assert.equal(readFileSync(path.join(out, p.replace('/', '_'), 'app', 'ran'), 'utf8'), kilnRanFiles[p], `${p}: BuildKit used kiln's layers`);
});
