import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startRegistry, type TestRegistry } from '../testing/registry.js';
import { freePort } from '../testing/ports.js';
import { readAll, streamOf, tinyImage, type TestImage } from '../testing/blobs.js';
import { tempDir, removeDir } from '../testing/tempdir.js';
import { isKilnError } from '../errors.js';
import { createRegistryClient } from './client.js';
import { loadRegistriesConfig } from './registries.js';
import { allowsHttp, apiHost, defaultEndpoint, isLoopback, pingSchemes, resolveEndpoints } from './endpoints.js';

const noCreds = { get: async () => undefined };

async function pushImage(host: string, repoPath: string, tag: string, registries = {}): Promise<TestImage> {
  const client = createRegistryClient({ credentials: noCreds, registries });
  const repo = client.repository(host, repoPath, ['pull', 'push']);
  const img = tinyImage();
  await repo.pushBlob(img.layer, async () => streamOf(img.layer.bytes));
  await repo.pushBlob(img.config, async () => streamOf(img.config.bytes));
  await repo.putManifest(tag, img.manifest.bytes, img.mediaType);
  await client.close();
  return img;
}

describe('TLS with a test CA', () => {
  let reg: TestRegistry;
  let dir: string;
  before(async () => {
    reg = await startRegistry({ tls: true, auth: 'htpasswd' });
    dir = await tempDir();
  });
  after(async () => {
    await reg.stop();
    await removeDir(dir);
  });

  test('untrusted without the CA, trusted with configs.<host>.tls.ca_file and auth from registries.yaml', async () => {
    const bare = createRegistryClient({ credentials: noCreds, registries: {} });
    await assert.rejects(bare.repository(reg.host, 'secure/app', ['pull']).getManifest('v1'), (e: unknown) => {
      assert.ok(isKilnError(e, 'FAILED_PRECONDITION'));
      assert.match(e.message, new RegExp(`^cannot reach registry ${reg.host}: TLS certificate not trusted`));
      assert.match(e.hint ?? '', /ca_file/);
      return true;
    });
    await bare.close();

    const file = path.join(dir, 'registries.yaml');
    await writeFile(
      file,
      `configs:\n  "${reg.host}":\n    tls:\n      ca_file: ${reg.caFile}\n    auth:\n      username: testuser\n      password: testpassword\n`,
    );
    const registries = await loadRegistriesConfig([file]);
    const img = await pushImage(reg.host, 'secure/app', 'v1', registries);
    const client = createRegistryClient({ credentials: noCreds, registries });
    const got = await client.repository(reg.host, 'secure/app', ['pull']).getManifest('v1');
    assert.equal(got.descriptor.digest, img.manifest.digest);
    await client.close();

    // marked insecure: no CA needed
    const insecure = createRegistryClient({ credentials: noCreds, registries: { insecure: [reg.host], configs: { [reg.host]: { auth: { username: 'testuser', password: 'testpassword' } } } } });
    assert.equal((await insecure.repository(reg.host, 'secure/app', ['pull']).headManifest('v1'))?.digest, img.manifest.digest);
    await insecure.close();
  });
});

test('mutual TLS: cert_file and key_file from registries.yaml', async () => {
  const reg = await startRegistry({ tls: true, clientCert: true });
  try {
    const withoutCert = createRegistryClient({ credentials: noCreds, registries: { configs: { [reg.host]: { tls: { ca_file: reg.caFile } } } } });
    await assert.rejects(withoutCert.repository(reg.host, 'm/app', ['pull']).headManifest('v1'), (e: unknown) => {
      assert.ok(isKilnError(e, 'UNAVAILABLE'));
      assert.match(e.message, new RegExp(`^cannot reach registry ${reg.host}: `));
      return true;
    });
    await withoutCert.close();
    const registries = { configs: { [reg.host]: { tls: { ca_file: reg.caFile, cert_file: reg.clientCertFile, key_file: reg.clientKeyFile } } } };
    const img = await pushImage(reg.host, 'm/app', 'v1', registries);
    const client = createRegistryClient({ credentials: noCreds, registries });
    assert.equal((await client.repository(reg.host, 'm/app', ['pull']).headManifest('v1'))?.digest, img.manifest.digest);
    await client.close();
  } finally {
    await reg.stop();
  }
});

