/**
 * request.ts on node:http against in-process servers: a 303 is followed as a GET without the body, a
 * redirect to another scheme ends in one line saying where it went, a registry that closes the connection
 * before answering is said to have done so, and a closed client opens no connection.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isKilnError } from '../../errors.js';
import { createRegistryClient } from '../client.js';
import { readAnswer } from './answer.js';
import { Dispatchers } from './dispatcher.js';
import { request } from './request.js';
import { DEFAULT_TIMEOUTS } from './timeouts.js';

async function serve(handle: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<{ host: string; log: string[] }> {
  const log: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      log.push(`${req.method} ${req.url} ${body}`.trim());
      handle(req, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  after(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, log };
}

const dispatchers = new Dispatchers();
after(() => dispatchers.close());

test('a POST answered 303 is followed as a GET without its body', async () => {
  const s = await serve((req, res) => {
    if (req.method === 'POST') res.writeHead(303, { location: '/done' }).end();
    else res.writeHead(200).end('ok');
  });
  const d = dispatchers.get(s.host, undefined, false, DEFAULT_TIMEOUTS);
  const res = await readAnswer(await request(`http://${s.host}/start`, { method: 'POST', body: 'form=1', headers: { 'content-type': 'text/plain' }, dispatcher: d, maxRedirections: 5 }));
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'ok');
  assert.deepEqual(s.log, ['POST /start form=1', 'GET /done']);
});

test('a redirect to another scheme: one line naming where it went', async () => {
  const s = await serve((req, res) => (req.url === '/v2/' ? res.writeHead(200).end('{}') : res.writeHead(307, { location: 'ftp://files.example/blob' }).end()));
  const client = createRegistryClient({ credentials: { get: async () => undefined }, registries: {}, retry: { attempts: 1 } });
  after(() => client.close());
  await assert.rejects(client.repository(s.host, 'foo', ['pull']).getManifest('latest'), (e: unknown) => {
    assert.ok(isKilnError(e, 'UNAVAILABLE'));
    assert.equal(e.message, `cannot reach registry ${s.host}: sent to ftp://files.example/blob, which is not HTTP`);
    return true;
  });
});

test('a registry that closes the connection before answering: retried, then "connection closed by the registry"', async () => {
  const s = await serve((req, res) => {
    if (req.url === '/v2/') res.writeHead(200).end('{}');
    else req.socket.destroy();
  });
  const client = createRegistryClient({ credentials: { get: async () => undefined }, registries: {}, retry: { attempts: 2, baseDelayMs: 5 } });
  after(() => client.close());
  await assert.rejects(client.repository(s.host, 'foo', ['pull']).getManifest('latest'), (e: unknown) => {
    assert.ok(isKilnError(e, 'UNAVAILABLE'));
    assert.equal(e.message, `cannot reach registry ${s.host}: connection closed by the registry`);
    return true;
  });
  assert.equal(s.log.filter((l) => l.includes('/manifests/')).length, 2);
});

test('a closed client opens no connection: CANCELLED', async () => {
  const s = await serve((_req, res) => res.writeHead(200).end());
  const mine = new Dispatchers();
  const d = mine.get(s.host, undefined, false, DEFAULT_TIMEOUTS);
  await mine.close();
  await assert.rejects(request(`http://${s.host}/v2/`, { dispatcher: d }), (e: unknown) => isKilnError(e, 'CANCELLED'));
  assert.deepEqual(s.log, []);
});
