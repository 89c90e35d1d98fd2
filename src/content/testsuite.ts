/**
 * The conformance suites of the ContentStore and RefStore contracts, run
 * against every implementation: `contentSuite` on kiln's layout store
 * (./conformance.test.ts) and on containerd's content store
 * (src/engine/containerd/content.test.ts); `storeSuite` (content and refs)
 * on the layout store: `storeSuite('layout', (t) => open…)`.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { MediaType } from '../oci/mediatypes.js';
import type { ContentStore, RefStore } from './store.js';

export interface Stores {
  content: ContentStore;
  refs: RefStore;
}

export interface ContentUnderTest {
  content: ContentStore;
  /** Runs a test's body with the content as the store needs it to keep what it writes (containerd: a view under a lease). */
  scope?<T>(fn: (content: ContentStore) => Promise<T>): Promise<T>;
}

const sha256 = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function text(r: Readable): Promise<string> {
  let s = '';
  for await (const c of r) s += (c as Buffer).toString();
  return s;
}

const code = (want: string) => (e: unknown) => (e as { code?: string }).code === want;

/** A test body run with the store's content, inside its scope. */
const inScope = (open: (t: TestContext) => Promise<ContentUnderTest>, body: (content: ContentStore) => Promise<void>) => async (t: TestContext) => {
  const { content, scope } = await open(t);
  await (scope ?? ((fn) => fn(content)))((scoped) => body(scoped));
};

/** Blobs: write, read, list, delete, verification, resumable writers. */
export function contentSuite(label: string, open: (t: TestContext) => Promise<ContentUnderTest>): void {
  test(`${label}: blobs are written, read, listed and deleted by digest`, inScope(open, async (content) => {
    const body = 'layer bytes '.repeat(10_000);
    const info = await content.ingest(Readable.from([Buffer.from(body)]), { digest: sha256(body), size: body.length });
    assert.deepEqual(info, { digest: sha256(body), size: body.length });
    assert.deepEqual(await content.stat(info.digest), info);
    assert.equal(await text(await content.reader(info.digest)), body);
    assert.equal((await content.readBytes(info.digest)).toString(), body);
    const small = await content.writeBytes('{}');
    assert.equal(small.digest, sha256('{}'));
    const listed: string[] = [];
    for await (const b of content.list()) listed.push(b.digest);
    assert.deepEqual(listed.sort(), [info.digest, small.digest].sort());
    await content.delete(small.digest);
    assert.equal(await content.stat(small.digest), undefined);
    await assert.rejects(content.readBytes(small.digest), code('NOT_FOUND'));
    await assert.rejects(content.delete(small.digest), code('NOT_FOUND'));
  }));

  test(`${label}: a blob that does not match is DATA_LOSS and never stored`, inScope(open, async (content) => {
    await assert.rejects(content.writeBytes('abc', { digest: sha256('abd') }), code('DATA_LOSS'));
    await assert.rejects(content.writeBytes('abc', { size: 4 }), code('DATA_LOSS'));
    assert.equal(await content.stat(sha256('abc')), undefined);
    // Writing the same content twice is fine.
    await content.writeBytes('abc');
    assert.deepEqual(await content.writeBytes('abc', { digest: sha256('abc'), size: 3 }), { digest: sha256('abc'), size: 3 });
  }));

  test(`${label}: a writer appends, reports its offset and commits or aborts`, inScope(open, async (content) => {
    const w = await content.writer('some-key');
    assert.equal(w.offset, 0);
    await w.write(Readable.from([Buffer.from('hello ')]));
    await w.write(Readable.from([Buffer.from('world')]));
    assert.equal(w.offset, 11);
    assert.deepEqual(await w.commit({ digest: sha256('hello world') }), { digest: sha256('hello world'), size: 11 });
    await assert.rejects(w.write(Readable.from([Buffer.from('more')])), code('FAILED_PRECONDITION'));
    const dropped = await content.writer('other-key');
    await dropped.write(Readable.from([Buffer.from('never')]));
    await dropped.abort();
    assert.equal(await content.stat(sha256('never')), undefined);
    assert.equal((await content.writer('other-key')).offset, 0);
  }));
}

/** The content suite and the RefStore's. */
export function storeSuite(label: string, open: (t: TestContext) => Promise<Stores>): void {
  contentSuite(label, open);

  test(`${label}: tags name descriptors`, async (t) => {
    const { refs } = await open(t);
    const d1 = { mediaType: MediaType.OciManifest, digest: sha256('m1'), size: 2 };
    const d2 = { mediaType: MediaType.OciManifest, digest: sha256('m2'), size: 2, annotations: { 'x.y': 'z' } };
    await refs.set('docker.io/library/a:1', d1);
    await refs.set('docker.io/library/b:1', d2);
    await refs.set('docker.io/library/a:1', d2);
    assert.deepEqual(await refs.get('docker.io/library/a:1'), d2);
    assert.deepEqual((await refs.list()).map((r) => r.name).sort(), ['docker.io/library/a:1', 'docker.io/library/b:1']);
    assert.equal(await refs.delete('docker.io/library/a:1'), true);
    assert.equal(await refs.delete('docker.io/library/a:1'), false);
    assert.equal(await refs.get('docker.io/library/a:1'), undefined);
    assert.deepEqual(await refs.list(), [{ name: 'docker.io/library/b:1', descriptor: d2 }]);
  });
}
