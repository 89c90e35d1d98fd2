/**
 * Reproducible builds: SOURCE_DATE_EPOCH (build arg, environment, or the
 * Dockerfile's global ARG default) makes two builds of one context on two
 * fresh roots give the same image, whatever the files' times and the cache.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

import { buildFixture, type BuildFixture } from './test-support.js';
import { kilnOk } from '../testing/kiln.js';

/** A layer's tar: builds store layers uncompressed; a gzip one (--compression gzip) is inflated. */
const tarOf = (b: Buffer): Buffer => (b[0] === 0x1f && b[1] === 0x8b ? gunzipSync(b) : b);

const EPOCH = 1700000000;
const AT = '2023-11-14T22:13:20Z';

let a: BuildFixture;
let b: BuildFixture;
before(async () => {
  [a, b] = await Promise.all([buildFixture('kiln-repro-a-'), buildFixture('kiln-repro-b-')]);
  // The same base image in both roots (an import stamps its own time): saved from a, loaded into b.
  const saved = path.join(a.tmp, 'busybox.tar');
  await kilnOk(['save', '-o', saved, 'busybox:latest'], { root: a.root });
  await kilnOk(['load', '-i', saved], { root: b.root });
  assert.equal((await b.inspect('busybox')).Id, (await a.inspect('busybox')).Id);
});
after(async () => {
  for (const fx of [a, b]) {
    await fx.assertNoLeftovers();
    await fx.cleanup();
  }
});

const DOCKERFILE = `FROM busybox
ARG SOURCE_DATE_EPOCH
WORKDIR /app
COPY f ./f
COPY dir/ ./dir/
RUN echo "built at $SOURCE_DATE_EPOCH" > /app/made && mkdir /app/d && touch /app/d/x
ENV X=1
CMD ["sh"]
`;

const blob = (fx: BuildFixture, digest: string): Buffer => readFileSync(path.join(fx.root, 'blobs', 'sha256', digest.slice('sha256:'.length)));

interface Header {
  name: string;
  mtime: number;
  uname: string;
  gname: string;
  typeflag: string;
}

