import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { startRegistry, type TestRegistry } from '../testing/registry.js';
import { streamOf, tinyImage } from '../testing/blobs.js';
import { tempDir, removeDir } from '../testing/tempdir.js';
import { isKilnError } from '../errors.js';
import { createRegistryClient } from './client.js';
import { DockerConfigCredentials } from './credentials.js';
import { login, logout } from './login.js';

const run = promisify(execFile);
let reg: TestRegistry;
let dir: string;
let img: ReturnType<typeof tinyImage>;

before(async () => {
  reg = await startRegistry({ auth: 'htpasswd', users: { carol: 's3cret:with:colons' } });
  dir = await tempDir();
  img = tinyImage();
  const client = createRegistryClient({ credentials: { get: async () => ({ username: 'carol', password: 's3cret:with:colons' }) }, registries: {} });
  const repo = client.repository(reg.host, 'creds/app', ['pull', 'push']);
  await repo.pushBlob(img.layer, async () => streamOf(img.layer.bytes));
  await repo.pushBlob(img.config, async () => streamOf(img.config.bytes));
  await repo.putManifest('v1', img.manifest.bytes, img.mediaType);
  await client.close();
});
after(async () => {
  await reg.stop();
  await removeDir(dir);
});

test('auths: base64 auth, identity tokens, Docker Hub key, scheme-prefixed keys', async () => {
  const file = path.join(dir, 'read', 'config.json');
  await mkdir(path.dirname(file));
  await writeFile(
    file,
    JSON.stringify({
      auths: {
        'https://index.docker.io/v1/': { auth: Buffer.from('hubuser:hubpass').toString('base64') },
        'http://reg.example:5000/v2/': { auth: Buffer.from('u:p:q').toString('base64') },
        'tok.example': { identitytoken: 'refresh-me' },
      },
    }),
  );
  const store = new DockerConfigCredentials(file);
  assert.deepEqual(await store.get('docker.io'), { username: 'hubuser', password: 'hubpass' });
  assert.deepEqual(await store.get('reg.example:5000'), { username: 'u', password: 'p:q' });
  assert.deepEqual(await store.get('tok.example'), { identitytoken: 'refresh-me' });
  assert.equal(await store.get('other.example'), undefined);
  assert.equal(await new DockerConfigCredentials(path.join(dir, 'missing.json')).get('docker.io'), undefined);
});

test('credHelpers: docker-credential-<name> get is run with the server on stdin', async () => {
  const bin = path.join(dir, 'bin');
  await mkdir(bin, { recursive: true });
  const helper = path.join(bin, 'docker-credential-kilntest');
  await writeFile(
    helper,
    `#!/bin/sh
read server
echo "$1 $server" >> "${dir}/helper.log"
if [ "$1" = store ]; then exit 0; fi
if [ "$1" = get ] && [ "$server" = "${reg.host}" ]; then
  printf '{"ServerURL":"%s","Username":"carol","Secret":"s3cret:with:colons"}\\n' "$server"
  exit 0
fi
echo "credentials not found in native keychain"
exit 1
`,
  );
  await chmod(helper, 0o755);
  const file = path.join(dir, 'helper', 'config.json');
  await mkdir(path.dirname(file));
  await writeFile(file, JSON.stringify({ credHelpers: { [reg.host]: 'kilntest', 'nothing.example': 'kilntest' } }));
  const oldPath = process.env.PATH;
  process.env.PATH = `${bin}:${oldPath}`;
  try {
    const store = new DockerConfigCredentials(file);
    assert.equal(await store.get('nothing.example'), undefined);
    const client = createRegistryClient({ credentials: store, registries: {} });
    const got = await client.repository(reg.host, 'creds/app', ['pull']).getManifest('v1');
    assert.equal(got.descriptor.digest, img.manifest.digest);
    await client.close();
    assert.equal(await readFile(path.join(dir, 'helper.log'), 'utf8'), `get nothing.example\nget ${reg.host}\n`);

    // credsStore: the same helper for every registry; login stores through it, not in the file
    const storeFile = path.join(dir, 'helper', 'store.json');
    await writeFile(storeFile, JSON.stringify({ credsStore: 'kilntest' }));
    assert.deepEqual(await new DockerConfigCredentials(storeFile).get(reg.host), { username: 'carol', password: 's3cret:with:colons' });
    await login(reg.host, 'carol', 's3cret:with:colons', { configFile: storeFile, registries: {} });
    assert.deepEqual(JSON.parse(await readFile(storeFile, 'utf8')), { credsStore: 'kilntest', auths: { [reg.host]: {} } });
    assert.match(await readFile(path.join(dir, 'helper.log'), 'utf8'), /\nstore \{"ServerURL":"127\.0\.0\.1:\d+","Username":"carol","Secret":"s3cret:with:colons"\}\n$/);
  } finally {
    process.env.PATH = oldPath;
  }
});

