import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startRegistry, type TestRegistry } from '../testing/registry.js';
import { freePort } from '../testing/ports.js';
import { randomBlob, readAll, streamOf, tinyImage } from '../testing/blobs.js';
import { isKilnError } from '../errors.js';
import { createRegistryClient, type RegistryClient } from './client.js';

const noCreds = { get: async () => undefined };
let reg: TestRegistry;
let client: RegistryClient;

before(async () => {
  reg = await startRegistry();
  client = createRegistryClient({ credentials: noCreds, registries: {} });
});
after(async () => {
  await client.close();
  await reg.stop();
});

test('monolithic blob push, then HEAD and GET give the same bytes', async () => {
  const repo = client.repository(reg.host, 'mono/app', ['pull', 'push']);
  const blob = randomBlob(300_000);
  assert.equal(await repo.statBlob(blob.digest), undefined);
  await repo.pushBlob(blob, async () => streamOf(blob.bytes));
  assert.equal(await repo.statBlob(blob.digest), blob.size);
  const got = await readAll(await repo.getBlob(blob.digest));
  assert.ok(got.equals(blob.bytes));
  const tail = await readAll(await repo.getBlob(blob.digest, { offset: 299_000 }));
  assert.ok(tail.equals(blob.bytes.subarray(299_000)));
});

test('chunked blob push with PATCH uploads', async () => {
  const repo = client.repository(reg.host, 'chunked/app', ['pull', 'push']);
  const blob = randomBlob(250_001);
  await repo.pushBlob(blob, async () => streamOf(blob.bytes, 7000), { chunkSize: 64 * 1024 });
  assert.equal(await repo.statBlob(blob.digest), 250_001);
  assert.ok((await readAll(await repo.getBlob(blob.digest))).equals(blob.bytes));
});

test('a blob whose bytes do not match its digest is refused with DATA_LOSS', async () => {
  const repo = client.repository(reg.host, 'bad/app', ['pull', 'push']);
  const blob = randomBlob(1000);
  const other = randomBlob(1000);
  for (const chunkSize of [512, undefined]) {
    await assert.rejects(repo.pushBlob(blob, async () => streamOf(other.bytes), { chunkSize }), (e: unknown) => {
      assert.ok(isKilnError(e, 'DATA_LOSS'));
      assert.match(e.message, new RegExp(`pushing ${reg.host}/bad/app: blob ${blob.digest} \\(1000 bytes\\) read as ${other.digest}`));
      return true;
    });
  }
  assert.equal(await repo.statBlob(blob.digest), undefined);
});

