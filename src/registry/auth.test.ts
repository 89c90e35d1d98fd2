import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startRegistry, type TestRegistry } from '../testing/registry.js';
import { randomBlob, readAll, streamOf, tinyImage } from '../testing/blobs.js';
import path from 'node:path';
import { tempDir, removeDir } from '../testing/tempdir.js';
import { isKilnError } from '../errors.js';
import { login } from './login.js';
import { createRegistryClient } from './client.js';
import type { AuthConfig, CredentialStore } from './transport/auth.js';

const creds = (map: Record<string, AuthConfig>): CredentialStore => ({ get: async (host) => map[host] });

describe('htpasswd (Basic)', () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startRegistry({ auth: 'htpasswd', users: { alice: 'wonder' } });
  });
  after(() => reg.stop());

  test('without credentials: unauthorized, log in', async () => {
    const client = createRegistryClient({ credentials: creds({}), registries: {} });
    await assert.rejects(client.repository(reg.host, 'foo', ['pull']).getManifest('latest'), (e: unknown) => {
      assert.ok(isKilnError(e, 'UNAUTHENTICATED'));
      assert.equal(e.message, `pulling ${reg.host}/foo: unauthorized: authentication required`);
      assert.equal(e.hint, `run kiln login ${reg.host}`);
      return true;
    });
    await client.close();
  });

  test('wrong password: unauthorized, check the password', async () => {
    const client = createRegistryClient({ credentials: creds({ [reg.host]: { username: 'alice', password: 'nope' } }), registries: {} });
    await assert.rejects(client.repository(reg.host, 'foo', ['pull', 'push']).statBlob(randomBlob(1).digest), (e: unknown) => {
      assert.ok(isKilnError(e, 'UNAUTHENTICATED'));
      assert.equal(e.message, `pushing ${reg.host}/foo: unauthorized: authentication required`);
      assert.match(e.hint ?? '', /check the user name and password/);
      return true;
    });
    await client.close();
  });

  test('with credentials: push and pull an image', async () => {
    const client = createRegistryClient({ credentials: creds({ [reg.host]: { username: 'alice', password: 'wonder' } }), registries: {} });
    const repo = client.repository(reg.host, 'team/app', ['pull', 'push']);
    const img = tinyImage();
    await repo.pushBlob(img.layer, async () => streamOf(img.layer.bytes), { chunkSize: 300 });
    await repo.pushBlob(img.config, async () => streamOf(img.config.bytes));
    await repo.putManifest('1.0', img.manifest.bytes, img.mediaType);
    const got = await client.repository(reg.host, 'team/app', ['pull']).getManifest('1.0');
    assert.equal(got.descriptor.digest, img.manifest.digest);
    await client.close();
  });
});

describe('token auth (Bearer)', () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startRegistry({ auth: 'token', users: { bob: 'builder' } });
  });
  after(() => reg.stop());

  test('push, mount and pull reuse one token per scope set', async () => {
    const client = createRegistryClient({ credentials: creds({ [reg.host]: { username: 'bob', password: 'builder' } }), registries: {} });
    const start = reg.token!.requests;
    const repo = client.repository(reg.host, 'proj/a', ['push', 'pull']);
    const img = tinyImage(4000);
    assert.equal(await repo.statBlob(img.layer.digest), undefined);
    await repo.pushBlob(img.layer, async () => streamOf(img.layer.bytes));
    await repo.pushBlob(img.config, async () => streamOf(img.config.bytes), { chunkSize: 100 });
    await repo.putManifest('v1', img.manifest.bytes, img.mediaType);
    assert.equal((await repo.headManifest('v1'))?.digest, img.manifest.digest);
    // a second Repository object for the same scopes reuses the token
    const again = client.repository(reg.host, 'proj/a', ['pull', 'push']);
    assert.ok((await readAll(await again.getBlob(img.layer.digest))).equals(img.layer.bytes));
    assert.equal(reg.token!.requests - start, 1);
    assert.deepEqual(reg.token!.log.at(-1), { user: 'bob', scopes: ['repository:proj/a:pull,push'] });

    // mounting from proj/a into proj/b needs pull on proj/a too: one more token
    const b = client.repository(reg.host, 'proj/b', ['pull', 'push']);
    assert.equal(await b.mountBlob(img.layer.digest, 'proj/a'), true);
    assert.equal(await b.statBlob(img.layer.digest), img.layer.size);
    assert.equal(reg.token!.requests - start, 3);
    assert.deepEqual(reg.token!.log.at(-2)?.scopes.sort(), ['repository:proj/a:pull', 'repository:proj/b:pull,push']);
    await client.close();
  });

  test('login against a token registry asks the token service', async () => {
    const dir = await tempDir();
    try {
      const configFile = path.join(dir, 'config.json');
      await assert.rejects(login(reg.host, 'bob', 'wrong', { configFile, registries: {} }), { code: 'UNAUTHENTICATED' });
      const before = reg.token!.requests;
      assert.deepEqual(await login(reg.host, 'bob', 'builder', { configFile, registries: {} }), { server: reg.host, configFile });
      assert.equal(reg.token!.requests - before, 1);
      assert.deepEqual(reg.token!.log.at(-1), { user: 'bob', scopes: [] });
    } finally {
      await removeDir(dir);
    }
  });

  test('anonymous: the registry refuses, log in', async () => {
    const client = createRegistryClient({ credentials: creds({}), registries: {} });
    await assert.rejects(client.repository(reg.host, 'proj/a', ['pull']).getManifest('v1'), (e: unknown) => {
      assert.ok(isKilnError(e, 'UNAUTHENTICATED'));
      assert.match(e.message, new RegExp(`^pulling ${reg.host}/proj/a: unauthorized: authentication required`));
      assert.equal(e.hint, `run kiln login ${reg.host}`);
      return true;
    });
    await client.close();
  });

  test('wrong password: the token service refuses', async () => {
    const client = createRegistryClient({ credentials: creds({ [reg.host]: { username: 'bob', password: 'x' } }), registries: {} });
    await assert.rejects(client.repository(reg.host, 'proj/a', ['pull']).getManifest('v1'), (e: unknown) => {
      assert.ok(isKilnError(e, 'UNAUTHENTICATED'));
      assert.match(e.message, /token service http:\/\/127\.0\.0\.1:\d+\/token refused the credentials of bob: unauthorized: invalid username or password/);
      assert.match(e.hint ?? '', /check the user name and password/);
      return true;
    });
    await client.close();
  });
});

