/**
 * A registry's Docker-Content-Digest header must name the bytes it sends for
 * a tag: a false one is refused (as containerd does), in one line naming the registry.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { isKilnError } from '../errors.js';
import { tinyImage } from '../testing/blobs.js';
import { startHostileRegistry } from '../testing/hostile.js';
import { createRegistryClient } from './client.js';

const client = createRegistryClient({ credentials: { get: async () => undefined }, registries: {}, retry: { attempts: 2, baseDelayMs: 5 } });
after(() => client.close());

function lying(header: string | ((real: string, bytes: Buffer) => string)) {
  const img = tinyImage();
  const other = tinyImage();
  const said = typeof header === 'function' ? header(img.manifest.digest, img.manifest.bytes) : header.replace('OTHER', other.manifest.digest);
  return {
    img,
    said,
    start: () =>
      startHostileRegistry({
        image: img,
        misbehave: (req, res) => {
          if (!req.url!.includes('/manifests/')) return false;
          res.writeHead(200, { 'content-type': img.mediaType, 'docker-content-digest': said }).end(req.method === 'HEAD' ? undefined : img.manifest.bytes);
          return true;
        },
      }),
  };
}

test('a tag whose Docker-Content-Digest names other bytes is refused, naming the registry', async () => {
  const { img, said, start } = lying('OTHER');
  const reg = await start();
  try {
    await assert.rejects(client.repository(reg.host, 'foo', ['pull']).getManifest('latest'), (e: unknown) => {
      assert.ok(isKilnError(e, 'DATA_LOSS'));
      assert.equal(
        e.message,
        `manifest for ${reg.host}/foo:latest from ${reg.host}: the registry says Docker-Content-Digest ${said}, but the manifest it sent hashes to ${img.manifest.digest}; refused`,
      );
      assert.match(e.hint!, /pull by digest/);
      return true;
    });
  } finally {
    await reg.stop();
  }
});

test('a Docker-Content-Digest that is not a digest is refused too', async () => {
  const { img, start } = lying('sha256:nonsense');
  const reg = await start();
  try {
    await assert.rejects(client.repository(reg.host, 'foo', ['pull']).getManifest('latest'), (e: unknown) => {
      assert.ok(isKilnError(e, 'DATA_LOSS'));
      assert.match(e.message, new RegExp(`says Docker-Content-Digest sha256:nonsense, but the manifest it sent hashes to ${img.manifest.digest}; refused$`));
      return true;
    });
  } finally {
    await reg.stop();
  }
});

test('a true Docker-Content-Digest, in sha512 too, is accepted', async () => {
  for (const algo of ['sha256', 'sha512']) {
    const { img, start } = lying((_real, bytes) => `${algo}:${createHash(algo).update(bytes).digest('hex')}`);
    const reg = await start();
    try {
      const got = await client.repository(reg.host, 'foo', ['pull']).getManifest('latest');
      assert.equal(got.descriptor.digest, img.manifest.digest);
      assert.ok(got.bytes.equals(img.manifest.bytes));
    } finally {
      await reg.stop();
    }
  }
});
