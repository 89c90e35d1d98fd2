/**
 * Sizes are enforced while streaming: a blob is read up to its descriptor's
 * size and no further, a manifest up to 4 MiB whatever the headers say.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { isKilnError } from '../errors.js';
import { readAll, tinyImage } from '../testing/blobs.js';
import { startHostileRegistry } from '../testing/hostile.js';
import { createRegistryClient } from './client.js';
import { MAX_MANIFEST_BYTES } from './remote.js';

const client = createRegistryClient({ credentials: { get: async () => undefined }, registries: {}, retry: { attempts: 2, baseDelayMs: 5 } });
after(() => client.close());

const limit = { timeout: 20_000 };
const MiB = 1 << 20;

test('a blob that says it is bigger than its descriptor is refused before its body is read', limit, async () => {
  const img = tinyImage(1024);
  let sent: Promise<number> | undefined;
  const reg = await startHostileRegistry({
    image: img,
    misbehave: (req, res, _n, r) => {
      if (!req.url!.includes('/blobs/')) return false;
      sent = r.flood(res, { 'content-length': String(300 * MiB) }, 300 * MiB);
      return true;
    },
  });
  try {
    const repo = client.repository(reg.host, 'foo', ['pull']);
    await assert.rejects(
      (async () => readAll(await repo.getBlob(img.layer.digest, { size: img.layer.size })))(),
      (e: unknown) => {
        assert.ok(isKilnError(e, 'DATA_LOSS'));
        assert.equal(e.message, `blob ${img.layer.digest} from ${reg.host}/foo is ${300 * MiB} bytes, not the ${img.layer.size} its descriptor says; refused`);
        return true;
      },
    );
    assert.ok((await sent!) < 32 * MiB, `the registry sent ${await sent} bytes`);
    assert.equal(reg.log.length, 1);
  } finally {
    await reg.stop();
  }
});

test('a blob sent without a length is read up to its descriptor size and no further', limit, async () => {
  const img = tinyImage(1024);
  let sent: Promise<number> | undefined;
  const reg = await startHostileRegistry({
    image: img,
    misbehave: (req, res, _n, r) => {
      if (!req.url!.includes('/blobs/')) return false;
      sent = r.flood(res, {}, 300 * MiB); // chunked
      return true;
    },
  });
  try {
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
    assert.ok((await sent!) < 32 * MiB, `the registry sent ${await sent} bytes`);
  } finally {
    await reg.stop();
  }
});

test('a 100 MB manifest sent chunked is refused at 4 MiB', limit, async () => {
  const img = tinyImage();
  let sent: Promise<number> | undefined;
  const reg = await startHostileRegistry({
    image: img,
    misbehave: (req, res, _n, r) => {
      if (!req.url!.includes('/manifests/')) return false;
      sent = r.flood(res, { 'content-type': img.mediaType }, 100_000_000);
      return true;
    },
  });
  try {
    await assert.rejects(client.repository(reg.host, 'foo', ['pull']).getManifest('latest'), (e: unknown) => {
      assert.ok(isKilnError(e, 'INVALID_ARGUMENT'));
      assert.equal(e.message, `manifest for ${reg.host}/foo:latest is more than the ${MAX_MANIFEST_BYTES} bytes kiln accepts; refused`);
      return true;
    });
    assert.ok((await sent!) < 32 * MiB, `the registry sent ${await sent} bytes`);
    assert.equal(reg.log.length, 1);
  } finally {
    await reg.stop();
  }
});

test('a manifest whose Content-Length is over 4 MiB is refused unread', limit, async () => {
  const img = tinyImage();
  let sent: Promise<number> | undefined;
  const reg = await startHostileRegistry({
    image: img,
    misbehave: (req, res, _n, r) => {
      if (!req.url!.includes('/manifests/')) return false;
      sent = r.flood(res, { 'content-type': img.mediaType, 'content-length': String(100_000_000) }, 100_000_000);
      return true;
    },
  });
  try {
    await assert.rejects(client.repository(reg.host, 'foo', ['pull']).getManifest('latest'), (e: unknown) => {
      assert.ok(isKilnError(e, 'INVALID_ARGUMENT'));
      assert.equal(e.message, `manifest for ${reg.host}/foo:latest is 100000000 bytes, more than the ${MAX_MANIFEST_BYTES} kiln accepts`);
      return true;
    });
    assert.ok((await sent!) < 32 * MiB, `the registry sent ${await sent} bytes`);
  } finally {
    await reg.stop();
  }
});
