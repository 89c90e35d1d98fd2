import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { startRegistry, type TestRegistry } from '../testing/registry.js';
import { readAll, streamOf, tinyImage } from '../testing/blobs.js';
import { tempDir, removeDir } from '../testing/tempdir.js';
import { createRegistryClient, type RegistryClient } from './client.js';

const run = promisify(execFile);
let reg: TestRegistry;
let dir: string;
let client: RegistryClient;

before(async () => {
  reg = await startRegistry({ auth: 'token' });
  dir = await tempDir();
  client = createRegistryClient({ credentials: { get: async () => ({ username: 'testuser', password: 'testpassword' }) }, registries: {} });
});
after(async () => {
  await client.close();
  await reg.stop();
  await removeDir(dir);
});

const blobFile = (layout: string, digest: string) => path.join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length));

test('skopeo copies what kiln pushed (chunked layer, token auth) byte for byte', async () => {
  const img = tinyImage(200_000);
  const repo = client.repository(reg.host, 'interop/kiln', ['pull', 'push']);
  await repo.pushBlob(img.layer, async () => streamOf(img.layer.bytes), { chunkSize: 50_000 });
  await repo.pushBlob(img.config, async () => streamOf(img.config.bytes));
  await repo.putManifest('v1', img.manifest.bytes, img.mediaType);
  const layout = path.join(dir, 'from-kiln');
  await run('skopeo', ['copy', '-q', '--src-tls-verify=false', '--src-creds', 'testuser:testpassword', `docker://${reg.host}/interop/kiln:v1`, `oci:${layout}:v1`]);
  assert.ok((await readFile(blobFile(layout, img.layer.digest))).equals(img.layer.bytes));
  assert.ok((await readFile(blobFile(layout, img.manifest.digest))).equals(img.manifest.bytes));
});

test('kiln reads what skopeo pushed', async () => {
  const img = tinyImage(100_000);
  const layout = path.join(dir, 'to-registry');
  await mkdir(path.join(layout, 'blobs', 'sha256'), { recursive: true });
  for (const b of [img.layer, img.config, img.manifest]) await writeFile(blobFile(layout, b.digest), b.bytes);
  await writeFile(path.join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(
    path.join(layout, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: img.mediaType, digest: img.manifest.digest, size: img.manifest.size, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }] }),
  );
  await run('skopeo', ['copy', '-q', '--dest-tls-verify=false', '--dest-creds', 'testuser:testpassword', `oci:${layout}:v1`, `docker://${reg.host}/interop/skopeo:v1`]);
  const repo = client.repository(reg.host, 'interop/skopeo', ['pull']);
  const m = await repo.getManifest('v1');
  assert.deepEqual(m.descriptor, { mediaType: img.mediaType, digest: img.manifest.digest, size: img.manifest.size });
  assert.ok((await readAll(await repo.getBlob(img.layer.digest))).equals(img.layer.bytes));
});
