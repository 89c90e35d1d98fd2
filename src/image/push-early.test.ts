/**
 * A push's first request: no ping before it. The biggest blob's HEAD goes first, and the registry's answer to it
 * stands for the ping (registry/transport/transport.ts early); a re-push opens no upload session. Seen in the
 * registry's own log and storage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStore } from '../content/layout.js';
import { createRegistryClient } from '../registry/client.js';
import { startRegistry, type TestRegistry } from '../testing/registry.js';
import { storeImage, tempDir, tinyImage } from '../testing/store-fixture.js';
import { layoutImageStore } from './layout-store.js';
import { pushImage } from './push.js';
import { EARLY_WAIT_MS } from '../registry/transport/transport.js';

/** A layer of a few MiB: the image's biggest blob by far. */
const BIG = 2 << 20;

/**
 * kiln's requests as the registry's access log has them, in order: `METHOD URI STATUS`, once the log holds the
 * manifest PUTs of `pushes` pushes (the last request of each). The log comes through a pipe and the harness's write
 * stream: on a loaded machine its last lines arrive after the push returned (CI: a re-push's requests counted from
 * before the first push's manifest PUT was logged).
 */
async function requests(reg: TestRegistry, pushes: number): Promise<string[]> {
  for (const deadline = Date.now() + 10_000; ; await new Promise((r) => setTimeout(r, 25))) {
    const log = await readFile(reg.logFile, 'utf8');
    const seen = [...log.matchAll(/"([A-Z]+) (\S+) HTTP\/1\.1" (\d+) \d+ "[^"]*" "kiln\//g)].map((m) => `${m[1]} ${m[2]} ${m[3]}`);
    if (seen.filter((r) => /^PUT \S+\/manifests\/\S+ 201$/.test(r)).length >= pushes || Date.now() > deadline) return seen;
  }
}

/** A stored image whose one layer is over a MiB, tagged `name`; and a client with `creds`. */
async function setUp(t: { after(fn: () => unknown): void }, name: string, creds?: { username: string; password: string }) {
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
  const { images, img, client } = await setUp(t, name, { username, password });

  const pushed = await pushImage(images, client(), name);
  assert.equal(pushed.digest, img.manifest.digest);
  const seen = await requests(reg, 1);
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
  const { images, img, client } = await setUp(t, name);
  await pushImage(images, client(), name);
  const before = (await requests(reg, 1)).length;

  const statuses: string[] = [];
  const again = await pushImage(images, client(), name, { progress: { emit: (e) => void statuses.push(`${e.id} ${e.status}`) } });
  assert.equal(again.digest, img.manifest.digest);
  const layer = img.layers[0]!.digest;
  const seen = (await requests(reg, 2)).slice(before);
  assert.equal(seen[0], `HEAD /v2/again/app/blobs/${layer} 200`, seen.join('\n'));
  assert.ok(!seen.some((r) => /^(POST|PATCH|DELETE) /.test(r) || r.startsWith('PUT /v2/again/app/blobs/')), `no session, nothing sent:\n${seen.join('\n')}`);
  assert.ok(statuses.includes(`${layer.slice(7, 19)} Layer already exists`), statuses.join('\n'));
});

test('a registry that takes connections and never answers: the first HEAD gives up after EARLY_WAIT_MS and the ping takes over (one short wait, not a whole headers timeout more)', { timeout: 60_000 }, async (t) => {
  const t0 = Date.now();
  const connections: number[] = [];
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((s) => {
    connections.push(Date.now() - t0);
    sockets.add(s);
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
  const name = `127.0.0.1:${(silent.address() as net.AddressInfo).port}/silent/app:1`;
  const { images, client } = await setUp(t, name);
  const c = client();
  const pushing = pushImage(images, c, name).then(
    () => 'pushed',
    (e: Error) => e.message,
  );
  while (connections.length < 2 && Date.now() - t0 < 40_000) await sleep(50);
  c.close();
  assert.notEqual(await pushing, 'pushed');
  assert.ok(connections.length >= 2, `one connection only in ${Date.now() - t0} ms`);
  // the second connection is the ping's, once the early HEAD gave up (the default timeouts are 30 s and 60 s)
  assert.ok(connections[1]! >= EARLY_WAIT_MS - 500 && connections[1]! < EARLY_WAIT_MS + 10_000, `the ping came at ${connections[1]} ms`);
});