describe('token auth with anonymous pull', () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startRegistry({ auth: 'token', anonymousPull: true });
  });
  after(() => reg.stop());

  test('anonymous tokens pull; pushing needs a login', async () => {
    const owner = createRegistryClient({ credentials: creds({ [reg.host]: { username: 'testuser', password: 'testpassword' } }), registries: {} });
    const blob = randomBlob(2048);
    await owner.repository(reg.host, 'pub/lib', ['pull', 'push']).pushBlob(blob, async () => streamOf(blob.bytes));
    await owner.close();

    const anon = createRegistryClient({ credentials: creds({}), registries: {} });
    const before = reg.token!.requests;
    const got = await readAll(await anon.repository(reg.host, 'pub/lib', ['pull']).getBlob(blob.digest));
    assert.ok(got.equals(blob.bytes));
    assert.equal(reg.token!.requests - before, 1);
    assert.deepEqual(reg.token!.log.at(-1), { user: '', scopes: ['repository:pub/lib:pull'] });
    await assert.rejects(anon.repository(reg.host, 'pub/lib', ['pull', 'push']).pushBlob(randomBlob(10), async () => streamOf(Buffer.alloc(10))), (e: unknown) => {
      assert.ok(isKilnError(e, 'UNAUTHENTICATED'));
      assert.match(e.message, new RegExp(`^pushing ${reg.host}/pub/lib: unauthorized: authentication required`));
      assert.equal(e.hint, `run kiln login ${reg.host}`);
      return true;
    });
    await anon.close();
  });
});

describe('token auth with an identity token', () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startRegistry({ auth: 'token', refreshTokens: { 'rt-123': 'testuser' } });
  });
  after(() => reg.stop());

  test('identitytoken from the config is exchanged with the OAuth2 refresh-token POST', async () => {
    const client = createRegistryClient({ credentials: creds({ [reg.host]: { identitytoken: 'rt-123' } }), registries: {} });
    const blob = randomBlob(100);
    const repo = client.repository(reg.host, 'id/app', ['pull', 'push']);
    await repo.pushBlob(blob, async () => streamOf(blob.bytes));
    assert.equal(await repo.statBlob(blob.digest), 100);
    assert.deepEqual(reg.token!.log.at(-1), { user: 'testuser', scopes: ['repository:id/app:pull,push'] });
    await client.close();
    const bad = createRegistryClient({ credentials: creds({ [reg.host]: { identitytoken: 'stale' } }), registries: {} });
    await assert.rejects(bad.repository(reg.host, 'id/app', ['pull']).statBlob(blob.digest), { code: 'UNAUTHENTICATED' });
    await bad.close();
  });
});

describe('token lifetime and concurrency', () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startRegistry({ auth: 'token', tokenExpiresIn: 12 });
  });
  after(() => reg.stop());

  test('parallel requests share one token request; an expiring token is renewed', async () => {
    const client = createRegistryClient({ credentials: creds({ [reg.host]: { username: 'testuser', password: 'testpassword' } }), registries: {} });
    const repo = client.repository(reg.host, 'par/app', ['pull']);
    const start = reg.token!.requests;
    const sizes = await Promise.all([1, 2, 3, 4, 5].map(() => repo.statBlob(randomBlob(8).digest)));
    assert.deepEqual(sizes, [undefined, undefined, undefined, undefined, undefined]);
    assert.equal(reg.token!.requests - start, 1);
    // 12 s lifetime minus kiln's 10 s margin: reused for 2 s, then renewed
    await repo.statBlob(randomBlob(8).digest);
    assert.equal(reg.token!.requests - start, 1);
    await new Promise((r) => setTimeout(r, 2100));
    await repo.statBlob(randomBlob(8).digest);
    assert.equal(reg.token!.requests - start, 2);
    await client.close();
  });
});
