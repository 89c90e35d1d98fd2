/**
 * Registries that stall: no headers, headers or a body trickled a byte at a
 * time, a TLS port that never answers. Each ends within the timeouts (short
 * here) and bounded retries, in one line naming the registry and the request.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { isKilnError } from '../errors.js';
import { readAll, tinyImage } from '../testing/blobs.js';
import { blobHead, hostileRegistry } from '../testing/hostile.js';
import { createRegistryClient } from './client.js';
import { parseRegistriesConfig } from './registries.js';
import { DEFAULT_TIMEOUTS, resolveTimeouts } from './transport/timeouts.js';

const noCreds = { get: async () => undefined };
const timeouts = { connectMs: 300, headersMs: 300, readMs: 300 };
const client = createRegistryClient({ credentials: noCreds, registries: {}, retry: { attempts: 2, baseDelayMs: 5 }, timeouts });
after(() => client.close());

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// Each stall ends in about 2 × 0.3 s; the bounds below are generous (a loaded CI machine), the point being that it ends.
const limit = { timeout: 30_000 };

test('no response headers: retried, then one line naming the registry and the request', limit, async (t) => {
  const img = tinyImage();
  const reg = await hostileRegistry(t, { image: img, misbehave: (req, res, _n, r) => (req.url!.includes('/manifests/') ? (r.stall(res), true) : false) });
  const t0 = Date.now();
  await assert.rejects(client.repository(reg.host, 'foo', ['pull']).getManifest('latest'), (e: unknown) => {
    assert.ok(isKilnError(e, 'UNAVAILABLE'));
    assert.equal(e.message, `registry ${reg.host} stalled: no response headers within 0.3 s (GET /v2/foo/manifests/latest, 2 attempts)`);
    assert.match(e.hint!, /KILN_REGISTRY_HEADERS_TIMEOUT/);
    return true;
  });
  assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
  assert.equal(reg.log.length, 2);
});

test('headers trickled a byte at a time count against the headers timeout', limit, async (t) => {
  const img = tinyImage();
  const head = Buffer.from(`HTTP/1.1 200 OK\r\ncontent-type: ${img.mediaType}\r\ncontent-length: ${img.manifest.size}\r\n\r\n`);
  const reg = await hostileRegistry(t, {
    image: img,
    misbehave: (req, _res, _n, r) => (req.url!.includes('/manifests/') ? (r.trickle(req.socket, head, 20), true) : false),
  });
  await assert.rejects(client.repository(reg.host, 'foo', ['pull']).getManifest('latest'), (e: unknown) => {
    assert.ok(isKilnError(e, 'UNAVAILABLE'));
    assert.equal(e.message, `registry ${reg.host} stalled: no response headers within 0.3 s (GET /v2/foo/manifests/latest, 2 attempts)`);
    return true;
  });
});

test('a manifest body trickled a byte at a time: stalled, retried, one line', limit, async (t) => {
  const img = tinyImage();
  const reg = await hostileRegistry(t, {
    image: img,
    misbehave: (req, res, _n, r) => {
      if (!req.url!.includes('/manifests/')) return false;
      r.trickleBody(res, { 'content-type': img.mediaType, 'content-length': String(img.manifest.size) }, img.manifest.bytes, 20);
      return true;
    },
  });
  await assert.rejects(client.repository(reg.host, 'foo', ['pull']).getManifest('latest'), (e: unknown) => {
    assert.ok(isKilnError(e, 'UNAVAILABLE'));
    assert.equal(e.message, `registry ${reg.host} stalled: less than 1 KiB of the response in 0.3 s (GET /v2/foo/manifests/latest, 2 attempts)`);
    assert.match(e.hint!, /KILN_REGISTRY_READ_TIMEOUT/);
    return true;
  });
  assert.equal(reg.log.length, 2);
});

test('a blob body trickled a byte at a time: resumed with Range, then one line with the byte it stalled at', limit, async (t) => {
  const img = tinyImage(4096);
  const reg = await hostileRegistry(t, {
    image: img,
    misbehave: (req, res, _n, r) => {
      if (!req.url!.includes('/blobs/')) return false;
      // 2000 bytes at once, then a byte every 20 ms
      const from = blobHead(req, res, img.layer.size);
      res.write(img.layer.bytes.subarray(from, from + (from === 0 ? 2000 : 0)));
      r.trickleBody(res, {}, img.layer.bytes.subarray(from === 0 ? 2000 : from), 20);
      return true;
    },
  });
  const t0 = Date.now();
  const stream = await client.repository(reg.host, 'foo', ['pull']).getBlob(img.layer.digest);
  await assert.rejects(readAll(stream), (e: unknown) => {
    assert.ok(isKilnError(e, 'UNAVAILABLE'));
    assert.match(e.message, new RegExp(`^blob ${img.layer.digest} from ${esc(reg.host)}/foo stalled at byte 20\\d\\d: less than 1 KiB in 0.3 s, 2 attempts$`));
    return true;
  });
  assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
  assert.deepEqual(
    reg.log.map((l) => l.range),
    [undefined, reg.log[1]!.range],
  );
  assert.match(reg.log[1]!.range!, /^bytes=20\d\d-$/);
});

test('a blob whose body stalls once is resumed and arrives whole', limit, async (t) => {
  const img = tinyImage(100_000);
  const reg = await hostileRegistry(t, {
    image: img,
    misbehave: (req, res, n, r) => {
      if (!req.url!.includes('/blobs/') || n > 1) return false;
      res.writeHead(200, { 'content-length': String(img.layer.size) });
      res.write(img.layer.bytes.subarray(0, 30_000));
      r.stall(res);
      return true;
    },
  });
  const got = await readAll(await client.repository(reg.host, 'foo', ['pull']).getBlob(img.layer.digest));
  assert.ok(got.equals(img.layer.bytes));
  assert.deepEqual(reg.log.map((l) => l.range), [undefined, 'bytes=30000-']);
});

test('a TLS port that never answers: connection timed out, one line', limit, async () => {
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((s) => sockets.add(s)); // accepts, never speaks TLS
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const host = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
  // the registry reached only over https (a mirror of itself with an https:// URL)
  const c = createRegistryClient({ credentials: noCreds, registries: { mirrors: { [host]: { endpoint: [`https://${host}`] } } }, timeouts });
  try {
    const t0 = Date.now();
    await assert.rejects(c.repository(host, 'foo', ['pull']).getManifest('latest'), (e: unknown) => {
      assert.ok(isKilnError(e, 'UNAVAILABLE'));
      assert.equal(e.message, `cannot reach registry ${host}: connection timed out after 0.3 s (GET /v2/)`);
      return true;
    });
    assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
  } finally {
    await c.close();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
  }
});

test('timeouts: defaults, registries.yaml (global, per host), environment over file, code over all', async () => {
  assert.deepEqual(DEFAULT_TIMEOUTS, { connectMs: 30_000, headersMs: 60_000, readMs: 60_000 });
  const cfg = await parseRegistriesConfig('timeouts: {connect: 5s, read: 2m}\nconfigs:\n  "r.example:5000":\n    timeouts: {headers: 1500ms}\n', 'reg.yaml');
  assert.deepEqual(resolveTimeouts({ env: {}, global: cfg.timeouts }), { connectMs: 5000, headersMs: 60_000, readMs: 120_000 });
  assert.deepEqual(resolveTimeouts({ env: {}, global: cfg.timeouts, host: cfg.configs!['r.example:5000']!.timeouts }), {
    connectMs: 5000,
    headersMs: 1500,
    readMs: 120_000,
  });
  const env = { KILN_REGISTRY_READ_TIMEOUT: '7', KILN_REGISTRY_CONNECT_TIMEOUT: '250ms' };
  assert.deepEqual(resolveTimeouts({ env, global: cfg.timeouts }), { connectMs: 250, headersMs: 60_000, readMs: 7000 });
  assert.deepEqual(resolveTimeouts({ env, given: { readMs: 1 } }), { connectMs: 250, headersMs: 60_000, readMs: 1 });
  await assert.rejects(parseRegistriesConfig('timeouts: {read: soon}\n', 'reg.yaml'), /^KilnError: reg\.yaml: timeouts\.read: "soon" is not a duration$/);
  await assert.rejects(parseRegistriesConfig('timeouts: {idle: 5s}\n', 'reg.yaml'), /reg\.yaml: timeouts\.idle: unknown timeout/);
  assert.throws(() => resolveTimeouts({ env: { KILN_REGISTRY_HEADERS_TIMEOUT: '-1' } }), /KILN_REGISTRY_HEADERS_TIMEOUT: "-1" is not a duration/);
});
