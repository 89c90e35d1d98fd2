/**
 * One connection carries a session's requests one after another: the ping's
 * answer is read to its end (transport/ping.ts), not cancelled, so the
 * next request does not open a new connection (a new TLS handshake on a
 * remote registry); uploads and downloads reuse theirs. A real docker-registry behind a TCP proxy
 * on loopback that counts the connections carrying plain HTTP (the ping's
 * too: kiln asks a loopback registry over plain HTTP first).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startRegistry } from '../testing/registry.js';
import { randomBlob, readAll, streamOf } from '../testing/blobs.js';
import { createRegistryClient } from './client.js';

interface CountingProxy {
  host: string;
  /** connections whose first bytes were an HTTP request */
  plain(): number;
  /** connections whose first bytes were something else (a TLS handshake) */
  other(): number;
  close(): Promise<void>;
}

async function countingProxy(target: string): Promise<CountingProxy> {
  const [targetHost, targetPort] = target.split(':') as [string, string];
  const sockets = new Set<net.Socket>();
  let plain = 0;
  let other = 0;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(targetPort), targetHost);
    sockets.add(client).add(upstream);
    client.once('data', (first: Buffer) => {
      if (/^[A-Z]+ \//.test(first.toString('latin1', 0, 16))) plain++;
      else other++;
    });
    const drop = () => (client.destroy(), upstream.destroy());
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    plain: () => plain,
    other: () => other,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

test('ping, HEADs, two blob uploads (POST, PUT) and a download go over one connection, one after another', async (t) => {
  const reg = await startRegistry();
  t.after(() => reg.stop());
  const proxy = await countingProxy(reg.host);
  t.after(() => proxy.close());
  const client = createRegistryClient({ credentials: { get: async () => undefined }, registries: {} });
  t.after(() => client.close());
  const repo = client.repository(proxy.host, 'keep/alive', ['pull', 'push']);

  const blob = randomBlob(200_000);
  assert.equal(await repo.statBlob(blob.digest), undefined); // ping, then HEAD
  assert.equal(proxy.plain(), 1);
  assert.equal(proxy.other(), 0); // no https attempt against a plain-HTTP loopback registry
  // the HEAD's connection carries the POST and the PUT
  await repo.pushBlob(blob, async () => streamOf(blob.bytes));
  const again = randomBlob(1000);
  assert.equal(await repo.statBlob(again.digest), undefined);
  await repo.pushBlob(again, async () => streamOf(again.bytes));
  assert.equal(await repo.statBlob(again.digest), 1000);
  assert.ok((await readAll(await repo.getBlob(blob.digest))).equals(blob.bytes));
  assert.equal(proxy.plain(), 1);
});
