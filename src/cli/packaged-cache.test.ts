/**
 * The packaged executable compiles its bundles with the V8 code caches made at
 * package time (scripts/sea-train.mjs, scripts/sea-loader.cjs): V8 takes them
 * for kiln's bundle and for a split's (gRPC's, which a remote command loads; containerd's API, which a containerd
 * command loads), and a cache that does not
 * fit its bundle (another bundle's, or bytes that are no cache) is rejected by
 * V8 and the command runs as without one. KILN_SEA_CACHE_REPORT=1 makes the
 * loader say, on stderr, what V8 did with each cache. kiln's own bundle is in
 * the executable's startup snapshot, compiled there with its cache.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { kilnExe, repoRoot } from '../testing/kiln.js';
import { withTempDir } from '../testing/tempdir.js';

const version = (JSON.parse(await readFile(path.join(repoRoot(), 'package.json'), 'utf8')) as { version: string }).version;

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(cmd, args, { env: { ...process.env, KILN_SEA_CACHE_REPORT: '1', ...env }, encoding: 'utf8', timeout: 60_000 });
}

/** A remote command to an agent that is not there: it loads the gRPC split, then fails in one line. */
const remoteImages = (dir: string): string[] => ['--root', path.join(dir, 'root'), '--host', `unix://${path.join(dir, 'none.sock')}`, 'images'];
const NO_AGENT = /^kiln: cannot reach the kiln agent at unix:\/\/.*none\.sock /m;

test('dist/kiln runs its bundle from the startup snapshot and takes a split bundle\'s code cache', () =>
  withTempDir(async (dir) => {
    const r = run(kilnExe(), remoteImages(dir), { HOME: dir });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^kiln: code cache kiln\.js: in the startup snapshot$/m);
    assert.match(r.stderr, /^kiln: code cache grpc\.cjs: accepted$/m);
    assert.match(r.stderr, NO_AGENT);
  }));

test('a containerd command takes the code cache of containerd\'s client bundle (its API bundle compiled at package time)', () =>
  withTempDir(async (dir) => {
    const r = run(kilnExe(), ['--root', path.join(dir, 'root'), '--backend', 'containerd', '--address', path.join(dir, 'none.sock'), 'images'], { HOME: dir });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^kiln: code cache grpc\.cjs: accepted$/m);
    assert.match(r.stderr, /^kiln: code cache containerd-api\.cjs: accepted$/m);
    assert.match(r.stderr, /^kiln: cannot reach containerd at .*none\.sock/m);
  }));

test('a code cache that does not fit its bundle is rejected and the command runs without it', () =>
  withTempDir(async (dir) => {
    // The bundles as packaged, with caches that are not theirs: gRPC's for kiln's bundle, noise for gRPC's (a remote command loads it).
    const sea = path.join(repoRoot(), 'dist', 'sea');
    const bundles = path.join(dir, 'bundles');
    const caches = path.join(dir, 'caches');
    await mkdir(bundles);
    await mkdir(caches);
    for (const f of await readdir(sea)) if (f.endsWith('.cjs') || f === 'modules.json') await copyFile(path.join(sea, f), path.join(bundles, f));
    await copyFile(path.join(sea, 'cache', 'grpc.cjs.cache'), path.join(caches, 'kiln.js.cache'));
    await writeFile(path.join(caches, 'grpc.cjs.cache'), Buffer.alloc(4096, 7));
    const env = { HOME: dir, KILN_SEA_TRAIN: caches, KILN_SEA_BUNDLE: path.join(bundles, 'kiln.cjs') };
    const loader = path.join(repoRoot(), 'scripts', 'sea-loader.cjs');
    const r = run(process.execPath, [loader, '--version'], env);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${version}\n`);
    assert.equal(r.stderr, 'kiln: code cache kiln.js: rejected\n');
    const p = run(process.execPath, [loader, ...remoteImages(dir)], env);
    assert.equal(p.status, 1);
    // The rejected cache was replaced at exit by what this run compiled, which V8 now takes.
    assert.match(p.stderr, /^kiln: code cache kiln\.js: accepted$/m);
    assert.match(p.stderr, /^kiln: code cache grpc\.cjs: rejected$/m);
    assert.match(p.stderr, NO_AGENT);
  }));