test('login verifies, then writes auths with mode 0600 keeping other keys; skopeo accepts the file', async () => {
  const cfgDir = path.join(dir, 'login', '.docker');
  const file = path.join(cfgDir, 'config.json');
  await assert.rejects(login(reg.host, 'carol', 'wrong', { configFile: file, registries: {} }), (e: unknown) => {
    assert.ok(isKilnError(e, 'UNAUTHENTICATED'));
    assert.equal(e.message, `login to ${reg.host} as carol: unauthorized: authentication required`);
    assert.doesNotMatch(e.message + e.hint, /wrong/);
    return true;
  });
  await assert.rejects(stat(file), /ENOENT/);

  await mkdir(cfgDir, { recursive: true, mode: 0o700 });
  await writeFile(file, JSON.stringify({ psFormat: 'table {{.ID}}', auths: { 'other.example': { auth: 'eDp5' } } }));
  const r = await login(`http://${reg.host}/v2/`, 'carol', 's3cret:with:colons', { configFile: file, registries: {} });
  assert.equal(r.server, reg.host);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  // a fresh config directory is created 0700
  const fresh = path.join(dir, 'login2', '.docker', 'config.json');
  await login(reg.host, 'carol', 's3cret:with:colons', { configFile: fresh, registries: {} });
  assert.equal((await stat(path.dirname(fresh))).mode & 0o777, 0o700);
  assert.equal((await stat(fresh)).mode & 0o777, 0o600);
  const doc = JSON.parse(await readFile(file, 'utf8'));
  assert.equal(doc.psFormat, 'table {{.ID}}');
  assert.deepEqual(doc.auths['other.example'], { auth: 'eDp5' });
  assert.equal(Buffer.from(doc.auths[reg.host].auth, 'base64').toString(), 'carol:s3cret:with:colons');

  const { stdout } = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', '--authfile', file, `docker://${reg.host}/creds/app:v1`]);
  assert.equal(stdout, img.manifest.bytes.toString());

  assert.deepEqual(await logout(reg.host, { configFile: file }), { server: reg.host, removed: true });
  assert.deepEqual(await logout(reg.host, { configFile: file }), { server: reg.host, removed: false });
  const after = JSON.parse(await readFile(file, 'utf8'));
  assert.deepEqual(Object.keys(after.auths), ['other.example']);
});

test('a file written by skopeo login is read by kiln', async () => {
  const file = path.join(dir, 'skopeo-auth.json');
  await run('skopeo', ['login', '--tls-verify=false', '--authfile', file, '-u', 'carol', '-p', 's3cret:with:colons', reg.host]);
  const store = new DockerConfigCredentials(file);
  assert.deepEqual(await store.get(reg.host), { username: 'carol', password: 's3cret:with:colons' });
  const client = createRegistryClient({ credentials: store, registries: {} });
  assert.equal((await client.repository(reg.host, 'creds/app', ['pull']).headManifest('v1'))?.digest, img.manifest.digest);
  await client.close();
});
