/**
 * A WORKDIR as a scratch stage's first op, read from the cache config a real
 * buildkitd v0.34.2 exported (origin: `buildctl build --frontend dockerfile.v0
 * --export-cache type=local,mode=max` of `FROM scratch / WORKDIR /w / ADD f.txt
 * ./`, f.txt = "hello\n" 0644; config and layer descriptors as written): the
 * mkdir's root record has no result, its layer is the one beneath the ADD's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Descriptor } from '../../oci/types.js';
import type { CacheConfig } from '../cache-config.js';
import { buildInstruction, parseDockerfile, type CopyInstruction } from '../../dockerfile/index.js';
import { decodeBuildkitChains } from './chains.js';
import { rootLayers } from './root-results.js';
import { SCRATCH_CHAIN, workdirOpAs } from './scratch-chain.js';
import { copyOp } from './copy-chain.js';
import { opChain } from './step.js';

const MKDIR_BLOB = 'sha256:0ed5732f39424672aada2eceb1c14a22a4960e501e07d0e18df8cd3fa635d831';
const ADD_BLOB = 'sha256:b853e98b84fc4f94d4f544c638628bd9597639fad699bb5a367444b2730cc742';
const desc = (digest: string, diffId: string, created: string): Descriptor => ({
  mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
  digest,
  size: 1,
  annotations: { 'buildkit/createdat': created, 'containerd.io/uncompressed': diffId },
});
const BLOBS = [
  desc(MKDIR_BLOB, 'sha256:da08157f77ef649aac166f227a49d0d92b121e9042132d9658b05e7d19678f4d', '2026-12-04T15:39:33.887878484Z'),
  desc(ADD_BLOB, 'sha256:5075244bc5e9fecff15d96d4a0736404a4e9eca06b70d6263dc8fd3a10b4e459', '2026-12-04T15:39:33.999305758Z'),
];
const CONFIG: CacheConfig = {
  layers: [{ blob: MKDIR_BLOB, parent: -1 }, { blob: ADD_BLOB }],
  records: [
    { layers: [{ layer: 1, createdAt: '2026-12-04T15:39:34.011461711Z' }], digest: 'sha256:70a464cfd1f778bbb1190fcec2945e31c460f6b04e3280ec7722b2f931305e3a', inputs: [[{ link: 1 }], [{ link: 2 }]] },
    { digest: 'sha256:9585ca0fc87096d919ecf6e19cc9a6d34ab8642cd0e6355c7d7f285fe57d6f9f' },
    { digest: 'sha256:c24a47b576469b52903dd7e5045a62fee5855b447dee1771d67b829458d2c08e' },
  ],
};

test("the root record of a WORKDIR first on scratch: its layer from the ADD's chain, its time the layer's; kiln's chain names find both steps", async () => {
  assert.deepEqual([...rootLayers(CONFIG)], [[1, { layer: 0, createdAt: '2026-12-04T15:39:34.011461711Z' }]]);
  const steps = decodeBuildkitChains(CONFIG, new Map(BLOBS.map((b) => [b.digest, b])), 'test');
  const wd = opChain(SCRATCH_CHAIN, workdirOpAs('/w', '', true)!.op!);
  assert.deepEqual([steps.get(wd)?.layer?.descriptor.digest, steps.get(wd)?.below, steps.get(wd)?.created], [MKDIR_BLOB, [], '2026-12-04T15:39:33.887878484Z']);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-bk-root-'));
  try {
    writeFileSync(path.join(dir, 'f.txt'), 'hello\n');
    chmodSync(path.join(dir, 'f.txt'), 0o644);
    const add = await copyOp(buildInstruction(parseDockerfile('ADD f.txt ./').nodes[0]!) as CopyInstruction, dir, '/w');
    assert.equal(add?.record, 'sha256:70a464cfd1f778bbb1190fcec2945e31c460f6b04e3280ec7722b2f931305e3a');
    assert.deepEqual(steps.get(opChain(wd, add!))?.below, [BLOBS[0]!.annotations!['containerd.io/uncompressed']]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // A root record that is a base image (its child's layer beneath is not the first of its chain) gets nothing.
  const onImage: CacheConfig = { ...CONFIG, layers: [{ blob: 'sha256:' + 'a'.repeat(64), parent: -1 }, { blob: MKDIR_BLOB, parent: 0 }, { blob: ADD_BLOB, parent: 1 }], records: [{ ...CONFIG.records![0]!, layers: [{ layer: 2, createdAt: 'x' }] }, CONFIG.records![1]!, CONFIG.records![2]!] };
  assert.equal(rootLayers(onImage).size, 0);
});
