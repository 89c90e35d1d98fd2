/**
 * The blob stream's stall clock counts only time spent waiting for the
 * registry: a consumer that stops reading for longer than the read timeout
 * (a slow disk, a busy store) gets every byte from the one request, and a
 * registry that stops sending while the consumer waits is still caught.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { isKilnError } from '../errors.js';
import { tinyImage } from '../testing/blobs.js';
import { blobHead, hostileRegistry } from '../testing/hostile.js';
import { blobSource } from './blobreader.js';
import { createRegistryClient } from './client.js';

const noCreds = { get: async () => undefined };
const client = createRegistryClient({
  credentials: noCreds,
  registries: {},
  retry: { attempts: 2, baseDelayMs: 5 },
  timeouts: { connectMs: 300, headersMs: 300, readMs: 300 },
});
after(() => client.close());
const limit = { timeout: 15_000 };

test('a consumer that pauses longer than the read timeout gets the whole blob from one request', limit, async (t) => {
  const img = tinyImage(6 << 20);
  const reg = await hostileRegistry(t, { image: img });
  const stream = await client.repository(reg.host, 'foo', ['pull']).getBlob(img.layer.digest, { size: img.layer.size });
  assert.equal(blobSource(stream), `${reg.host}/foo`);
  const parts: Buffer[] = [];
  let pauses = 0;
  for await (const c of stream) {
    parts.push(c as Buffer);
    // three pauses of twice the read timeout, with the registry's bytes waiting in the buffers
    if (pauses < 3 && parts.length % 20 === 1) {
      pauses++;
      await sleep(600);
    }
  }
  assert.equal(pauses, 3);
  assert.ok(Buffer.concat(parts).equals(img.layer.bytes));
  assert.deepEqual(
    reg.log.map((l) => l.range),
    [undefined],
    'no resume: the pauses were the consumer, not the registry',
  );
});

test('a registry that stops sending is a stall even while the consumer is slow', limit, async (t) => {
  const img = tinyImage(200_000);
  const reg = await hostileRegistry(t, {
    image: img,
    misbehave: (req, res, _n, r) => {
      if (!req.url!.includes('/blobs/')) return false;
      const from = blobHead(req, res, img.layer.size);
      res.write(img.layer.bytes.subarray(from, Math.max(from, 50_000)));
      r.stall(res);
      return true;
    },
  });
  const stream = await client.repository(reg.host, 'foo', ['pull']).getBlob(img.layer.digest, { size: img.layer.size });
  const reading = (async () => {
    for await (const _ of stream) await sleep(50);
  })();
  await assert.rejects(reading, (e: unknown) => {
    assert.ok(isKilnError(e, 'UNAVAILABLE'), String(e));
    assert.match(e.message, new RegExp(`^blob ${img.layer.digest} from ${reg.host}/foo stalled at byte 50000: less than 1 KiB in 0\\.3 ?s, 2 attempts`));
    return true;
  });
  assert.deepEqual(
    reg.log.map((l) => l.range),
    [undefined, 'bytes=50000-'],
  );
});

test('a download that fails for good still hands over every byte it received before the error (a resume starts after them)', limit, async (t) => {
  const img = tinyImage(600_000);
  const sent = 500_000;
  const reg = await hostileRegistry(t, {
    image: img,
    misbehave: (req, res, _n, r) => {
      if (!req.url!.includes('/blobs/')) return false;
      const from = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
      const headers = { 'content-length': String(img.layer.size - from) };
      // the first answer sends 500,000 bytes, each resume none; each is then reset
      r.resetAfter(res, headers, img.layer.bytes.subarray(from, from === 0 ? sent : from), from ? 206 : 200);
      return true;
    },
  });
  const stream = await client.repository(reg.host, 'foo', ['pull']).getBlob(img.layer.digest, { size: img.layer.size });
  let got = 0;
  let at = -1;
  await assert.rejects(
    (async () => {
      for await (const c of stream) {
        // after its first chunk the consumer is slow: the rest waits in the stream's buffer when the last attempt fails
        if (got === 0) await sleep(800);
        got += (c as Buffer).length;
      }
    })(),
    (e: unknown) => {
      assert.ok(isKilnError(e, 'UNAVAILABLE'), String(e));
      at = Number(/connection dropped 2 times \(at byte (\d+)\)/.exec(e.message)?.[1]);
      return true;
    },
  );
  assert.equal(at, sent, `received ${at} of the ${sent} bytes sent (the reset waits until the client has read them)`);
  assert.equal(got, at, 'every received byte reached the consumer before the error');
});

test('a download frees the chunks its consumer took as it goes: its array buffers stay far below the blob', limit, async (t) => {
  const img = tinyImage(48 << 20);
  const reg = await hostileRegistry(t, { image: img });
  const stream = await client.repository(reg.host, 'foo', ['pull']).getBlob(img.layer.digest, { size: img.layer.size, verify: false });
  const hash = createHash('sha256');
  const start = process.memoryUsage().arrayBuffers;
  let [got, peak, next] = [0, 0, 0];
  for await (const c of stream) {
    hash.update(c as Buffer);
    got += (c as Buffer).length;
    if (got >= next) {
      next += 1 << 20;
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - start);
    }
  }
  assert.equal(`sha256:${hash.digest('hex')}`, img.layer.digest);
  // each 64 KiB socket read and the parser's copy of it are fresh buffers, ~96 MiB in all for this blob: left to
  // V8 they grew by 24-28 MiB here (a test allocates more JS objects than a pull, so it scavenges more); 4 MiB scavenged
  assert.ok(peak < 12 << 20, `array buffers grew by ${(peak / 2 ** 20).toFixed(1)} MiB during a ${img.layer.size >> 20} MiB download`);
});