describe('mirrors', () => {
  let upstream: TestRegistry;
  let mirror: TestRegistry;
  before(async () => {
    [upstream, mirror] = await Promise.all([startRegistry(), startRegistry()]);
  });
  after(() => Promise.all([upstream.stop(), mirror.stop()]));

  test('pulls go to the mirror first, with the path rewritten; pushes go upstream', async () => {
    const onMirror = await pushImage(mirror.host, 'cache/library/app', 'v1');
    const registries = {
      mirrors: { [upstream.host]: { endpoint: [`http://${mirror.host}`], rewrite: { '^library/(.*)$': 'cache/library/$1' } } },
    };
    const client = createRegistryClient({ credentials: noCreds, registries });
    const repo = client.repository(upstream.host, 'library/app', ['pull']);
    const got = await repo.getManifest('v1');
    assert.equal(got.descriptor.digest, onMirror.manifest.digest);
    assert.ok((await readAll(await repo.getBlob(onMirror.layer.digest))).equals(onMirror.layer.bytes));
    // upstream does not have it: the answer came from the mirror
    const direct = createRegistryClient({ credentials: noCreds, registries: {} });
    assert.equal(await direct.repository(upstream.host, 'library/app', ['pull']).headManifest('v1'), undefined);

    // not on the mirror: falls through to the registry itself
    const up = await pushImage(upstream.host, 'library/other', 'v2', registries);
    assert.equal((await client.repository(upstream.host, 'library/other', ['pull']).getManifest('v2')).descriptor.digest, up.manifest.digest);
    assert.equal(await direct.repository(mirror.host, 'cache/library/other', ['pull']).headManifest('v2'), undefined);
    await Promise.all([client.close(), direct.close()]);
  });

  test('a mirror that is down is skipped; when all fail the registry error is shown', async () => {
    const dead = await freePort();
    const registries = { mirrors: { [upstream.host]: { endpoint: [`http://127.0.0.1:${dead}`] } } };
    const img = await pushImage(upstream.host, 'lib/app', 'v1');
    const client = createRegistryClient({ credentials: noCreds, registries });
    assert.equal((await client.repository(upstream.host, 'lib/app', ['pull']).getManifest('v1')).descriptor.digest, img.manifest.digest);
    await assert.rejects(client.repository(upstream.host, 'lib/app', ['pull']).getManifest('v9'), new RegExp(`^KilnError: manifest for ${upstream.host}/lib/app:v9 not found$`));
    await client.close();
  });
});

test('endpoint resolution: docker.io API host, "*" mirrors, mirror URLs with paths', () => {
  assert.deepEqual(resolveEndpoints({}, 'docker.io', 'library/alpine', false), [
    { domain: 'docker.io', host: 'registry-1.docker.io', prefix: '/v2', path: 'library/alpine', mirror: false },
  ]);
  const cfg = { mirrors: { '*': { endpoint: ['https://mirror.example.com/v2/proxy', 'cache.local:5000'] } } };
  const eps = resolveEndpoints(cfg, 'quay.io', 'a/b', false);
  assert.deepEqual(
    eps.map((e) => [e.scheme, e.host, e.prefix, e.path, e.mirror]),
    [
      ['https', 'mirror.example.com', '/v2/proxy', 'a/b', true],
      [undefined, 'cache.local:5000', '/v2', 'a/b', true],
      [undefined, 'quay.io', '/v2', 'a/b', false],
    ],
  );
  assert.equal(resolveEndpoints(cfg, 'quay.io', 'a/b', true).length, 1);
});

test('plain HTTP is allowed for loopback hosts and insecure registries only', () => {
  for (const h of ['localhost', 'localhost:5000', '127.0.0.1:5000', '127.1.2.3', '[::1]:5000', '[::1]']) assert.ok(isLoopback(h), h);
  for (const h of ['example.com', '10.0.0.1:5000', '128.0.0.1', 'localhost.example.com:5000']) assert.ok(!isLoopback(h), h);
  assert.ok(allowsHttp('10.0.0.1:5000', { insecure: ['10.0.0.1:5000'] }));
  assert.ok(!allowsHttp('10.0.0.1:5000', {}));
  assert.equal(apiHost('docker.io'), 'registry-1.docker.io');
  assert.equal(apiHost('index.docker.io'), 'registry-1.docker.io');
  assert.equal(apiHost('ghcr.io'), 'ghcr.io');
});

test('ping order: loopback asked over plain HTTP first unless it has TLS settings; insecure hosts https first', () => {
  const ep = (host: string) => defaultEndpoint(host, 'a/b');
  assert.deepEqual(pingSchemes(ep('127.0.0.1:5000'), {}), ['http', 'https']);
  assert.deepEqual(pingSchemes(ep('localhost:5000'), {}), ['http', 'https']);
  assert.deepEqual(pingSchemes(ep('127.0.0.1:5000'), { configs: { '127.0.0.1:5000': { tls: { ca_file: '/ca.pem' } } } }), ['https', 'http']);
  assert.deepEqual(pingSchemes(ep('127.0.0.1:5000'), { insecure: ['127.0.0.1:5000'] }), ['https', 'http']);
  assert.deepEqual(pingSchemes(ep('10.0.0.1:5000'), { insecure: ['10.0.0.1:5000'] }), ['https', 'http']);
  assert.deepEqual(pingSchemes(ep('example.com'), {}), ['https']);
  assert.deepEqual(pingSchemes(resolveEndpoints({ mirrors: { 'example.com': { endpoint: ['http://127.0.0.1:5000'] } } }, 'example.com', 'a/b', false)[0]!, {}), ['http']);
});
