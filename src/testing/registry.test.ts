import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { startRegistry } from './registry.js';

async function get(url: string, init: { headers?: Record<string, string>; ca?: Buffer } = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { headers: init.headers, ca: init.ca }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
  });
}

test('plain registry answers /v2/ with 200', async () => {
  const reg = await startRegistry();
  try {
    const res = await fetch(`${reg.url}/v2/`);
    assert.equal(res.status, 200);
    assert.match(reg.host, /^127\.0\.0\.1:\d+$/);
  } finally {
    await reg.stop();
  }
});

test('htpasswd registry wants Basic and accepts its user', async () => {
  const reg = await startRegistry({ auth: 'htpasswd', users: { alice: 'wonder' } });
  try {
    const anon = await fetch(`${reg.url}/v2/`);
    assert.equal(anon.status, 401);
    assert.match(anon.headers.get('www-authenticate') ?? '', /^Basic realm="kiln-test"/);
    const ok = await fetch(`${reg.url}/v2/`, { headers: { authorization: 'Basic ' + Buffer.from('alice:wonder').toString('base64') } });
    assert.equal(ok.status, 200);
  } finally {
    await reg.stop();
  }
});

test('TLS registry presents a certificate signed by the test CA', async () => {
  const reg = await startRegistry({ tls: true });
  try {
    assert.ok(reg.caFile);
    assert.match(reg.url, /^https:/);
    const res = await get(`${reg.url}/v2/`, { ca: await readFile(reg.caFile) });
    assert.equal(res.status, 200);
    await assert.rejects(get(`${reg.url}/v2/`), /self-signed|unable to verify|certificate/);
  } finally {
    await reg.stop();
  }
});

test('token registry accepts a token from its token service', async () => {
  const reg = await startRegistry({ auth: 'token' });
  try {
    const anon = await fetch(`${reg.url}/v2/`);
    assert.equal(anon.status, 401);
    assert.match(anon.headers.get('www-authenticate') ?? '', /^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/token",service="kiln-test-registry"/);
    const tok = await fetch(`${reg.token!.realm}?service=kiln-test-registry&scope=repository:foo:pull`, {
      headers: { authorization: 'Basic ' + Buffer.from('testuser:testpassword').toString('base64') },
    });
    const { token } = (await tok.json()) as { token: string };
    const res = await fetch(`${reg.url}/v2/foo/tags/list`, { headers: { authorization: `Bearer ${token}` } });
    // authorized: the repository does not exist yet, so the registry says NAME_UNKNOWN
    assert.equal(res.status, 404);
    assert.match(await res.text(), /NAME_UNKNOWN/);
    const bad = await fetch(`${reg.token!.realm}?service=kiln-test-registry`, {
      headers: { authorization: 'Basic ' + Buffer.from('testuser:nope').toString('base64') },
    });
    assert.equal(bad.status, 401);
    assert.equal(reg.token!.requests, 2);
  } finally {
    await reg.stop();
  }
});

test('a port held by another server is detected and another port is used', async () => {
  const squatter = http.createServer((_req, res) => res.writeHead(200).end('{}'));
  await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
  const port = (squatter.address() as AddressInfo).port;
  try {
    const reg = await startRegistry({ port });
    try {
      assert.notEqual(reg.host, `127.0.0.1:${port}`);
      const res = await fetch(`${reg.url}/v2/_catalog`);
      assert.deepEqual(await res.json(), { repositories: [] });
    } finally {
      await reg.stop();
    }
  } finally {
    squatter.closeAllConnections();
    squatter.close();
  }
});
