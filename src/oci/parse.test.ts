import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MediaType } from './mediatypes.js';
import { parseConfig, parseImageManifest, parseIndex, parseManifest } from './parse.js';

const dg = (c: string): string => 'sha256:' + c.repeat(64);
const layer = { mediaType: MediaType.OciLayerGzip, digest: dg('b'), size: 10 };
const manifest = { schemaVersion: 2, mediaType: MediaType.OciManifest, config: { mediaType: MediaType.OciConfig, digest: dg('a'), size: 5 }, layers: [layer] };
const index = {
  schemaVersion: 2,
  mediaType: MediaType.DockerManifestList,
  manifests: [{ mediaType: MediaType.DockerManifest, digest: dg('c'), size: 7, platform: { architecture: 'arm', os: 'linux', variant: 'v7' } }],
};
const j = (o: unknown): string => JSON.stringify(o);

test('parses the four kinds by mediaType', () => {
  const m = parseManifest(j(manifest));
  assert.equal(m.kind, 'manifest');
  assert.equal(m.mediaType, MediaType.OciManifest);
  assert.deepEqual(parseImageManifest(j(manifest)).layers, [layer]);
  const d = parseManifest(j({ ...manifest, mediaType: MediaType.DockerManifest }), MediaType.DockerManifest);
  assert.equal(d.mediaType, MediaType.DockerManifest);
  const ix = parseManifest(Buffer.from(j(index)), `${MediaType.DockerManifestList}; charset=utf-8`);
  assert.equal(ix.kind, 'index');
  assert.equal(parseIndex(j(index)).manifests[0]!.platform!.variant, 'v7');
  assert.equal(parseManifest(j({ ...index, mediaType: MediaType.OciIndex })).mediaType, MediaType.OciIndex);
});

test('detects the kind from the shape when mediaType is absent', () => {
  const { mediaType: _a, ...m } = manifest;
  const { mediaType: _b, ...ix } = index;
  assert.equal(parseManifest(j(m)).kind, 'manifest');
  assert.equal(parseManifest(j(m)).mediaType, MediaType.OciManifest);
  assert.equal(parseManifest(j(ix)).kind, 'index');
  assert.equal(parseManifest(j(ix)).mediaType, MediaType.OciIndex);
  // a claimed type fills in when the bytes carry none
  assert.equal(parseManifest(j(m), MediaType.DockerManifest).mediaType, MediaType.DockerManifest);
});

test('rejects invalid documents with a precise reason', () => {
  assert.throws(() => parseManifest('{'), /manifest: not JSON/);
  assert.throws(() => parseManifest('[]'), /not a JSON object/);
  assert.throws(() => parseManifest(j({ ...manifest, schemaVersion: 1 })), /schemaVersion must be 2, got 1/);
  assert.throws(() => parseManifest(j({ ...manifest, mediaType: 'application/vnd.docker.distribution.manifest.v1+json' })), /schema 1 is not supported/);
  assert.throws(() => parseManifest(j(manifest), MediaType.DockerManifest), /media type is "application\/vnd.oci.image.manifest.v1\+json" but "application\/vnd.docker.distribution.manifest.v2\+json" was claimed/);
  assert.throws(() => parseManifest(j({ ...manifest, layers: [{ ...layer, digest: 'sha256:abc' }] })), /manifest layers\[0\]\.digest: invalid digest "sha256:abc"/);
  assert.throws(() => parseManifest(j({ ...manifest, layers: [{ ...layer, size: -1 }] })), /layers\[0\]: "size" must be a non-negative integer, got -1/);
  assert.throws(() => parseManifest(j({ ...manifest, layers: [{ ...layer, size: 1.5 }] })), /non-negative integer/);
  assert.throws(() => parseManifest(j({ ...manifest, config: undefined })), /"config" is missing/);
  assert.throws(() => parseManifest(j({ ...manifest, layers: {} })), /"layers" must be an array/);
  assert.throws(() => parseManifest(j({ ...index, layers: [] })), /must not have "config" or "layers"/);
  assert.throws(() => parseImageManifest(j(index)), /expected an image manifest, got an index/);
  assert.throws(() => parseIndex(j(manifest)), /expected an index/);
  assert.throws(() => parseManifest(j({ ...index, manifests: [{ ...index.manifests[0], platform: { os: 'linux' } }] })), /manifests\[0\]\.platform: "architecture" must be a non-empty string/);
  assert.throws(() => parseManifest(j({ ...manifest, annotations: { a: 1 } })), /annotations: value of "a" is not a string/);
});

test('parses and validates image configs', () => {
  const cfg = { architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [dg('d')] } };
  assert.deepEqual(parseConfig(j(cfg)).rootfs.diff_ids, [dg('d')]);
  assert.throws(() => parseConfig(j({ ...cfg, os: undefined })), /image config: "os" must be a non-empty string/);
  assert.throws(() => parseConfig(j({ ...cfg, rootfs: { type: 'x', diff_ids: [] } })), /rootfs.type must be "layers"/);
  assert.throws(() => parseConfig(j({ ...cfg, rootfs: { type: 'layers', diff_ids: ['x'] } })), /rootfs.diff_ids\[0\]: invalid digest "x"/);
  assert.throws(() => parseConfig(j({ ...cfg, config: { Cmd: 'sh' } })), /config.Cmd must be an array of strings/);
});
