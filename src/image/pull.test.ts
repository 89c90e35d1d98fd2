/**
 * Pull into kiln's own store through the image service: many layers fetched
 * side by side from a real registry; a download cut on every attempt (the
 * hostile fake: the real registry cannot do that) leaves a consistent store
 * whose partial layer the next pull resumes; bytes that do not verify name
 * the registry that sent them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { isKilnError } from '../errors.js';
import { checkStore, openStore, type LocalStore } from '../content/index.js';
import { createRegistryClient, type RegistryClient } from '../registry/client.js';
import { blobOf, imageOfLayer, streamOf, type TestBlob } from '../testing/blobs.js';
import { startHostileRegistry } from '../testing/hostile.js';
import { startRegistry, type TestRegistry } from '../testing/registry.js';
import { tempDir } from '../testing/store-fixture.js';
import type { ProgressEvent } from './progress.js';
import { pullImage } from './pull.js';
import type { ImageStore } from './store.js';
import { layoutImageStore } from './layout-store.js';

const noCreds = { get: async () => undefined };
let reg: TestRegistry;
let client: RegistryClient;

before(async () => {
  reg = await startRegistry();
  client = createRegistryClient({ credentials: noCreds, registries: {}, retry: { attempts: 2, baseDelayMs: 10 } });
});
after(async () => {
  await client.close();
  await reg.stop();
});

const imageStore = (store: LocalStore): ImageStore => layoutImageStore(store);

const blobFile = (store: LocalStore, digest: string): string => join(store.root, 'blobs', 'sha256', digest.slice('sha256:'.length));

/** Problems `kiln system check` would report as damage (a kept partial download is not). */
async function damage(store: LocalStore): Promise<string[]> {
  return (await checkStore(store)).filter((p) => !p.info).map((p) => p.message);
}

test('an image of 12 layers is pulled with several layers downloading at once, every layer stored byte for byte', { timeout: 120_000 }, async (t) => {
  const layers: TestBlob[] = Array.from({ length: 12 }, () => blobOf(gzipSync(randomBytes(3 << 20), { level: 0 })));
  const config = blobOf(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) }, config: {} })));
  const mediaType = 'application/vnd.oci.image.manifest.v1+json';
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.size })),
    }),
  );
  const repo = client.repository(reg.host, 'many/layers', ['pull', 'push']);
  for (const b of [config, ...layers]) await repo.pushBlob(b, async () => streamOf(b.bytes));
  await repo.putManifest('v1', manifest, mediaType);

  const store = await openStore(join(await tempDir(t), 'store'));
  const events: ProgressEvent[] = [];
  const r = await pullImage(imageStore(store), client, `${reg.host}/many/layers:v1`, { progress: { emit: (e) => events.push(e) } });
  assert.equal(r.id, config.digest);
  for (const l of layers) assert.ok((await readFile(blobFile(store, l.digest))).equals(l.bytes), `layer ${l.digest} stored as sent`);
  // What a progress display shows: several layers moving at once, never more than the pull's limit.
  const downloading = new Set<string>();
  let most = 0;
  for (const e of events) {
    if (e.status === 'Downloading') downloading.add(e.id);
    if (e.status === 'Pull complete') downloading.delete(e.id);
    most = Math.max(most, downloading.size);
  }
  assert.ok(most >= 2 && most <= 3, `layers downloading at once: ${most}`);
  assert.deepEqual(await damage(store), []);
  assert.deepEqual(await readdir(join(store.root, 'ingest')), []);
  await store.close();
});

test('a layer download cut on every attempt fails the pull with a consistent store; the next pull resumes it from its bytes on disk', { timeout: 60_000 }, async (t) => {
  const raw = randomBytes(4 << 20);
  const img = imageOfLayer(raw, gzipSync(raw, { level: 0 }));
  const half = img.layer.bytes.subarray(0, img.layer.size >> 1);
  let cut = true;
  const hostile = await startHostileRegistry({
    image: img,
    misbehave: (req, res, _n, h) => {
      if (!cut || !req.url!.endsWith(img.layer.digest)) return false;
      const headers = { 'content-type': 'application/octet-stream', 'content-length': String(img.layer.size) };
      // the first answer sends half the layer, every later one (a resume) nothing, each then reset
      const from = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
      const rest = { 'content-length': String(img.layer.size - from), 'content-range': `bytes ${from}-${img.layer.size - 1}/${img.layer.size}` };
      if (req.headers.range) h.resetAfter(res, { ...headers, ...rest }, Buffer.alloc(0), 206);
      else h.resetAfter(res, headers, half);
      return true;
    },
  });
  const store = await openStore(join(await tempDir(t), 'store'));
  try {
    const name = `${hostile.host}/foo:latest`;
    await assert.rejects(pullImage(imageStore(store), client, name), (e: unknown) => {
      assert.ok(isKilnError(e, 'UNAVAILABLE'), String(e));
      assert.match(e.message, new RegExp(`^blob ${img.layer.digest} from ${hostile.host}/foo: connection dropped 2 times`));
      return true;
    });
    assert.deepEqual(await store.refs.list(), [], 'no tag for a failed pull');
    assert.equal(await store.content.stat(img.layer.digest), undefined, 'the partial layer is not visible');
    assert.deepEqual(await damage(store), []);
    const kept = (await checkStore(store)).filter((p) => p.kind === 'resumable');
    assert.equal(kept.length, 1, 'the partial layer is kept for a resume');

    cut = false;
    hostile.log.length = 0;
    const r = await pullImage(imageStore(store), client, name);
    assert.equal(r.id, img.config.digest);
    const ranges = hostile.log.filter((l) => l.url.endsWith(img.layer.digest)).map((l) => l.range);
    assert.equal(ranges.length, 1);
    const from = Number(/^bytes=(\d+)-$/.exec(ranges[0] ?? '')?.[1]);
    // The registry resets only once the client has read what it sent (hostile.ts): the resume starts right after it.
    assert.equal(from, half.length, `resumed from byte ${from} of the ${half.length} sent before the cut`);
    assert.ok((await readFile(blobFile(store, img.layer.digest))).equals(img.layer.bytes));
    assert.deepEqual(await checkStore(store), []);
  } finally {
    await store.close();
    await hostile.stop();
  }
});

test('a layer whose bytes do not verify is refused naming the registry; nothing of it is kept', { timeout: 60_000 }, async (t) => {
  const raw = randomBytes(300_000);
  const img = imageOfLayer(raw, gzipSync(raw, { level: 0 }));
  const hostile = await startHostileRegistry({
    image: img,
    misbehave: (req, res) => {
      if (!req.url!.endsWith(img.layer.digest)) return false;
      res.writeHead(200, { 'content-length': String(img.layer.size) }).end(randomBytes(img.layer.size));
      return true;
    },
  });
  const store = await openStore(join(await tempDir(t), 'store'));
  try {
    await assert.rejects(pullImage(imageStore(store), client, `${hostile.host}/foo:latest`), (e: unknown) => {
      assert.ok(isKilnError(e, 'DATA_LOSS'), String(e));
      assert.match(e.message, new RegExp(`^blob ${img.layer.digest} from ${hostile.host}/foo hashes to sha256:[a-f0-9]{64} \\(${img.layer.size} bytes\\)$`));
      return true;
    });
    assert.equal(await store.content.stat(img.layer.digest), undefined);
    assert.deepEqual(await checkStore(store), [], 'no partial bytes kept: they were proved wrong');
  } finally {
    await store.close();
    await hostile.stop();
  }
});
