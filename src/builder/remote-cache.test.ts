/**
 * Reading --cache-from locations: a hit answers its record before its layer
 * blob is stored (the download goes on in the background, once per digest),
 * and a location counts as kiln's once it answered one of kiln's own keys (a
 * BuildKit chain name found there does not count), which is when stage.ts
 * stops computing BuildKit's names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sha256Digest } from '../oci/digest.js';
import { MediaType } from '../oci/mediatypes.js';
import type { Descriptor } from '../oci/types.js';
import type { CacheRecord } from './cache.js';
import { BUILDKIT_CACHE_CONFIG, encodeCacheConfig } from './cache-config.js';
import type { CacheLocation } from './cache-location.js';
import { PendingBlobs } from './pending-blobs.js';
import { RemoteCacheSource } from './remote-cache.js';
import { noBuildProgress } from './types.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const layer = (c: string, diff: string) => ({ descriptor: { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: d(c), size: 10 }, diffId: d(diff) });

/** A location in memory holding kiln's steps (base key, then `steps`); `fetch` is the test's. */
function location(name: string, steps: [string, CacheRecord][], fetch: (desc: Descriptor) => Promise<void>): CacheLocation {
  const { config, blobs } = encodeCacheConfig([{ baseKey: d('0'), baseLayers: [layer('c', 'e')], steps: steps.map(([k]) => k) }], new Map(steps));
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDesc = { mediaType: BUILDKIT_CACHE_CONFIG, digest: sha256Digest(configBytes), size: configBytes.length };
  const root = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: configDesc, layers: blobs }));
  const nope = async (): Promise<never> => assert.fail('not written');
  return {
    name,
    readRoot: async () => ({ descriptor: { mediaType: MediaType.OciManifest, digest: sha256Digest(root), size: root.length }, bytes: root }),
    readBytes: async (desc) => (desc.digest === configDesc.digest ? configBytes : assert.fail(`read ${desc.digest}`)),
    fetch,
    push: nope,
    putBytes: nope,
    putRoot: nope,
  };
}

test("a hit answers before its layer is stored; the download runs once in the background; kiln's locations are known by their keys", async () => {
  let release!: () => void;
  const stored = new Promise<void>((r) => (release = r));
  const fetched: string[] = [];
  const kiln = location('kiln', [[d('1'), { created: '2026-01-01T00:00:01Z', layer: layer('a', 'b') }]], async (desc) => {
    fetched.push(desc.digest);
    await stored;
  });
  const other = location('other', [[d('7'), { created: '2026-01-01T00:00:07Z', layer: layer('8', '9') }]], async () => undefined);
  const both = await RemoteCacheSource.load([kiln, other], noBuildProgress);
  const pending = new PendingBlobs();
  assert.equal(both.answersOwnKeys, false);
  const hit = await both.get(d('1'), pending);
  assert.deepEqual(hit?.layer, layer('a', 'b'), 'the record, while its blob still downloads');
  assert.ok(pending.has(d('a')));
  await both.get(d('1'), pending);
  assert.equal(both.answersOwnKeys, false, 'the other location has answered none of kiln\'s keys');
  await both.get(d('7'), pending, true);
  assert.equal(both.answersOwnKeys, false, 'a BuildKit name found there does not make it kiln\'s');
  await both.get(d('7'), pending);
  assert.equal(both.answersOwnKeys, true);
  let done = false;
  const waiting = pending.wait(d('a')).then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(done, false);
  release();
  await waiting;
  assert.deepEqual(fetched, [d('a')], 'fetched once');
});
