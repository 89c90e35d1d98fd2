/**
 * The records `--cache-to` adds for BuildKit: for the chain FROM busybox,
 * ENV, WORKDIR /app, RUN, COPY f.txt ./, the digests, links and selectors
 * buildkitd v0.34.2 itself exported for that Dockerfile (keys.test.ts has
 * their origin), each result the layer chain kiln's records list.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeCacheConfig, type ExportChain } from '../cache-config.js';
import type { CacheRecord } from '../cache.js';
import type { CommittedLayer } from '../layer-commit.js';
import { addBuildkitRecords } from './export.js';
import { ROOT_SELECTOR } from './keys.js';
import type { StepOp } from './stage-chain.js';

const layer = (n: number): CommittedLayer => ({ descriptor: { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${String(n).repeat(64)}`, size: n }, diffId: `sha256:${String(n).repeat(64)}` });

test('BuildKit records follow kiln chain: base root record, ops linked with their selectors, config steps passed over, an unknown step ends it', () => {
  const chain: ExportChain = { baseKey: 'kiln:base', baseLayers: [layer(1)], steps: ['kiln:env', 'kiln:workdir', 'kiln:run', 'kiln:copy', 'kiln:mount-run', 'kiln:after'] };
  const records = new Map<string, CacheRecord>([
    ['kiln:env', { created: 't0' }],
    ['kiln:workdir', { created: 't1', layer: layer(2) }],
    ['kiln:run', { created: 't2', layer: layer(3) }],
    ['kiln:copy', { created: 't3', layer: layer(4) }],
    ['kiln:mount-run', { created: 't4', layer: layer(5) }],
    ['kiln:after', { created: 't5', layer: layer(6) }],
  ]);
  const ops = new Map<string, StepOp>([
    ['kiln:base', { record: 'sha256:c6eff6182d3e1cd31a24eb31513c8ab88ac1b50124109fb0987411cc0e80d9cb' }],
    ['kiln:workdir', { record: 'sha256:807b3e8722c68572736f54d83fd741a5b1d69ccbef218fae52b4149a56d232ce' }],
    ['kiln:run', { record: 'sha256:7561161ce2450ebf5ee94aa6eb9b3e50868d43b454699f0d9b98a00d878e40cb', selector: ROOT_SELECTOR }],
    ['kiln:copy', { record: 'sha256:ae9efd33c91a52811d9f8d49aa73503de7d45b37017c42f705a9ce5875790878', content: 'sha256:c24a47b576469b52903dd7e5045a62fee5855b447dee1771d67b829458d2c08e' }],
    ['kiln:mount-run', null],
    ['kiln:after', { record: 'sha256:adfb709952097225ad1d5f3de95cc1c327c0e274cf507aba2af1ca14ed390415', selector: ROOT_SELECTOR }],
  ]);
  const { config } = encodeCacheConfig([chain], records);
  const kilnRecords = config.records!.length;
  addBuildkitRecords(config, [chain], records, ops);
  const bk = config.records!.slice(kilnRecords);
  const at = (i: number) => kilnRecords + i;
  const layerOf = (n: number) => config.layers!.findIndex((l) => l.blob === layer(n).descriptor.digest);
  assert.deepEqual(bk, [
    { digest: 'sha256:c6eff6182d3e1cd31a24eb31513c8ab88ac1b50124109fb0987411cc0e80d9cb' },
    { digest: 'sha256:807b3e8722c68572736f54d83fd741a5b1d69ccbef218fae52b4149a56d232ce', inputs: [[{ link: at(0) }]], layers: [{ layer: layerOf(2), createdAt: 't1' }] },
    { digest: 'sha256:7561161ce2450ebf5ee94aa6eb9b3e50868d43b454699f0d9b98a00d878e40cb', inputs: [[{ selector: ROOT_SELECTOR, link: at(1) }]], layers: [{ layer: layerOf(3), createdAt: 't2' }] },
    { digest: 'sha256:c24a47b576469b52903dd7e5045a62fee5855b447dee1771d67b829458d2c08e' },
    { digest: 'sha256:ae9efd33c91a52811d9f8d49aa73503de7d45b37017c42f705a9ce5875790878', inputs: [[{ link: at(2) }], [{ link: at(3) }]], layers: [{ layer: layerOf(4), createdAt: 't3' }] },
  ]);
});
