import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBlob, readAll, tinyImage } from '../testing/blobs.js';
import { isKilnError } from '../errors.js';
import { createRegistryClient } from './client.js';

/** An in-process fake registry: `handle` decides per request; every request is logged. */
function fake(handle: (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void, basic = false) {
  const log: { method: string; url: string; range?: string }[] = [];
  const server = http.createServer((req, res) => {
    log.push({ method: req.method!, url: req.url!, range: req.headers.range });
    if (req.url === '/v2/') {
      if (basic && !req.headers.authorization) res.writeHead(401, { 'www-authenticate': 'Basic realm="fake"' }).end();
      else res.writeHead(200).end('{}');
      return;
    }
    handle(req, res, log.filter((l) => l.url !== '/v2/').length);
  });
  return {
    log,
    server,
    async start(): Promise<string> {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return `127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    stop: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

const noCreds = { get: async () => undefined };
const client = createRegistryClient({ credentials: noCreds, registries: {}, retry: { attempts: 4, baseDelayMs: 5 } });
after(() => client.close());

test('a 503 is retried with backoff until the registry answers', async () => {
  const img = tinyImage();
  const f = fake((req, res, n) => {
    if (n <= 2) {
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}');
      return;
    }
    res.writeHead(200, { 'content-type': img.mediaType, 'docker-content-digest': img.manifest.digest }).end(img.manifest.bytes);
  });
  const host = await f.start();
  try {
    const got = await client.repository(host, 'foo', ['pull']).getManifest('latest');
    assert.equal(got.descriptor.digest, img.manifest.digest);
    assert.equal(f.log.filter((l) => l.url === '/v2/foo/manifests/latest').length, 3);
  } finally {
    await f.stop();
  }
});

test('a registry that keeps failing: bounded retries, its own message reaches the user', async () => {
  const f = fake((_req, res) => {
    res.writeHead(503, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAVAILABLE","message":"maintenance until noon"}]}');
  });
  const host = await f.start();
  try {
    await assert.rejects(client.repository(host, 'foo', ['pull']).getManifest('latest'), (e: unknown) => {
      assert.ok(isKilnError(e, 'UNAVAILABLE'));
      assert.equal(e.message, `pulling ${host}/foo: unavailable: maintenance until noon`);
      return true;
    });
    assert.equal(f.log.filter((l) => l.url === '/v2/foo/manifests/latest').length, 4);
  } finally {
    await f.stop();
  }
});

test('a blob download cut midway resumes with Range and is verified', async () => {
  const blob = randomBlob(1_000_000);
  const f = fake((req, res, n) => {
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const from = m ? Number(m[1]) : 0;
    const headers = { 'content-type': 'application/octet-stream', 'content-length': String(blob.size - from) };
    if (from > 0) res.writeHead(206, { ...headers, 'content-range': `bytes ${from}-${blob.size - 1}/${blob.size}` });
    else res.writeHead(200, headers);
    if (n <= 2) {
      // send a part, then drop the connection
      res.write(blob.bytes.subarray(from, from + 300_000), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(blob.bytes.subarray(from));
  });
  const host = await f.start();
  try {
    const got = await readAll(await client.repository(host, 'foo', ['pull']).getBlob(blob.digest));
    assert.equal(got.length, blob.size);
    assert.ok(got.equals(blob.bytes));
    const gets = f.log.filter((l) => l.url === `/v2/foo/blobs/${blob.digest}`);
    assert.deepEqual(gets.map((g) => g.range), [undefined, 'bytes=300000-', 'bytes=600000-']);
  } finally {
    await f.stop();
  }
});

test('a blob whose bytes do not match its digest: DATA_LOSS', async () => {
  const blob = randomBlob(10_000);
  const f = fake((_req, res) => {
    res.writeHead(200, { 'content-length': '10000' }).end(randomBlob(10_000).bytes);
  });
  const host = await f.start();
  try {
    await assert.rejects(readAll(await client.repository(host, 'foo', ['pull']).getBlob(blob.digest)), (e: unknown) => {
      assert.ok(isKilnError(e, 'DATA_LOSS'));
      assert.match(e.message, new RegExp(`^blob ${blob.digest} from ${host}/foo hashes to sha256:`));
      return true;
    });
  } finally {
    await f.stop();
  }
});

test('a manifest asked by digest that hashes differently: DATA_LOSS', async () => {
  const img = tinyImage();
  const f = fake((_req, res) => {
    res.writeHead(200, { 'content-type': img.mediaType }).end(Buffer.concat([img.manifest.bytes, Buffer.from(' ')]));
  });
  const host = await f.start();
  try {
    await assert.rejects(client.repository(host, 'foo', ['pull']).getManifest(img.manifest.digest), (e: unknown) => {
      assert.ok(isKilnError(e, 'DATA_LOSS'));
      assert.match(e.message, new RegExp(`^manifest for ${host}/foo@${img.manifest.digest} from ${host} hashes to sha256:`));
      return true;
    });
  } finally {
    await f.stop();
  }
});

test('a monolithic upload that gets a 503 starts over with a fresh stream', async () => {
  const blob = randomBlob(50_000);
  let puts = 0;
  let received = Buffer.alloc(0);
  const f = fake((req, res) => {
    if (req.method === 'POST') {
      res.writeHead(202, { location: `/v2/foo/blobs/uploads/u${Date.now()}` }).end();
      return;
    }
    assert.equal(req.headers['content-length'], '50000');
    assert.equal(req.headers['transfer-encoding'], undefined);
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      puts++;
      received = Buffer.concat(parts);
      if (puts === 1) res.writeHead(503).end();
      else res.writeHead(201, { location: `/v2/foo/blobs/${blob.digest}` }).end();
    });
  });
  const host = await f.start();
  let opened = 0;
  try {
    await client.repository(host, 'foo', ['push']).pushBlob(blob, async () => {
      opened++;
      const { streamOf } = await import('../testing/blobs.js');
      return streamOf(blob.bytes);
    });
    assert.equal(opened, 2);
    assert.equal(puts, 2);
    assert.ok(received.equals(blob.bytes));
    const put = f.log.filter((l) => l.method === 'PUT').at(-1)!;
    assert.match(put.url, new RegExp(`digest=${encodeURIComponent(blob.digest).replace('%3A', '(%3A|:)')}`));
  } finally {
    await f.stop();
  }
});

test('a blob redirect to another host does not carry the registry credentials', async () => {
  const blob = randomBlob(3000);
  let storageAuth: string | undefined = 'unset';
  const storage = fake((req, res) => {
    storageAuth = req.headers.authorization;
    res.writeHead(200, { 'content-length': String(blob.size) }).end(blob.bytes);
  });
  const storageHost = await storage.start();
  let registryAuth: string | undefined;
  const registry = fake((req, res) => {
    registryAuth = req.headers.authorization;
    res.writeHead(307, { location: `http://${storageHost}/bucket/${blob.digest}?sig=x` }).end();
  }, true);
  const host = await registry.start();
  const withCreds = createRegistryClient({ credentials: { get: async () => ({ username: 'u', password: 'p' }) }, registries: {} });
  try {
    const got = await readAll(await withCreds.repository(host, 'foo', ['pull']).getBlob(blob.digest));
    assert.ok(got.equals(blob.bytes));
    assert.equal(registryAuth, 'Basic ' + Buffer.from('u:p').toString('base64'));
    assert.equal(storageAuth, undefined);
  } finally {
    await withCreds.close();
    await Promise.all([registry.stop(), storage.stop()]);
  }
});

test('a connection reset before the answer is retried', async () => {
  const img = tinyImage();
  const f = fake((req, res, n) => {
    if (n === 1) {
      req.socket.destroy();
      return;
    }
    res.writeHead(200, { 'content-type': img.mediaType }).end(img.manifest.bytes);
  });
  const host = await f.start();
  try {
    const got = await client.repository(host, 'foo', ['pull']).getManifest(img.manifest.digest);
    assert.ok(got.bytes.equals(img.manifest.bytes));
    assert.equal(f.log.filter((l) => l.url.startsWith('/v2/foo/manifests/')).length, 2);
  } finally {
    await f.stop();
  }
});
