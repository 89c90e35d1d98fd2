/**
 * A push's first request: no ping before it. The biggest blob's HEAD goes first, and the registry's answer to it
 * stands for the ping (registry/transport/transport.ts early); a re-push opens no upload session. Seen in the
 * registry's own log and storage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { openStore } from '../content/layout.js';
import { createRegistryClient } from '../registry/client.js';
import { startRegistry, type TestRegistry } from '../testing/registry.js';
import { storeImage, tempDir, tinyImage } from '../testing/store-fixture.js';
import { layoutImageStore } from './layout-store.js';
import { pushImage } from './push.js';

/** A layer of a few MiB: the image's biggest blob by far. */
const BIG = 2 << 20;

/** kiln's requests as the registry's access log has them, in order: `METHOD URI STATUS`. */
async function requests(reg: TestRegistry): Promise<string[]> {
  const log = await readFile(reg.logFile, 'utf8');
  return [...log.matchAll(/"([A-Z]+) (\S+) HTTP\/1\.1" (\d+) \d+ "[^"]*" "kiln\//g)].map((m) => `${m[1]} ${m[2]} ${m[3]}`);
}

/** A stored image whose one layer is over a MiB, tagged `name`; and a client with `creds`. */
async function setUp(t: { after(fn: () => unknown): void }, reg: TestRegistry, name: string, creds?: { username: string; password: string }) {
  const store = await openStore(await tempDir(t));
  t.after(() => store.close());
  // base64 of random bytes: gzip leaves ~3/4 of it
  const img = await tinyImage({ files: [{ 'big.txt': randomBytes(BIG).toString('base64') }], gzip: true });
  assert.ok(img.layers[0]!.size >= 1 << 20);
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
  // the first request is the layer's HEAD, sent without a token, and refused; then again, with it
  const unauthorized = seen.filter((r) => r.endsWith(' 401'));
  assert.deepEqual(unauthorized, [`HEAD /v2/early/app/blobs/${layer} 401`], seen.join('\n'));
  assert.equal(seen[0], unauthorized[0], seen.join('\n'));
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

test('a re-push: the HEAD finds the layer and no upload session is opened; the layer is said to exist', async (t) => {
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
  assert.equal(seen[0], `HEAD /v2/again/app/blobs/${layer} 200`, seen.join('\n'));
  assert.ok(!seen.some((r) => /^(POST|PATCH|DELETE) /.test(r) || r.startsWith('PUT /v2/again/app/blobs/')), `no session, nothing sent:\n${seen.join('\n')}`);
  assert.ok(statuses.includes(`${layer.slice(7, 19)} Layer already exists`), statuses.join('\n'));
});
