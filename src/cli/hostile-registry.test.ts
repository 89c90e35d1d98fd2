/**
 * `kiln pull` from a hostile registry (an in-process fake: the real one
 * cannot misbehave like this), as a user runs it: one line on stderr, exit 1,
 * and a store that `kiln system check` finds clean afterwards. Registries that
 * refuse in their answers (a status, a silent port): ./registry-refusals.test.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRegistryClient } from '../registry/client.js';
import { gzipSync } from 'node:zlib';
import { layerTar } from '../testing/store-fixture.js';
import { imageOfLayer, streamOf, tinyImage, type TestImage } from '../testing/blobs.js';
import { startHostileRegistry } from '../testing/hostile.js';
import { kiln, kilnBin, kilnOk, oneLine, patientRegistryEnv } from '../testing/kiln.js';
import { startRegistry } from '../testing/registry.js';
import { startContainerd } from '../testing/containerd.js';

let tmp: string;
before(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'kiln-cli-hostile-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

const MiB = 1 << 20;
let roots = 0;

/** The 1 s timeouts the stall test asserts. */
const impatient = { KILN_REGISTRY_CONNECT_TIMEOUT: '1s', KILN_REGISTRY_HEADERS_TIMEOUT: '1s', KILN_REGISTRY_READ_TIMEOUT: '1s' };

function setup(): { root: string; env: Record<string, string> } {
  const root = path.join(tmp, `root-${++roots}`);
  const env = { KILN_REGISTRIES_CONFIG: path.join(tmp, 'none.yaml'), DOCKER_CONFIG: path.join(tmp, 'docker'), ...patientRegistryEnv };
  return { root, env };
}

async function checkClean(root: string, env: Record<string, string>): Promise<void> {
  const r = await kiln(['--backend', 'local', 'system', 'check'], { root, env });
  assert.equal(r.code, 0, `kiln system check:\n${r.stdout}${r.stderr}`);
}

test('a layer bigger than its descriptor: the pull stops reading at its size, one line, the store stays clean', { timeout: 60_000 }, async () => {
  const img = tinyImage(1024);
  let sent: Promise<number> | undefined;
  const reg = await startHostileRegistry({
    image: img,
    misbehave: (req, res, _n, r) => {
      if (!req.url!.endsWith(img.layer.digest)) return false;
      sent = r.flood(res, {}, 300 * MiB); // no Content-Length
      return true;
    },
  });
  const { root, env } = setup();
  try {
    const r = await kiln(['--backend', 'local', 'pull', `${reg.host}/foo:latest`], { root, env });
    assert.equal(r.code, 1);
    assert.equal(
      oneLine(r.stderr),
      `kiln: blob ${img.layer.digest} from ${reg.host}/foo sends more than the ${img.layer.size} bytes its descriptor says; refused` +
        ' (the registry serves other content than its manifest names; tell its operators, or pull from another registry)',
    );
    assert.ok((await sent!) < 32 * MiB, `the registry sent ${await sent} bytes`);
    await checkClean(root, env);
  } finally {
    await reg.stop();
  }
});

/** An image whose layer is a real tar (containerd unpacks it): ~200 KB of text, gzipped. */
async function tarImage(): Promise<TestImage> {
  const raw = await layerTar({ 'data.txt': randomBytes(150_000).toString('hex') });
  return imageOfLayer(raw, gzipSync(raw), process.arch === 'x64' ? 'amd64' : process.arch);
}

async function pushImage(host: string, img: TestImage): Promise<void> {
  const c = createRegistryClient({ credentials: { get: async () => undefined }, registries: {} });
  try {
    const repo = c.repository(host, 'foo', ['pull', 'push']);
    for (const b of [img.config, img.layer]) await repo.pushBlob(b, async () => streamOf(b.bytes));
    await repo.putManifest('latest', img.manifest.bytes, img.mediaType);
  } finally {
    await c.close();
  }
}

test('bytes a hostile registry left in a partial download do not fail the next pull from a good one', { timeout: 60_000 }, async () => {
  const img = tinyImage(200_000);
  const good = await startRegistry();
  const reg = await startHostileRegistry({
    image: img,
    misbehave: (req, res, _n, r) => {
      if (!req.url!.endsWith(img.layer.digest)) return false;
      // garbage where the layer should be, then a reset: kiln keeps the partial for a resume
      r.resetAfter(res, { 'content-length': String(img.layer.size) }, randomBytes(20_000));
      return true;
    },
  });
  const { root, env } = setup();
  try {
    await pushImage(good.host, img);
    const bad = await kiln(['--backend', 'local', 'pull', `${reg.host}/foo:latest`], { root, env });
    assert.equal(bad.code, 1);
    assert.match(oneLine(bad.stderr), new RegExp(`^kiln: blob ${img.layer.digest} from ${reg.host.replace(/\./g, '\\.')}/foo: connection dropped 4 times`));

    const ok = await kilnOk(['--backend', 'local', 'pull', `${good.host}/foo:latest`], { root, env });
    assert.match(ok.stdout, new RegExp(`Digest: ${img.manifest.digest}`));
    assert.ok(readFileSync(path.join(root, 'blobs', 'sha256', img.layer.digest.slice(7))).equals(img.layer.bytes));
    await checkClean(root, env);
  } finally {
    await Promise.all([reg.stop(), good.stop()]);
  }
});

