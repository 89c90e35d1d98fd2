/**
 * BuildKit's cache config: what kiln writes decodes back to the same steps, and
 * a config BuildKit 0.34 wrote (registry cache, mode=max, of FROM busybox /
 * WORKDIR / COPY / RUN; digests shortened to their first hex digit repeated)
 * decodes by its layer chains, with Go's omitted `parent: 0`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCacheConfig, encodeCacheConfig, UNCOMPRESSED, type CacheConfig } from './cache-config.js';
import type { CacheRecord } from './cache.js';
import type { Descriptor } from '../oci/types.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const layer = (c: string, diff: string) => ({ descriptor: { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: d(c), size: 10 }, diffId: d(diff) });

test('kiln steps encode as linked records and decode back, a step without a layer keeping its time', () => {
  const records = new Map<string, CacheRecord>([
    [d('1'), { created: '2026-01-01T00:00:01Z' }],
    [d('2'), { created: '2026-01-01T00:00:02Z', layer: layer('a', 'b') }],
    [d('3'), { created: '2026-01-01T00:00:03Z' }],
  ]);
  const { config, blobs } = encodeCacheConfig([{ baseKey: d('0'), baseLayers: [layer('c', 'd')], steps: [d('1'), d('2'), d('3')] }], records);
  assert.deepEqual(config.layers!.map((l) => [l.blob, l.parent]), [[d('c'), -1], [d('a'), 0]]);
  assert.deepEqual(config.records!.map((r) => [r.digest, r.inputs?.[0]?.[0]?.link, r.layers?.[0]?.layer]), [[d('0'), undefined, 0], [d('1'), 0, 0], [d('2'), 1, 1], [d('3'), 2, 1]]);
  assert.deepEqual(blobs.map((b) => b.annotations?.[UNCOMPRESSED]), [d('d'), d('b')]);
  const back = decodeCacheConfig(JSON.parse(JSON.stringify(config)) as CacheConfig, new Map(blobs.map((b) => [b.digest, b])), 'test');
  assert.deepEqual([...back.keys()], [d('1'), d('2'), d('3')]);
  assert.deepEqual(back.get(d('1')), { created: '2026-01-01T00:00:01Z' });
  assert.deepEqual(back.get(d('2')), records.get(d('2')));
  assert.deepEqual(back.get(d('3')), { created: '2026-01-01T00:00:03Z' });
});

test("a config BuildKit wrote decodes its single-layer steps (parent 0 omitted, as Go's omitempty does)", () => {
  // layers: 0 COPY (parent 2), 1 RUN (parent omitted = 0), 2 WORKDIR (parent 3), 3 the base
  const config: CacheConfig = {
    layers: [{ blob: d('5'), parent: 2 }, { blob: d('7') }, { blob: d('c'), parent: 3 }, { blob: d('f'), parent: -1 }],
    records: [
      { digest: d('2') }, // the base image's record: no result
      { digest: d('4'), layers: [{ layer: 0, createdAt: '2026-12-04T05:41:00.46Z' }], inputs: [[{ link: 2 }], [{ link: 4 }]] }, // COPY: the state, the context
      { digest: d('8'), layers: [{ layer: 2, createdAt: '2026-12-04T05:41:00.44Z' }], inputs: [[{ link: 0 }]] }, // WORKDIR
      { digest: d('b'), layers: [{ layer: 1, createdAt: '2026-12-04T05:41:00.56Z' }], inputs: [[{ selector: d('9'), link: 1 }]] }, // RUN
      { digest: d('d') }, // the context
    ],
  };
  const blobs = new Map<string, Descriptor>(
    ['5', '7', 'c', 'f'].map((c) => [d(c), { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: d(c), size: 1, annotations: { [UNCOMPRESSED]: d(c === 'f' ? 'e' : c === '5' ? '6' : c === '7' ? '8' : 'a') } }]),
  );
  const steps = decodeCacheConfig(config, blobs, 'test');
  // WORKDIR's parent record (the image) has no result, so its chain is not decidable from the record: left out.
  assert.deepEqual([...steps.keys()], [d('4'), d('b')]);
  assert.deepEqual(steps.get(d('b')), { created: '2026-12-04T05:41:00.56Z', layer: { descriptor: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: d('7'), size: 1 }, diffId: d('8') } });
  assert.equal(steps.get(d('4'))!.layer!.diffId, d('6'));
});

test('a cache config that is not one is a clear error', () => {
  assert.throws(() => decodeCacheConfig({ layers: 'x' } as unknown as CacheConfig, new Map(), 'REF@sha256:x'), /REF@sha256:x: not a BuildKit cache config/);
});