/** The ustar headers of an uncompressed tar, read by offset (name, mtime, typeflag, uname, gname). */
function headers(tar: Buffer): Header[] {
  const out: Header[] = [];
  const str = (b: Buffer) => b.toString('latin1').replace(/\0.*$/s, '');
  for (let off = 0; off + 512 <= tar.length; ) {
    const h = tar.subarray(off, off + 512);
    if (h.every((x) => x === 0)) break;
    const size = parseInt(str(h.subarray(124, 136)).trim() || '0', 8);
    out.push({ name: str(h.subarray(0, 100)), mtime: parseInt(str(h.subarray(136, 148)).trim(), 8), typeflag: String.fromCharCode(h[156]), uname: str(h.subarray(265, 297)), gname: str(h.subarray(297, 329)) });
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

async function build(fx: BuildFixture, ctx: string, args: string[], env?: Record<string, string>) {
  const meta = path.join(fx.tmp, `meta-${Date.now()}-${Math.random()}.json`);
  const r = await fx.buildOk(['-q', '--metadata-file', meta, ...args, ctx], undefined, env);
  const m = JSON.parse(readFileSync(meta, 'utf8')) as Record<string, string>;
  return { id: r.stdout.trim(), manifest: m['containerimage.digest'], stderr: r.stderr };
}

test('SOURCE_DATE_EPOCH: two fresh roots give the same image digest, file times and cache notwithstanding', async () => {
  const ctx = a.context({ Dockerfile: DOCKERFILE, f: 'file\n', 'dir/sub/g': 'g\n' });
  const first = await build(a, ctx, ['-t', 'repro:1', '--build-arg', `SOURCE_DATE_EPOCH=${EPOCH}`]);
  assert.doesNotMatch(first.stderr, /SOURCE_DATE_EPOCH/, 'no unused-build-arg warning');

  // Root b: a build without the epoch fills its cache first; then the files are touched.
  const plain = await build(b, ctx, ['-t', 'plain:1']);
  assert.notEqual(plain.id, first.id, 'without SOURCE_DATE_EPOCH the image differs');
  const later = Date.now() / 1000 + 3600;
  for (const f of ['f', 'dir', 'dir/sub', 'dir/sub/g', 'Dockerfile']) utimesSync(path.join(ctx, f), later, later);
  // The environment, as buildx takes it, gives the same as the build arg.
  const second = await build(b, ctx, ['-t', 'repro:1'], { SOURCE_DATE_EPOCH: String(EPOCH) });
  assert.equal(second.id, first.id);
  assert.equal(second.manifest, first.manifest);
  assert.match(first.manifest, /^sha256:[0-9a-f]{64}$/);

  // created: the config and every new history entry; the base image's entries are kept.
  const config = JSON.parse(blob(a, first.id).toString()) as { created: string; history: { created: string; created_by: string }[] };
  const base = JSON.parse(blob(a, (await a.inspect('busybox')).Id).toString()) as { history?: { created: string }[] };
  assert.equal(config.created, AT);
  const own = config.history.slice(base.history?.length ?? 0);
  assert.equal(own.length, 7);
  assert.deepEqual(own.map((h) => h.created), Array(7).fill(AT));
  assert.deepEqual(config.history.slice(0, base.history?.length ?? 0), base.history ?? []);

  // New layers: every mtime clamped, no owner names, entries in byte order, nothing host-specific.
  const manifest = JSON.parse(blob(a, first.manifest).toString()) as { layers: { digest: string }[] };
  const own3 = manifest.layers.slice(-4);
  const all = own3.flatMap((l) => headers(tarOf(blob(a, l.digest))));
  assert.ok(all.length > 5);
  for (const h of all) {
    assert.ok(h.mtime <= EPOCH, `${h.name}: mtime ${h.mtime} is after the epoch`);
    assert.equal(h.uname, '', h.name);
    assert.equal(h.gname, '', h.name);
    assert.ok(['0', '5', '2', '1'].includes(h.typeflag), `${h.name}: unexpected type ${h.typeflag} (no PAX atime/ctime records)`);
  }
  const copied = headers(tarOf(blob(a, manifest.layers.at(-2)!.digest))).map((h) => h.name);
  assert.deepEqual(copied, [...copied].sort());
  assert.deepEqual(copied, ['app/', 'app/dir/', 'app/dir/sub/', 'app/dir/sub/g']);
  assert.ok(all.some((h) => h.name === 'app/made' && h.mtime === EPOCH), 'a file the RUN step wrote has the epoch as its time');
});

test("SOURCE_DATE_EPOCH: the Dockerfile's global ARG default, and a bad value", async () => {
  const ctx = a.context({ Dockerfile: `ARG SOURCE_DATE_EPOCH=${EPOCH}\nFROM busybox\nRUN touch /x\n` });
  const r = await build(a, ctx, ['-t', 'argdefault:1']);
  const config = JSON.parse(blob(a, r.id).toString()) as { created: string; history: { created: string }[] };
  assert.equal(config.created, AT);
  assert.equal(config.history.at(-1)!.created, AT);
  // Only FROM: the base's created, clamped to the epoch when it is later.
  const onlyFrom = a.context({ Dockerfile: 'FROM busybox\n' });
  const bare = await build(a, onlyFrom, ['--build-arg', 'SOURCE_DATE_EPOCH=0']);
  assert.equal((JSON.parse(blob(a, bare.id).toString()) as { created: string }).created, '1970-01-01T00:00:00Z');

  const bad = await a.build(['--build-arg', 'SOURCE_DATE_EPOCH=yesterday', onlyFrom]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--build-arg: SOURCE_DATE_EPOCH="yesterday" is not a number of seconds/);
});