test('a registry that sends other bytes than the layer digest from byte 0 is the one named', { timeout: 60_000 }, async () => {
  const img = tinyImage(50_000);
  const reg = await startHostileRegistry({
    image: img,
    misbehave: (req, res) => {
      if (!req.url!.endsWith(img.layer.digest)) return false;
      res.writeHead(200, { 'content-length': String(img.layer.size) }).end(randomBytes(img.layer.size));
      return true;
    },
  });
  const { root, env } = setup();
  try {
    const r = await kiln(['--backend', 'local', 'pull', `${reg.host}/foo:latest`], { root, env });
    assert.equal(r.code, 1);
    assert.match(oneLine(r.stderr), new RegExp(`^kiln: blob ${img.layer.digest} from ${reg.host.replace(/\./g, '\\.')}/foo hashes to sha256:[a-f0-9]{64} \\(${img.layer.size} bytes\\) \\(the registry or a proxy altered the content; try again\\)$`));
    await checkClean(root, env);
  } finally {
    await reg.stop();
  }
});

test('a false Docker-Content-Digest for a tag: the pull is refused in one line naming the registry, nothing is stored', { timeout: 60_000 }, async () => {
  const img = tinyImage();
  const other = tinyImage();
  const reg = await startHostileRegistry({
    image: img,
    misbehave: (req, res) => {
      if (!req.url!.includes('/manifests/')) return false;
      res.writeHead(200, { 'content-type': img.mediaType, 'docker-content-digest': other.manifest.digest }).end(img.manifest.bytes);
      return true;
    },
  });
  const { root, env } = setup();
  try {
    const r = await kiln(['--backend', 'local', 'pull', `${reg.host}/foo:latest`], { root, env });
    assert.equal(r.code, 1);
    assert.match(
      oneLine(r.stderr),
      new RegExp(`^kiln: manifest for ${reg.host.replace(/\./g, '\\.')}/foo:latest from ${reg.host.replace(/\./g, '\\.')}: the registry says Docker-Content-Digest ${other.manifest.digest}, but the manifest it sent hashes to ${img.manifest.digest}; refused `),
    );
    const images = await kiln(['--backend', 'local', 'images', '-q'], { root, env });
    assert.equal(images.stdout.trim(), '');
    await checkClean(root, env);
  } finally {
    await reg.stop();
  }
});

test('a redirect loop and a reset mid-manifest: one line each that says what happened and where', { timeout: 60_000 }, async () => {
  const img = tinyImage();
  const reg = await startHostileRegistry({
    image: img,
    misbehave: (req, res, _n, r) => {
      if (req.url!.includes('/manifests/reset')) {
        r.resetAfter(res, { 'content-type': img.mediaType, 'content-length': String(img.manifest.size) }, img.manifest.bytes.subarray(0, 100));
        return true;
      }
      if (!req.url!.includes('/manifests/loop') && !req.url!.includes('/again/')) return false;
      res.writeHead(307, { location: `/v2/foo/again/${Date.now()}` }).end();
      return true;
    },
  });
  const { root, env } = setup();
  const host = reg.host.replace(/\./g, '\\.');
  try {
    const looped = await kiln(['--backend', 'local', 'pull', `${reg.host}/foo:loop`], { root, env });
    assert.equal(looped.code, 1);
    assert.match(oneLine(looped.stderr), new RegExp(`^kiln: registry ${host}: too many redirects for GET /v2/foo/manifests/loop \\(the last to http://${host}/v2/foo/again/\\d+\\) \\(the registry or a proxy in front of it redirects in a loop`));
    const reset = await kiln(['--backend', 'local', 'pull', `${reg.host}/foo:reset`], { root, env });
    assert.equal(reset.code, 1);
    assert.equal(
      oneLine(reset.stderr),
      `kiln: pulling ${reg.host}/foo: ${reg.host} reset the connection in the middle of the manifest for ${reg.host}/foo:reset (4 attempts)` +
        " (try again; if it keeps happening, check the registry's logs and the limits of any proxy in front of it)",
    );
    await checkClean(root, env);
  } finally {
    await reg.stop();
  }
});

