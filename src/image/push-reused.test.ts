/**
 * A push reads its layers into reused buffers (content/pooled-reader.ts, given back by the socket once written):
 * a retried upload (the source read again) and two pushes at once in one process send the right bytes. The
 * registry verifies each blob's digest as it takes it, and the blobs are read back from it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import http from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { openStore } from '../content/layout.js';
import { createRegistryClient } from '../registry/client.js';
import { startRegistry, type TestRegistry } from '../testing/registry.js';
import { storeImage, tempDir, tinyImage, type TinyImage } from '../testing/store-fixture.js';
import { layoutImageStore } from './layout-store.js';
import { pushImage } from './push.js';

/** A proxy in front of `reg` that answers 500 to the first blob PUT once it has read `after` bytes of its body. */
async function failingFirstPut(t: { after(fn: () => unknown): void }, reg: TestRegistry, after: number): Promise<{ host: string; failed: () => number }> {
  let failed = 0;
  const server = http.createServer((req, res) => {
    if (req.method === 'PUT' && req.url!.includes('/blobs/uploads/') && failed === 0) {
      failed++;
      let got = 0;
      req.on('data', (c: Buffer) => {
        got += c.length;
        if (got >= after && !res.headersSent) {
          res.writeHead(500, { 'docker-distribution-api-version': 'registry/2.0', connection: 'close' });
          res.end();
          req.socket.destroySoon();
        }
      });
      return;
    }
    const up = http.request({ host: '127.0.0.1', port: Number(reg.host.split(':')[1]), method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode!, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
  return { host: `127.0.0.1:${(server.address() as { port: number }).port}`, failed: () => failed };
}

/** This process's open files under `dir`. */
function openUnder(dir: string): string[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target.startsWith(dir) ? [target] : [];
    } catch {
      return []; // closed meanwhile (readdir's own)
    }
  });
}

/** The registry's bytes of each of the image's layers, hashed. */
async function layersAsStored(reg: TestRegistry, repo: string, img: TinyImage): Promise<string[]> {
  return Promise.all(
    img.layers.map(async (l) => {
      const res = await fetch(`${reg.url}/v2/${repo}/blobs/${l.digest}`);
      return `sha256:${createHash('sha256').update(Buffer.from(await res.arrayBuffer())).digest('hex')}`;
    }),
  );
}

/** A stored image of three layers of a few MiB (base64 of random bytes: gzip keeps ~3/4). */
async function bigImage(): Promise<TinyImage> {
  return tinyImage({ files: [{ 'a.txt': randomBytes(6 << 20).toString('base64') }, { 'b.txt': randomBytes(3 << 20).toString('base64') }, { 'c.txt': randomBytes(2 << 20).toString('base64') }], gzip: true });
}

test('a push whose first blob PUT gets a 500 midway: the layer read again from the store, the failed attempt\'s file closed, and every blob the registry keeps is the image\'s', async (t) => {
  const reg = await startRegistry();
  t.after(() => reg.stop());
  const proxy = await failingFirstPut(t, reg, 3 << 20);
  const root = await tempDir(t);
  const store = await openStore(root);
  t.after(() => store.close());
  const img = await bigImage();
  const name = `${proxy.host}/retried/app:1`;
  await storeImage(store, img, name);
  const client = createRegistryClient({ credentials: { get: async () => undefined }, registries: {}, retry: { baseDelayMs: 10 } });
  t.after(() => client.close());

  const warnings: string[] = [];
  const onWarning = (w: Error) => void warnings.push(w.message);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const pushed = await pushImage(layoutImageStore(store), client, name);
  assert.equal(pushed.digest, img.manifest.digest);
  assert.equal(proxy.failed(), 1, 'the first PUT was refused');
  // the failed attempt's file is closed with it, not left to the GC (which warns 'Closing a FileHandle object on garbage collection')
  assert.deepEqual(openUnder(`${root}/blobs/`), []);
  // and nothing left for a collection to close: one runs now, and the warning it would give is watched for
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(warnings, []);
  assert.deepEqual(await layersAsStored(reg, 'retried/app', img), img.layers.map((l) => l.digest));
});

test('two pushes at once in one process, of images sharing no layer: both complete with their own bytes', async (t) => {
  const reg = await startRegistry();
  t.after(() => reg.stop());
  const store = await openStore(await tempDir(t));
  t.after(() => store.close());
  const [one, two] = await Promise.all([bigImage(), bigImage()]);
  await storeImage(store, one, `${reg.host}/one/app:1`);
  await storeImage(store, two, `${reg.host}/two/app:1`);
  const client = createRegistryClient({ credentials: { get: async () => undefined }, registries: {} });
  t.after(() => client.close());

  const images = layoutImageStore(store);
  const [a, b] = await Promise.all([pushImage(images, client, `${reg.host}/one/app:1`), pushImage(images, client, `${reg.host}/two/app:1`)]);
  assert.deepEqual([a.digest, b.digest], [one.manifest.digest, two.manifest.digest]);
  assert.deepEqual(await layersAsStored(reg, 'one/app', one), one.layers.map((l) => l.digest));
  assert.deepEqual(await layersAsStored(reg, 'two/app', two), two.layers.map((l) => l.digest));
});
