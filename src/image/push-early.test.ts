/**
 * A push's first requests: no ping before them. The biggest blob's HEAD and its upload's POST go at once, and a
 * registry's answer to them stands for the ping (registry/transport/transport.ts early); when the registry has
 * the blob, the session that POST opened is deleted. Seen in the registry's own log and storage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { openStore } from '../content/layout.js';
import { createRegistryClient } from '../registry/client.js';
import { startRegistry, type TestRegistry } from '../testing/registry.js';
import { storeImage, tempDir, tinyImage } from '../testing/store-fixture.js';
import { layoutImageStore } from './layout-store.js';
import { HEAD_BESIDE_POST, pushImage } from './push.js';

/** kiln's requests as the registry's access log has them, in order: `METHOD URI STATUS`. */
async function requests(reg: TestRegistry): Promise<string[]> {
  const log = await readFile(reg.logFile, 'utf8');
  return [...log.matchAll(/"([A-Z]+) (\S+) HTTP\/1\.1" (\d+) \d+ "[^"]*" "kiln\//g)].map((m) => `${m[1]} ${m[2]} ${m[3]}`);
}

/** A stored image whose one layer is bigger than HEAD_BESIDE_POST, tagged `name`; and a client with `creds`. */
async function setUp(t: { after(fn: () => unknown): void }, reg: TestRegistry, name: string, creds?: { username: string; password: string }) {
  const store = await openStore(await tempDir(t));
  t.after(() => store.close());
  // base64 of random bytes: gzip leaves ~3/4 of it, still past the threshold
  const img = await tinyImage({ files: [{ 'big.txt': randomBytes(2 * HEAD_BESIDE_POST).toString('base64') }], gzip: true });
  assert.ok(img.layers[0]!.size >= HEAD_BESIDE_POST);
  await storeImage(store, img, name);
  const client = () => {
    const c = createRegistryClient({ credentials: { get: async () => creds }, registries: {} });
    t.after(() => c.close());
    return c;
  };
  return { images: layoutImageStore(store), img, client };
}

test('a push to a registry that wants a token: its first request is the layer\'s HEAD, no ping; the 401 brings the token and the push completes', async (t) => {
  const reg = await startRegistry({ auth: 'token' });
  t.after(() => reg.stop());
  const [username, password] = Object.entries(reg.users)[0]!;
  const name = `${reg.host}/early/app:1`;
  const { images, img, client } = await setUp(t, reg, name, { username, password });

  const pushed = await pushImage(images, client(), name);
  assert.equal(pushed.digest, img.manifest.digest);
  const seen = await requests(reg);
  const layer = img.layers[0]!.digest;
  assert.ok(!seen.some((r) => r.startsWith('GET /v2/ ')), `no ping:\n${seen.join('\n')}`);
  // the first requests are the layer's HEAD and POST, sent without a token, and refused; then again, with it
  const unauthorized = seen.filter((r) => r.endsWith(' 401'));
  assert.deepEqual(unauthorized.map((r) => r.split(' ')[0]).sort(), ['HEAD', 'POST'], seen.join('\n'));
  assert.ok(unauthorized.some((r) => r.startsWith(`HEAD /v2/early/app/blobs/${layer} `)));
  assert.ok(seen.includes(`HEAD /v2/early/app/blobs/${layer} 404`), `the HEAD again, authorized:\n${seen.join('\n')}`);
  assert.ok(reg.token!.requests >= 1);
  // and the image is there, as pushed
  const res = await fetch(`${reg.token!.realm}?service=kiln-test-registry&scope=repository:early/app:pull`, {
    headers: { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` },
  });
  const { token } = (await res.json()) as { token: string };
  const head = await fetch(`${reg.url}/v2/early/app/manifests/1`, { method: 'HEAD', headers: { authorization: `Bearer ${token}`, accept: img.manifest.mediaType } });
  assert.equal(head.headers.get('docker-content-digest'), img.manifest.digest);
});

test('a re-push: the HEAD finds the layer, the upload session opened beside it is deleted, nothing is sent; no upload is left in the registry', async (t) => {
  const reg = await startRegistry();
  t.after(() => reg.stop());
  const name = `${reg.host}/again/app:1`;
  const { images, img, client } = await setUp(t, reg, name);
  await pushImage(images, client(), name);
  const before = (await requests(reg)).length;

  const statuses: string[] = [];
  const again = await pushImage(images, client(), name, { progress: { emit: (e) => void statuses.push(`${e.id} ${e.status}`) } });
  assert.equal(again.digest, img.manifest.digest);
  const layer = img.layers[0]!.digest;
  const seen = (await requests(reg)).slice(before);
  assert.ok(seen.includes(`HEAD /v2/again/app/blobs/${layer} 200`), seen.join('\n'));
  assert.equal(seen.filter((r) => r.startsWith('POST ')).length, 1, `one session opened, beside the layer's HEAD:\n${seen.join('\n')}`);
  assert.ok(seen.some((r) => /^DELETE \/v2\/again\/app\/blobs\/uploads\/\S+ 204$/.test(r)), `and deleted:\n${seen.join('\n')}`);
  assert.ok(!seen.some((r) => r.startsWith('PUT /v2/again/app/blobs/') || r.startsWith('PATCH ')), 'no blob sent');
  assert.ok(statuses.includes(`${layer.slice(7, 19)} Layer already exists`), statuses.join('\n'));
  // the registry's own record: an open upload has `startedat`; a deleted one keeps only its hash states
  const uploads = path.join(reg.dir, 'storage', 'docker', 'registry', 'v2', 'repositories', 'again', 'app', '_uploads');
  for (const id of await readdir(uploads)) assert.ok(!(await readdir(path.join(uploads, id))).includes('startedat'), `upload ${id} left open`);
});
