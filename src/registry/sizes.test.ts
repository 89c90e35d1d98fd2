/**
 * Sizes are enforced while streaming: a blob is read up to its descriptor's
 * size and no further, a manifest up to 4 MiB whatever the headers say.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { isKilnError } from '../errors.js';
import { readAll, tinyImage, type TestImage } from '../testing/blobs.js';
import { startHostileRegistry, type HostileRegistry } from '../testing/hostile.js';
import { createRegistryClient } from './client.js';
import { MAX_MANIFEST_BYTES } from './remote.js';

const client = createRegistryClient({ credentials: { get: async () => undefined }, registries: {}, retry: { attempts: 2, baseDelayMs: 5 } });
after(() => client.close());

const limit = { timeout: 20_000 };
const MiB = 1 << 20;

/**
 * Runs `fn` against a registry serving `img` that answers every request whose
 * path holds `what` with `total` bytes of filler under `headers`, as fast as
 * the client reads; checks the client stopped reading (under 32 MiB sent).
 * Resolves to the requests it saw.
 */
async function flooded(img: TestImage, what: '/blobs/' | '/manifests/', headers: Record<string, string>, total: number, fn: (reg: HostileRegistry) => Promise<void>): Promise<number> {
  let sent: Promise<number> | undefined;
  const reg = await startHostileRegistry({
    image: img,
    misbehave: (req, res, _n, r) => {
      if (!req.url!.includes(what)) return false;
      sent = r.flood(res, headers, total);
      return true;
    },
  });
  try {
    await fn(reg);
    assert.ok((await sent!) < 32 * MiB, `the registry sent ${await sent} bytes`);
    return reg.log.length;
  } finally {
    await reg.stop();
  }
}

test('a blob that says it is bigger than its descriptor is refused before its body is read', limit, async () => {
  const img = tinyImage(1024);
  const requests = await flooded(img, '/blobs/', { 'content-length': String(300 * MiB) }, 300 * MiB, async (reg) => {
    const repo = client.repository(reg.host, 'foo', ['pull']);
    await assert.rejects(
      (async () => readAll(await repo.getBlob(img.layer.digest, { size: img.layer.size })))(),
      (e: unknown) => {
        assert.ok(isKilnError(e, 'DATA_LOSS'));
        assert.equal(e.message, `blob ${img.layer.digest} from ${reg.host}/foo is ${300 * MiB} bytes, not the ${img.layer.size} its descriptor says; refused`);
        return true;
      },
    );
  });
  assert.equal(requests, 1);
});

test('a blob sent without a length is read up to its descriptor size and no further', limit, async () => {
  const img = tinyImage(1024);
  await flooded(img, '/blobs/', {}, 300 * MiB, async (reg) => {
    // chunked
    const stream = await client.repository(reg.host, 'foo', ['pull']).getBlob(img.layer.digest, { size: img.layer.size, verify: false });
    let got = 0;
    await assert.rejects(
      (async () => {
        for await (const c of stream) got += (c as Buffer).length;
      })(),
      (e: unknown) => {
        assert.ok(isKilnError(e, 'DATA_LOSS'));
        assert.equal(e.message, `blob ${img.layer.digest} from ${reg.host}/foo sends more than the ${img.layer.size} bytes its descriptor says; refused`);
        return true;
      },
    );
    assert.ok(got <= img.layer.size, `${got} bytes passed on`);
  });
});

test('a 100 MB manifest sent chunked is refused at 4 MiB', limit, async () => {
  const img = tinyImage();
  const requests = await flooded(img, '/manifests/', { 'content-type': img.mediaType }, 100_000_000, async (reg) => {
    await assert.rejects(client.repository(reg.host, 'foo', ['pull']).getManifest('latest'), (e: unknown) => {
      assert.ok(isKilnError(e, 'INVALID_ARGUMENT'));
      assert.equal(e.message, `manifest for ${reg.host}/foo:latest is more than the ${MAX_MANIFEST_BYTES} bytes kiln accepts; refused`);
      return true;
    });
  });
  assert.equal(requests, 1);
});

test('a manifest whose Content-Length is over 4 MiB is refused unread', limit, async () => {
  const img = tinyImage();
  await flooded(img, '/manifests/', { 'content-type': img.mediaType, 'content-length': String(100_000_000) }, 100_000_000, async (reg) => {
    await assert.rejects(client.repository(reg.host, 'foo', ['pull']).getManifest('latest'), (e: unknown) => {
      assert.ok(isKilnError(e, 'INVALID_ARGUMENT'));
      assert.equal(e.message, `manifest for ${reg.host}/foo:latest is 100000000 bytes, more than the ${MAX_MANIFEST_BYTES} kiln accepts`);
      return true;
    });
  });
});
