/**
 * `compression=estargz` on build outputs: an OCI archive whose layers are
 * eStargz (footer, TOC digest and uncompressed-size annotations, the config's
 * diff IDs those of the new tars, the same files as the plain layers), and
 * the stargz-snapshotter's own reader (src/testing/estargz-check.ts) verifying TOC and chunks, and
 * `-o type=registry,compression=estargz` pushed to a real docker-registry,
 * pulled by a fresh store and run.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { startRegistry, type TestRegistry } from '../testing/registry.js';
import { kilnOk } from '../testing/kiln.js';
import { tarEntries } from '../layer/testing.js';
import { estargzCheck } from '../testing/estargz-check.js';
import { FOOTER_SIZE, parseEstargzFooter, type Toc } from '../layer/estargz-toc.js';
import { buildFixture, type BuildFixture } from './test-support.js';

const TOC_DIGEST = 'containerd.io/snapshot/stargz/toc.digest';
const USIZE = 'io.containers.estargz.uncompressed-size';
const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const big = randomBytes(3 << 20).toString('hex'); // 6 MiB: two chunks of the default 4 MiB

let fx: BuildFixture;
let reg: TestRegistry;
let ctx: string;
before(async () => {
  [fx, reg] = await Promise.all([buildFixture('kiln-estargz-'), startRegistry()]);
  ctx = fx.context({ Dockerfile: 'FROM busybox\nCOPY big.bin hello.txt /data/\nRUN echo ran > /ran && ln -s /data/hello.txt /hello\n', 'big.bin': big, 'hello.txt': 'hello\n' });
});
after(async () => {
  await reg?.stop();
  await fx?.assertNoLeftovers();
  await fx?.cleanup();
});

type Manifest = { config: { digest: string }; layers: { mediaType: string; digest: string; annotations?: Record<string, string> }[] };
type Config = { rootfs: { diff_ids: string[] } } & Record<string, unknown>;
const file = (tarPath: string, name: string): Buffer => execFileSync('tar', ['-xOf', tarPath, name], { maxBuffer: 256 << 20 });
const blob = (tarPath: string, digest: string): Buffer => file(tarPath, `blobs/sha256/${digest.slice(7)}`);
function image(tarPath: string): { manifest: Manifest; config: Config } {
  const index = JSON.parse(file(tarPath, 'index.json').toString()) as { manifests: { digest: string }[] };
  const manifest = JSON.parse(blob(tarPath, index.manifests[0]!.digest).toString()) as Manifest;
  return { manifest, config: JSON.parse(blob(tarPath, manifest.config.digest).toString()) as Config };
}

/** An eStargz blob's TOC, checked against its footer and its descriptor's annotations. */
function checkedToc(b: Buffer, annotations: Record<string, string>): Toc {
  const tocOffset = parseEstargzFooter(b.subarray(b.length - FOOTER_SIZE));
  assert.ok(tocOffset !== undefined, 'the blob ends with an eStargz footer');
  const tocTar = gunzipSync(b.subarray(tocOffset, b.length - FOOTER_SIZE));
  assert.equal(tocTar.subarray(0, 17).toString(), 'stargz.index.json');
  const json = tocTar.subarray(512, 512 + parseInt(tocTar.subarray(124, 136).toString(), 8));
  assert.equal(annotations[TOC_DIGEST], sha(json));
  return JSON.parse(json.toString()) as Toc;
}