/** A forwarding proxy in front of `reg` that notes the Location of every upload session a POST opens through it. */
async function sessionRecorder(t: { after(fn: () => Promise<void>): void }) {
  const locations: string[] = [];
  const port = Number(reg.host.split(':')[1]);
  const server = http.createServer((req, res) => {
    const up = http.request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      if (req.method === 'POST' && answer.headers.location) locations.push(answer.headers.location);
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, locations };
}

test('a blob whose source fails to open after its POST went out leaves no upload session: its URL answers 404', async (t) => {
  const proxy = await sessionRecorder(t);
  const repo = client.repository(proxy.host, 'gone/app', ['pull', 'push']);
  const blob = randomBlob(1000);
  await assert.rejects(
    repo.pushBlob(blob, async () => {
      // The source fails once the registry has answered the POST (the session exists).
      for (const end = Date.now() + 30_000; proxy.locations.length === 0 && Date.now() < end; ) await sleep(10);
      throw Object.assign(new Error('source gone'), { code: 'ENOENT' });
    }),
    /source gone/,
  );
  assert.equal(proxy.locations.length, 1, 'one session was opened');
  const res = await fetch(new URL(proxy.locations[0]!, `http://${proxy.host}`));
  assert.equal(res.status, 404);
  assert.match(await res.text(), /BLOB_UPLOAD_UNKNOWN/);
  // The registry's own record: an open upload is `_uploads/<id>/startedat` (distribution's filesystem driver; a
  // cancelled one keeps only its hash states).
  const upload = path.join(reg.dir, 'storage', 'docker', 'registry', 'v2', 'repositories', 'gone', 'app', '_uploads', new URL(proxy.locations[0]!, 'http://x').pathname.split('/').at(-1)!);
  assert.deepEqual((await readdir(upload)).sort(), ['hashstates']);
});

test('cross-repository mount', async () => {
  const src = client.repository(reg.host, 'mount/src', ['pull', 'push']);
  const dst = client.repository(reg.host, 'mount/dst', ['pull', 'push']);
  const blob = randomBlob(5000);
  await src.pushBlob(blob, async () => streamOf(blob.bytes));
  assert.equal(await dst.statBlob(blob.digest), undefined);
  assert.equal(await dst.mountBlob(blob.digest, 'mount/src'), true);
  assert.equal(await dst.statBlob(blob.digest), 5000);
  assert.equal(await dst.mountBlob(randomBlob(10).digest, 'mount/src'), false);
});

test('put a manifest, then get it by tag and digest and HEAD it', async () => {
  const repo = client.repository(reg.host, 'img/app', ['pull', 'push']);
  const img = tinyImage();
  await repo.pushBlob(img.layer, async () => streamOf(img.layer.bytes));
  await repo.pushBlob(img.config, async () => streamOf(img.config.bytes));
  assert.equal(await repo.putManifest('v1', img.manifest.bytes, img.mediaType), img.manifest.digest);
  const want = { mediaType: img.mediaType, digest: img.manifest.digest, size: img.manifest.size };
  const byTag = await repo.getManifest('v1');
  assert.deepEqual(byTag.descriptor, want);
  assert.ok(byTag.bytes.equals(img.manifest.bytes));
  assert.deepEqual((await repo.getManifest(img.manifest.digest)).descriptor, want);
  assert.deepEqual(await repo.headManifest('v1'), want);
  assert.equal(await repo.headManifest('nope'), undefined);
  await assert.rejects(repo.getManifest('nope'), (e: unknown) => {
    assert.ok(isKilnError(e, 'NOT_FOUND'));
    assert.equal(e.message, `manifest for ${reg.host}/img/app:nope not found`);
    return true;
  });
});

test('a manifest with a missing blob: the registry says why', async () => {
  const repo = client.repository(reg.host, 'img/broken', ['pull', 'push']);
  const img = tinyImage();
  await assert.rejects(repo.putManifest('v1', img.manifest.bytes, img.mediaType), (e: unknown) => {
    assert.ok(isKilnError(e, 'INVALID_ARGUMENT'));
    assert.match(e.message, new RegExp(`^pushing ${reg.host}/img/broken: manifest blob unknown: blob unknown to registry`));
    return true;
  });
});

test('a registry that is down: cannot reach registry … connection refused', async () => {
  const port = await freePort();
  const repo = client.repository(`127.0.0.1:${port}`, 'foo', ['pull']);
  await assert.rejects(repo.getManifest('latest'), (e: unknown) => {
    assert.ok(isKilnError(e, 'UNAVAILABLE'));
    assert.equal(e.message, `cannot reach registry 127.0.0.1:${port}: connection refused`);
    assert.ok(e.hint);
    return true;
  });
});

test('one ping per host: what an early HEAD learned is the ping of every repository on that host, and of a later request on its own', async (t) => {
  const { readFile } = await import('node:fs/promises');
  const own = await startRegistry();
  t.after(() => own.stop());
  const c = createRegistryClient({ credentials: noCreds, registries: {} });
  t.after(() => c.close());
  const blob = randomBlob(1000);
  // The early HEAD goes first, with no ping; its answer (a registry's 404) is learned as the host's ping.
  assert.equal(await c.repository(own.host, 'first/app', ['pull', 'push']).statBlob(blob.digest), undefined);
  // Another repository on the host, and a request that is not early: both take the learned ping.
  const second = c.repository(own.host, 'second/app', ['pull', 'push']);
  assert.equal(await second.statBlob(blob.digest), undefined);
  await second.pushBlob(blob, async () => streamOf(blob.bytes));
  assert.equal(await c.repository(own.host, 'first/app', ['pull']).statBlob(blob.digest), undefined);
  const log = await readFile(own.logFile, 'utf8');
  const seen = [...log.matchAll(/"([A-Z]+) (\S+) HTTP\/1\.1" (\d+) \d+ "[^"]*" "kiln\//g)].map((m) => `${m[1]} ${m[2]} ${m[3]}`);
  assert.ok(seen.length >= 4, seen.join('\n'));
  assert.deepEqual(seen.filter((r) => r.startsWith('GET /v2/ ')), [], `no ping:\n${seen.join('\n')}`);
});
