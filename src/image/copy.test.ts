/** The one walk (copy.ts): what it visits, in which order, and what it answers. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MediaType } from '../oci/mediatypes.js';
import { sha256Digest } from '../oci/digest.js';
import type { Descriptor, Platform } from '../oci/types.js';
import { copyImage, walkImage, type Fetched } from './copy.js';

const docs = new Map<string, Buffer>();
function doc(mediaType: string, body: object, platform?: Platform): Descriptor {
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType, ...body }));
  docs.set(sha256Digest(bytes), bytes);
  return { mediaType, digest: sha256Digest(bytes), size: bytes.length, ...(platform ? { platform } : {}) };
}
const blob = (text: string, mediaType: string = MediaType.OciLayerGzip): Descriptor => ({ mediaType, digest: sha256Digest(text), size: text.length });
const image = (arch: string) => {
  const config = blob(`config ${arch}`, MediaType.OciConfig);
  const layers = [blob(`base ${arch}`), blob(`app ${arch}`)];
  return { config, layers, manifest: doc(MediaType.OciManifest, { config, layers }, { os: 'linux', architecture: arch }) };
};
const amd = image('amd64');
const arm = image('arm64');
const index = doc(MediaType.OciIndex, { manifests: [amd.manifest, arm.manifest] });
const fetched = (d: Descriptor): Fetched => ({ descriptor: d, bytes: docs.get(d.digest)! });
const read = async (d: Descriptor) => docs.get(d.digest)!;

test('an index: only the platform\'s manifest is walked; its config and layers go before it, it before the index', async () => {
  const seen: string[] = [];
  const r = await copyImage(fetched(index), {
    read,
    platform: { os: 'linux', architecture: 'arm64' },
    blob: async (d, kind) => (seen.push(`${kind} ${d.digest}`), true),
    document: async (d) => void seen.push(`doc ${d.digest}`),
  });
  assert.deepEqual(seen, [`config ${arm.config.digest}`, ...arm.layers.map((l) => `layer ${l.digest}`), `doc ${arm.manifest.digest}`, `doc ${index.digest}`]);
  assert.deepEqual(r.descriptor, arm.manifest, 'the index entry, platform included');
  assert.deepEqual(r.manifest.layers, arm.layers);
  assert.equal(r.copied, true);
});

test('copied is false when the destination had every blob', async () => {
  const r = await copyImage(fetched(amd.manifest), { read, blob: async () => false });
  assert.equal(r.copied, false);
  assert.equal(r.manifest.config.digest, amd.config.digest);
});

test('every: each manifest the source has is walked, children before the index; one it lacks is passed over', async () => {
  const docsSeen: string[] = [];
  const r = await walkImage(fetched(index), {
    read,
    every: { has: async (d) => d.digest === amd.manifest.digest },
    blob: async () => false,
    document: async (d) => void docsSeen.push(d.digest),
  });
  assert.deepEqual(docsSeen, [amd.manifest.digest, index.digest]);
  assert.deepEqual(r.images.map((i) => i.descriptor.digest), [amd.manifest.digest]);
});

test('a platform the index lacks is NOT_FOUND naming it; a document that is no manifest is INVALID_ARGUMENT', async () => {
  await assert.rejects(copyImage(fetched(index), { read, platform: { os: 'linux', architecture: 's390x' }, blob: async () => true }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'NOT_FOUND');
    assert.match(e.message, /s390x/);
    return true;
  });
  const bogus = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","manifests":[]}');
  await assert.rejects(copyImage({ descriptor: { mediaType: MediaType.OciManifest, digest: sha256Digest(bogus), size: bogus.length }, bytes: bogus }, { read, blob: async () => true }), { code: 'INVALID_ARGUMENT' });
});
