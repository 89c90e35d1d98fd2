import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';
import { checkStore, openStore, type LocalStore } from '../../content/index.js';
import { run, sha256, storeImage, tempDir, tinyImage, type TinyImage } from '../../testing/store-fixture.js';
import { MediaType } from '../../oci/mediatypes.js';
import type { Manifest } from '../../oci/types.js';
import { loadArchive, saveArchive } from './index.js';

async function tarOf(files: { name: string; body: Buffer | string }[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const f of files) pack.entry({ name: f.name }, f.body);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function tarNames(file: string): Promise<string[]> {
  const names: string[] = [];
  const ex = tar.extract();
  createReadStream(file).pipe(ex as unknown as NodeJS.WritableStream);
  for await (const e of ex) {
    names.push(e.header.name);
    e.resume();
  }
  return names;
}

async function twoImages(store: LocalStore): Promise<{ a: TinyImage; b: TinyImage }> {
  const a = await tinyImage({ gzip: true, files: [{ 'a.txt': 'a\n' }, { 'b.txt': 'b\n' }] });
  const b = await tinyImage({ files: [{ 'c.txt': 'c\n' }] });
  await storeImage(store, a, 'docker.io/library/busybox:latest');
  await storeImage(store, b, 'localhost:5000/tools/b:v1');
  return { a, b };
}

async function saveTo(store: LocalStore, file: string, format: 'docker' | 'oci', items: { name?: string; descriptor: TinyImage['manifest'] }[]): Promise<void> {
  await saveArchive(store.content, items, createWriteStream(file), { format });
}

test('save writes a docker archive that skopeo reads, also an OCI layout inside', async (t) => {
  const dir = await tempDir(t);
  const store = await openStore(join(dir, 'store'));
  const { a, b } = await twoImages(store);
  const file = join(dir, 'images.tar');
  await saveTo(store, file, 'docker', [
    { name: 'busybox', descriptor: a.manifest },
    { name: 'docker.io/library/busybox:1.36', descriptor: a.manifest },
    { name: 'localhost:5000/tools/b:v1', descriptor: b.manifest },
  ]);
  const names = await tarNames(file);
  assert.deepEqual(names.slice(0, 6), ['oci-layout', 'index.json', 'manifest.json', 'repositories', 'blobs/', 'blobs/sha256/']);
  assert.equal(names.length, 6 + a.blobs.size + b.blobs.size);

  const inspect = await run('skopeo', ['inspect', `docker-archive:${file}:busybox:1.36`]);
  assert.equal(inspect.code, 0, inspect.stderr);
  // skopeo names docker-archive layers by their uncompressed digests (the diff_ids).
  const diffIds = (JSON.parse(a.blobs.get(a.config.digest)!.toString()) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;
  assert.deepEqual(JSON.parse(inspect.stdout).Layers, diffIds);
  const config = await run('skopeo', ['inspect', '--config', '--raw', `docker-archive:${file}:localhost:5000/tools/b:v1`]);
  assert.equal(sha256(config.stdout), b.config.digest);
  // skopeo copy reads and verifies every blob of the archive.
  const copy = await run('skopeo', ['copy', '-q', `docker-archive:${file}:busybox:latest`, `oci:${dir}/copy:x`]);
  assert.equal(copy.code, 0, copy.stderr);
  // The same archive is an OCI layout too.
  const oci = await run('skopeo', ['inspect', `oci-archive:${file}:latest`]);
  assert.equal(oci.code, 0, oci.stderr);
  assert.equal(JSON.parse(oci.stdout).Digest, a.manifest.digest);
});

test('save --format oci writes an OCI archive that skopeo reads', async (t) => {
  const dir = await tempDir(t);
  const store = await openStore(join(dir, 'store'));
  const { a, b } = await twoImages(store);
  const file = join(dir, 'oci.tar');
  await saveTo(store, file, 'oci', [
    { name: 'busybox', descriptor: a.manifest },
    { name: 'localhost:5000/tools/b:v1', descriptor: b.manifest },
  ]);
  assert.ok(!(await tarNames(file)).includes('manifest.json'));
  for (const [name, img] of [['docker.io/library/busybox:latest', a], ['localhost:5000/tools/b:v1', b]] as const) {
    const r = await run('skopeo', ['inspect', `oci-archive:${file}:${name}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).Digest, img.manifest.digest);
  }
});

test('load reads back what save wrote, in both formats, and from a gzip stream', async (t) => {
  const dir = await tempDir(t);
  const src = await openStore(join(dir, 'src'));
  const { a, b } = await twoImages(src);
  const c = await tinyImage({ files: [{ 'untagged.txt': 'u' }] });
  await storeImage(src, c);
  for (const format of ['docker', 'oci'] as const) {
    const file = join(dir, `${format}.tar`);
    await saveTo(src, file, format, [
      { name: 'busybox', descriptor: a.manifest },
      { name: 'localhost:5000/tools/b:v1', descriptor: b.manifest },
      { descriptor: b.manifest },
      { descriptor: c.manifest },
    ]);
    const dest = await openStore(join(dir, `dest-${format}`));
    const loaded = await loadArchive(dest, createReadStream(file));
    assert.deepEqual(loaded, [
      { name: 'docker.io/library/busybox:latest', descriptor: { mediaType: a.manifest.mediaType, digest: a.manifest.digest, size: a.manifest.size } },
      { name: 'localhost:5000/tools/b:v1', descriptor: b.manifest },
      { descriptor: c.manifest },
    ], format);
    assert.deepEqual((await dest.refs.list()).map((r) => r.name).sort(), ['docker.io/library/busybox:latest', 'localhost:5000/tools/b:v1']);
    assert.deepEqual(await checkStore(dest), []);
    await dest.close();
  }
  const gz = await openStore(join(dir, 'dest-gz'));
  const loaded = await loadArchive(gz, Readable.from([gzipSync(await readFile(join(dir, 'docker.tar')))]));
  assert.equal(loaded[0]!.descriptor.digest, a.manifest.digest);
});

test('load reads what skopeo copy wrote to a docker-archive, keeping the config digest', async (t) => {
  const dir = await tempDir(t);
  const src = await openStore(join(dir, 'src'));
  const { a } = await twoImages(src);
  await src.close();
  const file = join(dir, 'skopeo.tar');
  const copy = await run('skopeo', ['copy', '-q', `oci:${src.root}:docker.io/library/busybox:latest`, `docker-archive:${file}:example.com/team/app:2.0`]);
  assert.equal(copy.code, 0, copy.stderr);
  const dest = await openStore(join(dir, 'dest'));
  const loaded = await loadArchive(dest, createReadStream(file));
  assert.equal(loaded.length, 1);
  assert.equal(loaded[0]!.name, 'example.com/team/app:2.0');
  const manifest = JSON.parse((await dest.content.readBytes(loaded[0]!.descriptor.digest)).toString()) as Manifest;
  assert.equal(manifest.config.digest, a.config.digest);
  assert.equal(manifest.layers.length, 2);
  assert.deepEqual(await checkStore(dest), []);
  // And skopeo reads the loaded image back from the store.
  const r = await run('skopeo', ['inspect', '--config', '--raw', `oci:${dest.root}:example.com/team/app:2.0`]);
  assert.equal(sha256(r.stdout), a.config.digest);
});

test('load of a legacy docker archive with gzip layers and manifest.json last', async (t) => {
  const dir = await tempDir(t);
  const img = await tinyImage({ gzip: true, files: [{ 'x.txt': 'x\n' }] });
  const layer = img.blobs.get(img.layers[0]!.digest)!;
  const config = img.blobs.get(img.config.digest)!;
  const files = [
    { name: 'abc/layer.tar', body: layer },
    { name: `${img.config.digest.slice(7)}.json`, body: config },
    { name: 'manifest.json', body: JSON.stringify([{ Config: `${img.config.digest.slice(7)}.json`, RepoTags: ['app:1'], Layers: ['abc/layer.tar'] }]) },
  ];
  const store = await openStore(join(dir, 'store'));
  const loaded = await loadArchive(store, Readable.from([await tarOf(files)]));
  assert.equal(loaded[0]!.name, 'docker.io/library/app:1');
  const m = JSON.parse((await store.content.readBytes(loaded[0]!.descriptor.digest)).toString()) as Manifest;
  assert.deepEqual(m.layers, img.layers);

  // A layer whose content does not match the config's diff_id is refused, and nothing is tagged.
  const other = gzipSync(Buffer.from('not the layer the config describes'));
  const bad = await openStore(join(dir, 'bad'));
  await assert.rejects(loadArchive(bad, Readable.from([await tarOf([{ ...files[0]!, body: other }, files[1]!, files[2]!])])), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'DATA_LOSS');
    assert.match(e.message, new RegExp(`layer abc/layer.tar uncompresses to sha256:[a-f0-9]{64}, but config .* expects diff_id ${(JSON.parse(config.toString()) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids[0]}`));
    return true;
  });
  assert.deepEqual(await bad.refs.list(), []);

  // A blob whose bytes do not match its blobs/sha256 name is never stored.
  const tampered = [
    { name: 'oci-layout', body: '{"imageLayoutVersion":"1.0.0"}' },
    { name: `blobs/sha256/${img.config.digest.slice(7)}`, body: 'tampered' },
  ];
  await assert.rejects(loadArchive(bad, Readable.from([await tarOf(tampered)])), (e: Error & { code?: string }) => e.code === 'DATA_LOSS' && e.message.includes(`expected ${img.config.digest}`));
  assert.equal(await bad.content.stat(sha256('tampered')), undefined);
  await assert.rejects(loadArchive(bad, Readable.from([Buffer.from('hello, not a tar at all'.repeat(30))])), { code: 'INVALID_ARGUMENT' });
});

test('a multi-platform index: docker format picks one platform, oci format keeps the index', async (t) => {
  const dir = await tempDir(t);
  const store = await openStore(join(dir, 'store'));
  const amd = await tinyImage({ files: [{ arch: 'amd64' }] });
  const arm = await tinyImage({ files: [{ arch: 'arm64' }], arch: 'arm64' });
  await storeImage(store, amd);
  await storeImage(store, arm);
  const index = {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: [
      { ...amd.manifest, platform: { os: 'linux', architecture: 'amd64' } },
      { ...arm.manifest, platform: { os: 'linux', architecture: 'arm64' } },
    ],
  };
  const info = await store.content.writeBytes(JSON.stringify(index));
  const descriptor = { mediaType: MediaType.OciIndex, ...info };
  const file = join(dir, 'arm.tar');
  await saveArchive(store.content, [{ name: 'multi:1', descriptor }], createWriteStream(file), { platform: { os: 'linux', architecture: 'arm64' } });
  const r = await run('skopeo', ['inspect', `docker-archive:${file}`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).Architecture, 'arm64');
  await assert.rejects(
    saveArchive(store.content, [{ name: 'multi:1', descriptor }], createWriteStream(join(dir, 'x.tar')), { platform: { os: 'linux', architecture: 's390x' } }),
    (e: Error & { code?: string }) => e.code === 'NOT_FOUND' && e.message.includes(`index ${info.digest} has no manifest for linux/s390x`),
  );

  const oci = join(dir, 'multi.tar');
  await saveArchive(store.content, [{ name: 'multi:1', descriptor }], createWriteStream(oci), { format: 'oci' });
  const dest = await openStore(join(dir, 'dest'));
  assert.deepEqual(await loadArchive(dest, createReadStream(oci)), [{ name: 'docker.io/library/multi:1', descriptor }]);
  assert.deepEqual(await checkStore(dest), []);
  const copy = await run('skopeo', ['copy', '-q', '--override-arch', 'arm64', `oci-archive:${oci}:docker.io/library/multi:1`, `oci:${dir}/out:x`]);
  assert.equal(copy.code, 0, copy.stderr);
});

test('load of a docker archive whose layer is zstd-compressed checks its diff_id and keeps the zstd blob', async (t) => {
  const dir = await tempDir(t);
  const img = await tinyImage({ files: [{ 'z.txt': 'zstd\n' }] });
  const plain = img.blobs.get(img.layers[0]!.digest)!;
  const zst = execFileSync('zstd', ['-q', '-c'], { input: plain });
  const config = img.blobs.get(img.config.digest)!;
  const files = [
    { name: 'z/layer.tar', body: zst },
    { name: `${img.config.digest.slice(7)}.json`, body: config },
    { name: 'manifest.json', body: JSON.stringify([{ Config: `${img.config.digest.slice(7)}.json`, RepoTags: ['zst:1'], Layers: ['z/layer.tar'] }]) },
  ];
  const store = await openStore(join(dir, 'store'));
  const loaded = await loadArchive(store, Readable.from([await tarOf(files)]));
  assert.equal(loaded[0]!.name, 'docker.io/library/zst:1');
  const m = JSON.parse((await store.content.readBytes(loaded[0]!.descriptor.digest)).toString()) as Manifest;
  assert.equal(m.layers[0]!.digest, sha256(zst));
  assert.match(m.layers[0]!.mediaType, /zstd/);
  // The same bytes under a config that expects another diff_id are refused.
  const other = execFileSync('zstd', ['-q', '-c'], { input: Buffer.from('another layer') });
  const bad = await openStore(join(dir, 'bad'));
  await assert.rejects(loadArchive(bad, Readable.from([await tarOf([{ ...files[0]!, body: other }, files[1]!, files[2]!])])), { code: 'DATA_LOSS' });
});
