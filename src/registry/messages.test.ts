/**
 * Misleading failures made plain: a redirect loop says so and where it led;
 * a connection reset in the middle of a manifest names the registry and the
 * repository, says it was reset and what to do.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { isKilnError } from '../errors.js';
import { readAll, streamOf, tinyImage } from '../testing/blobs.js';
import { hostileRegistry } from '../testing/hostile.js';
import { createRegistryClient } from './client.js';

const client = createRegistryClient({ credentials: { get: async () => undefined }, registries: {}, retry: { attempts: 2, baseDelayMs: 5 } });
after(() => client.close());

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Every manifest or blob request is sent on to `<url>/loop/<n+1>`, and those too. */
const loop = (what: string) => (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
  if (!req.url!.includes(what) && !req.url!.includes('/loop/')) return false;
  const n = Number(/\/loop\/(\d+)$/.exec(req.url!)?.[1] ?? 0);
  res.writeHead(307, { location: `/v2/foo/loop/${n + 1}` }).end();
  return true;
};

test('a manifest redirected in a loop: too many redirects, with the URL', async (t) => {
  const img = tinyImage();
  const reg = await hostileRegistry(t, { image: img, misbehave: loop('/manifests/') });
  await assert.rejects(client.repository(reg.host, 'foo', ['pull']).getManifest('latest'), (e: unknown) => {
    assert.ok(isKilnError(e, 'UNAVAILABLE'));
    assert.match(e.message, new RegExp(`^registry ${esc(reg.host)}: too many redirects for GET /v2/foo/manifests/latest \\(the last to http://${esc(reg.host)}/v2/foo/loop/\\d+\\)$`));
    assert.match(e.hint!, /redirects in a loop/);
    return true;
  });
});

test('a blob redirected in a loop: too many redirects, with the URL', async (t) => {
  const img = tinyImage();
  const reg = await hostileRegistry(t, { image: img, misbehave: loop('/blobs/') });
  await assert.rejects(
    (async () => readAll(await client.repository(reg.host, 'foo', ['pull']).getBlob(img.layer.digest)))(),
    (e: unknown) => {
      assert.ok(isKilnError(e, 'UNAVAILABLE'));
      assert.match(e.message, new RegExp(`^registry ${esc(reg.host)}: too many redirects for GET /v2/foo/blobs/${img.layer.digest} \\(the last to http://${esc(reg.host)}/v2/foo/loop/\\d+\\)$`));
      return true;
    },
  );
});

test('a connection reset in the middle of a manifest: retried, then the registry, the repository, reset, what to do', async (t) => {
  const img = tinyImage();
  const reg = await hostileRegistry(t, {
    image: img,
    misbehave: (req, res, _n, r) => {
      if (!req.url!.includes('/manifests/')) return false;
      r.resetAfter(res, { 'content-type': img.mediaType, 'content-length': String(img.manifest.size) }, img.manifest.bytes.subarray(0, 100));
      return true;
    },
  });
  await assert.rejects(client.repository(reg.host, 'foo', ['pull']).getManifest('latest'), (e: unknown) => {
    assert.ok(isKilnError(e, 'UNAVAILABLE'));
    assert.equal(e.message, `pulling ${reg.host}/foo: ${reg.host} reset the connection in the middle of the manifest for ${reg.host}/foo:latest (2 attempts)`);
    assert.match(e.hint!, /^try again;/);
    return true;
  });
  assert.equal(reg.log.length, 2);
});

test('a manifest cut once is asked again and arrives whole', async (t) => {
  const img = tinyImage();
  const reg = await hostileRegistry(t, {
    image: img,
    misbehave: (req, res, n, r) => {
      if (!req.url!.includes('/manifests/') || n > 1) return false;
      r.resetAfter(res, { 'content-type': img.mediaType, 'content-length': String(img.manifest.size) }, img.manifest.bytes.subarray(0, 100));
      return true;
    },
  });
  const got = await client.repository(reg.host, 'foo', ['pull']).getManifest('latest');
  assert.ok(got.bytes.equals(img.manifest.bytes));
  assert.equal(reg.log.length, 2);
});

test('a HEAD redirected in a loop: too many redirects, with the request and the URL', async (t) => {
  const img = tinyImage();
  const reg = await hostileRegistry(t, { image: img, misbehave: loop('/blobs/') });
  await assert.rejects(client.repository(reg.host, 'foo', ['pull']).statBlob(img.layer.digest), (e: unknown) => {
    assert.ok(isKilnError(e, 'UNAVAILABLE'));
    assert.match(e.message, new RegExp(`^registry ${esc(reg.host)}: too many redirects for HEAD /v2/foo/blobs/${img.layer.digest} \\(the last to http://${esc(reg.host)}/v2/foo/loop/\\d+\\)$`));
    return true;
  });
});

test('a push answered 404: the upload session gone, the repository gone for the manifest: what, the request, the answer', async (t) => {
  const img = tinyImage();
  const reg = await hostileRegistry(t, {
    image: img,
    misbehave: (req, res) => {
      if (req.method === 'POST' && req.url === '/v2/foo/blobs/uploads/') {
        res.writeHead(202, { location: '/v2/foo/blobs/uploads/u1?_state=secret', 'content-length': '0' }).end();
        return true;
      }
      if (req.method === 'PUT' && req.url!.startsWith('/v2/foo/blobs/uploads/u1')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"BLOB_UPLOAD_UNKNOWN","message":"blob upload unknown to registry"}]}');
        return true;
      }
      if (req.method === 'PUT' && req.url!.includes('/manifests/')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}');
        return true;
      }
      return false;
    },
  });
  const repo = client.repository(reg.host, 'foo', ['pull', 'push']);
  const blob = img.layer;
  await assert.rejects(
    repo.pushBlob(blob, async () => streamOf(blob.bytes)),
    (e: unknown) => {
      assert.ok(isKilnError(e, 'NOT_FOUND'));
      assert.equal(
        e.message,
        `pushing ${reg.host}/foo: the registry has no upload of blob ${blob.digest} any more: PUT /v2/foo/blobs/uploads/u1 answered 404 Not Found: blob upload unknown: blob upload unknown to registry`,
      );
      assert.equal(e.hint, "push again; if it keeps happening, check the registry's logs and any proxy in front of it");
      return true;
    },
  );
  await assert.rejects(repo.putManifest('latest', img.manifest.bytes, img.mediaType), (e: unknown) => {
    assert.ok(isKilnError(e, 'NOT_FOUND'));
    assert.equal(
      e.message,
      `pushing ${reg.host}/foo: the registry has no repository foo to take the manifest: PUT /v2/foo/manifests/latest answered 404 Not Found: name unknown: repository name not known to registry`,
    );
    assert.equal(e.hint, 'check the repository name, and that this registry takes pushes there: some need the repository created first');
    return true;
  });
});
