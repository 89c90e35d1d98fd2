/**
 * The Engine conformance suite: the same image-level tests, run against every
 * implementation of the Engine contract (containerd's `testsuite` pattern).
 * A backend's test file calls `engineConformance` with a way to open its
 * engine; a real registry on loopback serves push and pull.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { startRegistry, type TestRegistry } from '../testing/registry.js';
import type { Engine } from './engine.js';
import type { KilnEvent } from './events.js';

export interface ConformanceTarget {
  /** The backend name `info()` reports. */
  backend: string;
  /** Opens the engine under test (called once for the suite). */
  open(): Promise<Engine>;
  /** Tears down what open() needed (daemons, temp dirs). */
  cleanup?(): Promise<void>;
}

/** A small root filesystem tarball with one file whose content is unique to this call. */
async function rootfsTar(marker: string): Promise<Buffer> {
  const pack = tar.pack();
  const out: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) out.push(c as Buffer);
  })();
  pack.entry({ name: 'etc/', type: 'directory', mode: 0o755 });
  pack.entry({ name: 'etc/marker', mode: 0o644 }, `${marker}\n`);
  pack.entry({ name: 'data.bin', mode: 0o644 }, randomBytes(64 * 1024));
  pack.finalize();
  await done;
  return Buffer.concat(out);
}

/** Reads an event stream with a time limit per wait; a wait that times out leaves its read pending for the next. */
function eventReader(events: AsyncIterable<KilnEvent>): (ms: number) => Promise<IteratorResult<KilnEvent> | 'timeout'> {
  const it = events[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<KilnEvent>> | undefined;
  return async (ms) => {
    pending ??= it.next();
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([pending, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)))]);
    clearTimeout(timer);
    if (r !== 'timeout') pending = undefined;
    return r;
  };
}

const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;

