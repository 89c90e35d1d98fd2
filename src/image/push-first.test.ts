import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { openStore } from '../content/layout.js';
import { MediaType } from '../oci/mediatypes.js';
import type { Manifest } from '../oci/types.js';
import { createRegistryClient } from '../registry/client.js';
import { startRegistry } from '../testing/registry.js';
import { storeImage, tempDir, tinyImage } from '../testing/store-fixture.js';
import { layoutImageStore } from './layout-store.js';
import { biggestFirst } from './push-first.js';
import { pushImage } from './push.js';

const blob = (digest: string, size: number) => ({ mediaType: MediaType.OciLayerGzip, digest, size });
const manifest: Manifest = { schemaVersion: 2, mediaType: MediaType.OciManifest, config: { ...blob('sha256:c', 300), mediaType: MediaType.OciConfig }, layers: [blob('sha256:small', 1000), blob('sha256:big', 90_000_000)] };

/** Runs the config's and the small layer's turns beside the big one's; what happened, in order. */
async function turns(big: (underWay: () => void, log: string[]) => Promise<void>): Promise<string[]> {
  const turn = biggestFirst(manifest);
  const log: string[] = [];
  const small = (d: string) => turn(d, async () => void log.push(`${d} starts`));
  await Promise.allSettled([turn('sha256:big', (underWay) => big(underWay, log)), small('sha256:c'), small('sha256:small')]);
  return log;
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("the other blobs of an image start once the biggest one's upload session is open, or it needs none, or failed", async () => {
  const uploading = await turns(async (underWay, log) => {
    log.push('big POST sent');
    await tick(20);
    log.push('big session open');
    underWay();
    await tick(20);
    log.push('big done');
  });
  assert.deepEqual(uploading, ['big POST sent', 'big session open', 'sha256:c starts', 'sha256:small starts', 'big done']);

  const present = await turns(async (_underWay, log) => {
    await tick(10);
    log.push('big present (HEAD 200)');
  });
  assert.deepEqual(present, ['big present (HEAD 200)', 'sha256:c starts', 'sha256:small starts']);

  const failed = await turns(async (_underWay, log) => {
    await tick(10);
    log.push('big failed');
    throw new Error('registry down');
  });
  assert.deepEqual(failed, ['big failed', 'sha256:c starts', 'sha256:small starts']);
});

test("a push's config goes to the registry after its layer's upload session opened (the registry's log)", async (t) => {
  const reg = await startRegistry();
  t.after(() => reg.stop());
  const store = await openStore(await tempDir(t));
  t.after(() => store.close());
  const img = await tinyImage({ files: [{ 'big.txt': randomBytes(200_000).toString('base64') }], gzip: true });
  const name = `${reg.host}/first/app:1`;
  await storeImage(store, img, name);
  const client = createRegistryClient({ credentials: { get: async () => undefined }, registries: {} });
  t.after(() => client.close());

  const pushed = await pushImage(layoutImageStore(store), client, name);
  assert.equal(pushed.digest, img.manifest.digest);
  // the registry logs each request as it completes
  const lines = (await readFile(reg.logFile, 'utf8')).split('\n').filter((l) => l.includes('response completed'));
  const at = (method: string, what: string) => lines.findIndex((l) => l.includes(`http.request.method=${method}`) && l.includes(what));
  const layer = img.layers[0]!.digest;
  assert.ok(at('PUT', `digest=sha256%3A${layer.slice(7)}`) >= 0, 'the layer was uploaded');
  assert.ok(at('HEAD', img.config.digest) > at('POST', '/first/app/blobs/uploads/'), `the config's HEAD completed after the first POST:\n${lines.join('\n')}`);
  assert.ok(at('HEAD', img.config.digest) > at('HEAD', layer));
});
