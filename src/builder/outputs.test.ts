/**
 * `kiln build` outputs as buildx spells them, against a real docker-registry:
 * --push, -o type=registry / type=image,push=true (build and push in one go),
 * --metadata-file with BuildKit's keys, and -o type=tar / oci (files read back).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startRegistry, type TestRegistry } from '../testing/registry.js';
import { buildFixture, type BuildFixture } from './test-support.js';

let fx: BuildFixture;
let reg: TestRegistry;
let ctx: string;
before(async () => {
  [fx, reg] = await Promise.all([buildFixture('kiln-outputs-'), startRegistry()]);
  ctx = fx.context({ Dockerfile: 'FROM busybox\nCOPY hello.txt /hello.txt\nRUN echo ran > /ran\n', 'hello.txt': 'hello\n' });
});
after(async () => {
  await reg?.stop();
  await fx?.assertNoLeftovers();
  await fx?.cleanup();
});

/** The manifest the registry serves for repo:tag: its digest and size, or undefined on 404. */
async function served(repo: string, tag: string): Promise<{ digest: string; size: number } | undefined> {
  const res = await fetch(`${reg.url}/v2/${repo}/manifests/${tag}`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
  if (res.status === 404) return undefined;
  assert.equal(res.status, 200);
  const body = Buffer.from(await res.arrayBuffer());
  return { digest: `sha256:${createHash('sha256').update(body).digest('hex')}`, size: body.length };
}

let n = 0;
async function build(args: string[], env?: Record<string, string>) {
  const meta = path.join(fx.tmp, `meta${++n}.json`);
  const r = await fx.buildOk(['-q', '--metadata-file', meta, ...args, ctx], undefined, env);
  return { id: r.stdout.trim(), meta: JSON.parse(readFileSync(meta, 'utf8')) as Record<string, unknown> };
}

test('--push -t REG/NAME: built and pushed in one go; --metadata-file has BuildKit keys naming what the registry serves', async () => {
  const name = `${reg.host}/app:1`;
  const { id, meta } = await build(['--push', '-t', name]);
  const got = await served('app', '1');
  assert.ok(got, 'the registry has app:1');
  assert.deepEqual(Object.keys(meta).sort(), ['containerimage.config.digest', 'containerimage.descriptor', 'containerimage.digest', 'image.name']);
  assert.equal(meta['containerimage.digest'], got.digest);
  assert.equal(meta['containerimage.config.digest'], id);
  assert.deepEqual(meta['containerimage.descriptor'], { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: got.digest, size: got.size });
  assert.equal(meta['image.name'], name);
});

test('-o type=registry,name=… and type=image,"name=a,b",push=true push those names; push=false only stores', async () => {
  const two = await build(['-o', `type=registry,name=${reg.host}/app:2`]);
  assert.equal((await served('app', '2'))?.digest, two.meta['containerimage.digest']);
  assert.equal(two.meta['image.name'], `${reg.host}/app:2`);
  assert.equal((await fx.inspect(`${reg.host}/app:2`)).Id, two.id, 'the image is stored too');

  const both = await build(['-o', `type=image,"name=${reg.host}/app:3,${reg.host}/other:3",push=true`]);
  assert.equal((await served('app', '3'))?.digest, both.meta['containerimage.digest']);
  assert.equal((await served('other', '3'))?.digest, both.meta['containerimage.digest']);
  assert.equal(both.meta['image.name'], `${reg.host}/app:3,${reg.host}/other:3`);

  const local = await build(['-o', `type=image,name=${reg.host}/app:4`]);
  assert.equal(await served('app', '4'), undefined, 'not pushed without push=true');
  assert.equal((await fx.inspect(`${reg.host}/app:4`)).Id, local.id);

  const unnamed = await build([]);
  assert.equal(unnamed.meta['image.name'], undefined, 'no image.name for an image without a name');
});

test('-o type=registry with no name, and an unknown output type: one line, non-zero exit', async () => {
  const r = await fx.build(['-q', '-o', 'type=registry', ctx]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /-o type=registry: nothing to push: no name/);
  assert.equal(r.stderr.trim().split('\n').length <= 2, true, r.stderr);
  const u = await fx.build(['-q', '-o', 'type=cacheonly,dest=x', ctx]);
  assert.notEqual(u.code, 0);
  assert.match(u.stderr, /unknown output type cacheonly/);
});

test('-o type=tar and type=local are the filesystem (every time SOURCE_DATE_EPOCH); -o type=oci names the same manifest as the metadata', async () => {
  const tar = path.join(fx.tmp, 'fs.tar');
  const oci = path.join(fx.tmp, 'img.oci.tar');
  const local = path.join(fx.tmp, 'fs-dir');
  const { meta } = await build(['-o', `type=tar,dest=${tar}`, '-o', `type=oci,dest=${oci}`, '-o', `type=local,dest=${local}`, '-t', 'tarred:1'], { SOURCE_DATE_EPOCH: '1000000000' });
  const listing = execFileSync('tar', ['-tvf', tar, '--full-time', '--numeric-owner'], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } }).split('\n').filter(Boolean);
  const names = listing.map((l) => l.split(/\s+/).at(-1)!);
  for (const want of ['bin/busybox', 'hello.txt', 'ran', 'etc/']) assert.ok(names.includes(want), `${want} in the filesystem tar`);
  assert.ok(!names.includes('manifest.json') && !names.includes('index.json'), 'a filesystem, not an image archive');
  assert.deepEqual([...new Set(listing.map((l) => l.split(/\s+/).slice(3, 5).join(' ')))], ['2001-09-09 01:46:40'], 'every file time is the epoch');
  for (const f of ['hello.txt', 'ran', 'bin', 'bin/busybox']) assert.equal(lstatSync(path.join(local, f)).mtimeMs, 1e12, `${f} in -o type=local has the epoch as its time`);
  assert.equal(execFileSync('tar', ['-xOf', tar, 'hello.txt'], { encoding: 'utf8' }), 'hello\n');
  const index = JSON.parse(execFileSync('tar', ['-xOf', oci, 'index.json'], { encoding: 'utf8' })) as { manifests: { digest: string }[] };
  assert.equal(index.manifests[0]!.digest, meta['containerimage.digest']);
});