test('-o type=oci,compression=estargz: eStargz layers (footer, TOC, annotations, new diff IDs), the same entries as the plain layers', async () => {
  const plain = path.join(fx.tmp, 'plain.tar');
  const esgz = path.join(fx.tmp, 'esgz.tar');
  await fx.buildOk(['-q', '-o', `type=oci,dest=${plain},compression=uncompressed`, ctx]);
  await fx.buildOk(['-q', '-o', `type=oci,dest=${esgz},compression=estargz`, ctx]);
  const p = image(plain);
  const e = image(esgz);
  assert.equal(e.manifest.layers.length, p.manifest.layers.length);
  const { rootfs: _p, ...plainRest } = p.config;
  const { rootfs: _e, ...esgzRest } = e.config;
  assert.deepEqual(esgzRest, plainRest, 'the config differs only in its diff IDs');
  for (const [i, l] of e.manifest.layers.entries()) {
    assert.equal(l.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
    const b = blob(esgz, l.digest);
    const tar = gunzipSync(b);
    assert.equal(e.config.rootfs.diff_ids[i], sha(tar), `layer ${i}: the diff ID is the eStargz tar's`);
    assert.equal(l.annotations?.[USIZE], String(tar.length));
    const toc = checkedToc(b, l.annotations!);
    const entries = await tarEntries(tar);
    assert.deepEqual([entries[0]!.name, entries.at(-1)!.name], ['.no.prefetch.landmark', 'stargz.index.json']);
    assert.deepEqual(entries.slice(1, -1), await tarEntries(blob(plain, p.manifest.layers[i]!.digest)), `layer ${i}: the plain layer's entries`);
    assert.deepEqual(toc.entries.filter((t) => t.type !== 'chunk').map((t) => t.name), entries.slice(0, -1).map((x) => x.name), `layer ${i}: the TOC lists every entry`);
    // The stargz-snapshotter's reader: the footer, the TOC against the annotation, every chunk against the TOC.
    const blobFile = path.join(fx.tmp, `layer-${i}.esgz`);
    writeFileSync(blobFile, b);
    const checked = await estargzCheck(blobFile, l.annotations![TOC_DIGEST]!);
    const regular = toc.entries.filter((t) => t.type === 'reg' && (t.size ?? 0) > 0);
    assert.equal(checked.files, regular.length, `layer ${i}: every non-empty file read`);
    assert.equal(checked.chunks, toc.entries.filter((t) => t.chunkDigest).length, `layer ${i}: every chunk verified`);
    const clean = (n: string) => path.posix.normalize(`/${n}`).slice(1).replace(/\/$/, '');
    for (const t of toc.entries) if (clean(t.name)) assert.ok(checked.names.includes(clean(t.name)), `layer ${i}: ${t.name} in the reader's tree`);
  }
  const wrong = path.join(fx.tmp, 'layer-0.esgz');
  await assert.rejects(estargzCheck(wrong, sha('not the TOC')), /verify TOC: invalid TOC JSON/, 'a wrong TOC digest is refused by the reader');
  const copy = checkedToc(blob(esgz, e.manifest.layers[1]!.digest), e.manifest.layers[1]!.annotations!);
  const bigEntries = copy.entries.filter((t) => t.name === 'data/big.bin');
  assert.deepEqual(bigEntries.map((t) => [t.type, t.chunkOffset ?? 0, t.chunkSize ?? 0]), [['reg', 0, 4 << 20], ['chunk', 4 << 20, 0]]);
  assert.equal(bigEntries[0]!.digest, sha(big));
});

test('-o type=registry,compression=estargz: the pushed layers are eStargz; a fresh store pulls and runs the image', async () => {
  const name = `${reg.host}/app:esgz`;
  const built = await fx.buildOk(['-q', '-o', `type=registry,name=${name},compression=estargz`, ctx]);
  const res = await fetch(`${reg.url}/v2/app/manifests/esgz`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(res.status, 200);
  const manifest = (await res.json()) as Manifest;
  assert.equal(manifest.config.digest, built.stdout.trim(), 'the image ID printed is the pushed config');
  for (const l of manifest.layers) {
    assert.equal(l.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
    const b = Buffer.from(await (await fetch(`${reg.url}/v2/app/blobs/${l.digest}`)).arrayBuffer());
    checkedToc(b, l.annotations ?? {});
  }
  const root = path.join(fx.tmp, 'fresh');
  const run = await kilnOk(['run', '--rm', name, 'sh', '-c', 'cat /ran /hello && sha256sum /data/big.bin'], { root });
  assert.equal(run.stdout, `ran\nhello\n${sha(big).slice(7)}  /data/big.bin\n`);
});