test('stalls end within the timeouts set in the environment, in one line naming the registry and where', { timeout: 120_000 }, async () => {
  const img = tinyImage(8192);
  let hostile = true;
  const reg = await startHostileRegistry({
    image: img,
    misbehave: (req, res, _n, r) => {
      if (!hostile) return false;
      if (req.url!.includes('/manifests/silent')) {
        r.stall(res);
        return true;
      }
      if (!req.url!.endsWith(img.layer.digest)) return false;
      r.trickleBody(res, { 'content-length': String(img.layer.size) }, img.layer.bytes, 100); // 10 bytes a second
      return true;
    },
  });
  const { root, env: calm } = setup();
  const env = { ...calm, ...impatient };
  const host = reg.host.replace(/\./g, '\\.');
  try {
    const t0 = Date.now();
    const silent = await kiln(['--backend', 'local', 'pull', `${reg.host}/foo:silent`], { root, env });
    assert.equal(silent.code, 1);
    assert.equal(
      oneLine(silent.stderr),
      `kiln: registry ${reg.host} stalled: no response headers within 1 s (GET /v2/foo/manifests/silent, 4 attempts)` +
        ' (the registry or a proxy in front of it stopped answering; try again later (KILN_REGISTRY_HEADERS_TIMEOUT sets the limit))',
    );
    const trickled = await kiln(['--backend', 'local', 'pull', `${reg.host}/foo:latest`], { root, env });
    assert.equal(trickled.code, 1);
    assert.match(oneLine(trickled.stderr), new RegExp(`^kiln: blob ${img.layer.digest} from ${host}/foo stalled at byte \\d+: less than 1 KiB in 1 s, 4 attempts \\(`));
    // 2 pulls × 4 attempts of 1 s plus backoff, and kiln's start twice: far below the headers timeout's default (60 s)
    assert.ok(Date.now() - t0 < 45_000, `took ${Date.now() - t0} ms`);
    // what arrived is kept: once the registry behaves, the pull resumes from it
    hostile = false;
    const ranges = reg.log.length;
    await kilnOk(['--backend', 'local', 'pull', `${reg.host}/foo:latest`], { root, env: calm });
    assert.match(reg.log.slice(ranges).find((l) => l.url.endsWith(img.layer.digest))?.range ?? '', /^bytes=[1-9]\d*-$/);
    await checkClean(root, env);
  } finally {
    await reg.stop();
  }
});

test('on the containerd backend too, a poisoned partial left by a killed pull is dropped and the good pull completes', { timeout: 120_000 }, async () => {
  const img = await tarImage();
  const [good, ctd] = await Promise.all([startRegistry(), startContainerd()]);
  const reg = await startHostileRegistry({
    image: img,
    misbehave: (req, res, _n, r) => {
      if (!req.url!.endsWith(img.layer.digest)) return false;
      res.writeHead(200, { 'content-length': String(img.layer.size) });
      res.write(randomBytes(20_000)); // garbage, then nothing
      r.stall(res);
      return true;
    },
  });
  const { root, env } = setup();
  const backend = ['--backend', 'containerd', '--address', ctd.address];
  try {
    await pushImage(good.host, img);
    // kill -9 the pull from the hostile registry once containerd holds its garbage (its lease keeps the partial)
    const child = spawn(process.execPath, [kilnBin(), '--root', root, ...backend, 'pull', `${reg.host}/foo:latest`], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let hostileErr = '';
    child.stderr!.on('data', (c: Buffer) => (hostileErr += c.toString()));
    const exited = new Promise<void>((r) => child.on('close', () => r()));
    // the hostile pull stalls until killed (its read timeout is 30 s): wait on the partial, not on a count of polls
    const deadline = Date.now() + 60_000;
    for (let active = ''; !/kiln-\S+\s+(19\.5 ?KiB|20 ?kB|20000)/.test((active = await ctd.ctr(['content', 'active']))); ) {
      assert.ok(Date.now() < deadline, `no partial in containerd after 60 s:\n${active}\nhostile pull stderr: ${hostileErr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    await exited;

    const pulled = await kilnOk([...backend, 'pull', `${good.host}/foo:latest`], { root, env });
    assert.match(await ctd.ctr(['images', 'ls', '-q']), new RegExp(`^${good.host.replace(/\./g, '\\.')}/foo:latest$`, 'm'));
    assert.match(await ctd.ctr(['content', 'ls', '-q']), new RegExp(img.layer.digest));
    // The poisoned partial is gone, and so is every other ingest the killed pull left: its config's and its manifest's
    // (the kill may fall between the manifest's open and its commit, seen at 0 and 404 B at load 5 to 8) are
    // kiln-<digest>, which the good pull writes over and commits, not left to the killed pull's lease for an hour.
    const active = await ctd.ctr(['content', 'active']);
    assert.ok(!active.includes(`kiln-${img.layer.digest}`), `the poisoned partial is left:\n${active}\ngood pull stderr: ${pulled.stderr}`);
    assert.deepEqual(active.trim().split('\n').slice(1), [], `no ingest left:\n${active}\ngood pull stderr: ${pulled.stderr}`);
  } finally {
    await Promise.all([reg.stop(), good.stop(), ctd.stop()]);
  }
});