test('-o type=oci|docker,compression=zstd|gzip|uncompressed: the archive\'s layers in that codec, the same image ID; other codecs are one line (estargz: output-estargz.test.ts)', async () => {
  const magic = (b: Buffer) => (b[0] === 0x1f && b[1] === 0x8b ? 'gzip' : b.readUInt32LE(0) === 0xfd2fb528 ? 'zstd' : b.subarray(257, 262).toString() === 'ustar' ? 'none' : 'unknown');
  const file = (tarPath: string, name: string) => execFileSync('tar', ['-xOf', tarPath, name], { maxBuffer: 256 << 20 });
  for (const [codec, want, type] of [['zstd', 'zstd', 'oci'], ['gzip', 'gzip', 'oci'], ['uncompressed', 'none', 'oci'], ['gzip', 'gzip', 'docker']] as const) {
    const out = path.join(fx.tmp, `c-${codec}-${type}.tar`);
    const { id } = await build(['-o', `type=${type},dest=${out},compression=${codec}`]);
    if (type === 'oci') {
      const index = JSON.parse(file(out, 'index.json').toString()) as { manifests: { digest: string }[] };
      const manifest = JSON.parse(file(out, `blobs/sha256/${index.manifests[0]!.digest.slice(7)}`).toString()) as { config: { digest: string }; layers: { mediaType: string; digest: string }[] };
      assert.equal(manifest.config.digest, id, `${codec}: the same config`);
      for (const l of manifest.layers) {
        assert.equal(magic(file(out, `blobs/sha256/${l.digest.slice(7)}`)), want, `${codec}: ${l.digest}`);
        assert.match(l.mediaType, want === 'none' ? /layer\.v1\.tar$/ : new RegExp(`\\+${want}$`));
      }
    } else {
      const m = JSON.parse(file(out, 'manifest.json').toString()) as { Layers: string[] }[];
      for (const l of m[0]!.Layers) assert.equal(magic(file(out, l)), want, `docker archive ${l}`);
    }
  }
  for (const [spec, msg] of [
    ['type=oci,dest=/tmp/x.tar,compression=lz4', /compression=lz4: use gzip, zstd, estargz or uncompressed/],
    ['type=registry,name=x/y:1,compression=zstd', /compression=zstd: kiln stores a build's layers uncompressed and pushes them gzip-compressed/],
  ] as const) {
    const r = await fx.build(['-q', '-o', spec, ctx]);
    assert.equal(r.code, 1);
    assert.match(r.stderr.trim(), msg);
  }
});