export function engineConformance(target: ConformanceTarget): void {
  describe(`Engine conformance: ${target.backend}`, () => {
    let engine: Engine;
    let registry: TestRegistry;
    const run = randomBytes(4).toString('hex');
    const name = (n: string) => `kiln-conf-${run}/${n}`;
    const full = (n: string, tag = 'latest') => `docker.io/${name(n)}:${tag}`;
    const importImage = async (n: string) => engine.importRootfs(Readable.from([await rootfsTar(n)]), { reference: name(n), source: `${n}.tar` });

    before(async () => {
      [engine, registry] = await Promise.all([target.open(), startRegistry()]);
    });
    after(async () => {
      await engine?.close();
      await registry?.stop();
      await target.cleanup?.();
    });

    test('info names the backend, and the engine states the same kind', async () => {
      assert.equal((await engine.info()).backend, target.backend);
      assert.equal(engine.kind, target.backend);
    });

    test('import: the image is listed, inspected and has one history row', async () => {
      const id = await importImage('imp');
      assert.match(id, /^sha256:[a-f0-9]{64}$/);
      const listed = await engine.listImages({ reference: name('imp') });
      assert.equal(listed.length, 1);
      assert.equal(listed[0]!.id, id);
      assert.deepEqual(listed[0]!.repoTags, [full('imp')]);
      const detail = await engine.inspectImage(name('imp'));
      assert.equal(detail.id, id);
      assert.equal(detail.manifest.layers.length, 1);
      assert.equal(detail.config.rootfs.diff_ids.length, 1);
      assert.equal(detail.manifest.config.digest, id);
      const history = await engine.history(id.slice(7, 19));
      assert.equal(history.length, 1);
      assert.equal(history[0]!.id, id);
      assert.match(history[0]!.createdBy, /kiln import imp\.tar/);
      assert.equal(history[0]!.size, detail.manifest.layers[0]!.size);
    });

    test('an unknown image is NOT_FOUND, naming it', async () => {
      await assert.rejects(engine.inspectImage(name('absent')), (e: Error) => code('NOT_FOUND')(e) && e.message.includes(name('absent')));
      await assert.rejects(engine.removeImages([name('absent')]), code('NOT_FOUND'));
    });

    test('tag adds a name; rmi by name untags, the last name deletes', async () => {
      const id = await importImage('tag');
      await engine.tag(name('tag'), name('tag2') + ':v1');
      const both = (await engine.listImages()).filter((i) => i.id === id);
      assert.equal(both.length, 1);
      assert.deepEqual(both[0]!.repoTags, [full('tag'), full('tag2', 'v1')].sort());
      assert.deepEqual(await engine.removeImages([name('tag')]), { untagged: [full('tag')], deleted: [] });
      assert.equal((await engine.inspectImage(name('tag2') + ':v1')).id, id);
      const last = await engine.removeImages([name('tag2') + ':v1']);
      assert.ok(last.untagged.includes(full('tag2', 'v1')));
      assert.deepEqual(last.deleted, [id]);
      await assert.rejects(engine.inspectImage(id), code('NOT_FOUND'));
    });

    test('a name moved to another image leaves the old one without a name (dangling) until it is removed by ID', async () => {
      const old = await importImage('moved');
      const moved = await engine.importRootfs(Readable.from([await rootfsTar('moved')]), { reference: name('moved'), changes: ['ENV MOVED=1'], source: 'moved.tar' });
      assert.notEqual(moved, old);
      const listed = (await engine.listImages()).find((i) => i.id === old);
      assert.deepEqual(listed?.repoTags, [], 'the old image is listed without a name');
      assert.equal((await engine.inspectImage(name('moved'))).id, moved);
      assert.deepEqual((await engine.removeImages([old])).deleted, [old]);
      assert.equal((await engine.listImages()).some((i) => i.id === old), false);
      await engine.removeImages([name('moved')]);
    });

    test('rmi by ID of an image with two names needs force', async () => {
      const id = await importImage('force');
      await engine.tag(name('force'), name('force-b'));
      await assert.rejects(engine.removeImages([id]), (e: Error) => code('INVALID_ARGUMENT')(e) && /must be forced/.test(e.message));
      const r = await engine.removeImages([id], { force: true });
      assert.deepEqual([...r.untagged].filter((n) => !n.includes('@')).sort(), [full('force'), full('force-b')].sort());
      assert.deepEqual(r.deleted, [id]);
      assert.equal((await engine.listImages()).some((i) => i.id === id), false);
    });

    test('push to a registry, remove, pull back: same ID and digest; a second pull is up to date', async () => {
      const id = await importImage('push');
      const remote = `${registry.host}/${name('push')}:v1`;
      await engine.tag(name('push'), remote);
      const pushed = await engine.push(remote);
      assert.match(pushed.digest, /^sha256:/);
      await engine.removeImages([id], { force: true });
      const pulled = await engine.pull(remote);
      assert.deepEqual({ id: pulled.id, digest: pulled.digest, reference: pulled.reference, upToDate: pulled.upToDate }, { id, digest: pushed.digest, reference: remote, upToDate: false });
      const detail = await engine.inspectImage(remote);
      assert.deepEqual(detail.repoDigests, [`${registry.host}/${name('push')}@${pushed.digest}`]);
      assert.equal((await engine.pull(remote)).upToDate, true);
    });

    test('save then load restores the names and the ID', async () => {
      const id = await importImage('save');
      const out = new PassThrough();
      const chunks: Buffer[] = [];
      out.on('data', (c: Buffer) => chunks.push(c));
      await engine.save([name('save')], out);
      out.end();
      await engine.removeImages([name('save')]);
      await assert.rejects(engine.inspectImage(name('save')), code('NOT_FOUND'));
      const loaded = await engine.load(Readable.from([Buffer.concat(chunks)]));
      assert.deepEqual(loaded, [{ name: full('save'), id }]);
      assert.equal((await engine.inspectImage(name('save'))).id, id);
    });

    test('listImages filters by repository and tag', async () => {
      const id = await importImage('filter');
      await engine.tag(name('filter'), name('filter') + ':other');
      assert.deepEqual((await engine.listImages({ reference: name('filter') + ':other' })).map((i) => i.id), [id]);
      assert.deepEqual((await engine.listImages({ reference: name('filter') + ':nope' })).length, 0);
    });

    test('events: a subscription sees tag, untag and delete as they happen, and ends when its signal aborts', async () => {
      const id = await importImage('events');
      const ac = new AbortController();
      const read = eventReader(engine.events({ since: new Date(), follow: true, filters: ['type=image'], signal: ac.signal }));
      /** Reads events until one matches, within ms. */
      const waitFor = async (want: (e: KilnEvent) => boolean, ms: number): Promise<KilnEvent | undefined> => {
        for (const end = Date.now() + ms; Date.now() < end; ) {
          const r = await read(end - Date.now());
          if (r === 'timeout') return undefined;
          assert.ok(!r.done, 'the stream ended before the signal aborted');
          if (want(r.value)) return r.value;
        }
        return undefined;
      };
      // A subscription that is not yet live misses what happens before it is: tag probes until one is seen.
      let live = false;
      for (let i = 0; i < 30 && !live; i++) {
        await engine.tag(name('events'), `${name('events-probe')}:${i}`);
        live = (await waitFor((e) => e.action === 'tag' && e.attributes.name === full('events-probe', String(i)), 1000)) !== undefined;
      }
      assert.ok(live, 'no probe tag event within 30 s');

      await engine.tag(name('events'), `${name('events-named')}:v1`);
      await engine.removeImages([`${name('events-named')}:v1`]);
      const tagged = await waitFor((e) => e.attributes.name === full('events-named', 'v1'), 10_000);
      assert.deepEqual(tagged && { action: tagged.action, id: tagged.id }, { action: 'tag', id: full('events-named', 'v1') });
      assert.match(tagged!.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      const untagged = await waitFor((e) => e.attributes.name === full('events-named', 'v1'), 10_000);
      assert.deepEqual(untagged && { action: untagged.action, id: untagged.id }, { action: 'untag', id: full('events-named', 'v1') });

      await engine.removeImages([id], { force: true });
      const deleted = await waitFor((e) => e.action === 'delete', 10_000);
      assert.equal(deleted?.id, id);

      ac.abort();
      let end = await read(5000);
      while (end !== 'timeout' && !end.done) end = await read(5000);
      assert.notEqual(end, 'timeout', 'the stream did not end within 5 s of the abort');
    });

    test('events: an unknown filter key is INVALID_ARGUMENT, naming it', async () => {
      const it = engine.events({ filters: ['colour=red'], follow: true })[Symbol.asyncIterator]();
      await assert.rejects(it.next(), (e: Error) => code('INVALID_ARGUMENT')(e) && e.message.includes('colour=red'));
    });

    test('check finds nothing wrong', async () => {
      assert.deepEqual(await engine.check(), []);
    });
  });
}
