/**
 * kaniko's build flags on `kiln executor`, with real registries: --reproducible (two runs, one digest),
 * --single-snapshot (one layer on the base, the same filesystem), --snapshot-mode (what a RUN's layer
 * holds), --registry-mirror (Docker Hub's base pulled from the mirror), and http(s) and git contexts
 * (a tar served on 127.0.0.1, a repository on git's smart HTTP).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { kiln, kilnOk } from '../testing/kiln.js';
import { startRegistry, type TestRegistry } from '../testing/index.js';
import { startGitServer, type TestGitServer } from '../testing/git-server.js';
import type { BuildFixture } from '../builder/test-support.js';
import { executorBase, readLayout, treeOf, unpackImage, type ExecutorBase } from './test-support.js';
import { kanikoGitUrl } from '../cli/commands/executor-context.js';

let fx: BuildFixture;
let mirror: TestRegistry;
let base: string;
let env: ExecutorBase | undefined;
before(async () => {
  ({ fx, base } = env = await executorBase('kiln-exec-flags-'));
  mirror = await startRegistry();
  await kilnOk(['tag', 'busybox', `${mirror.host}/library/busybox:1`], { root: fx.root });
  await kilnOk(['push', `${mirror.host}/library/busybox:1`], { root: fx.root });
});
after(async () => {
  await Promise.all([env?.stop(), mirror?.stop()]);
});

let runs = 0;
/** One executor run on a fresh root and state dir; answers its output and the image written as an OCI layout. */
async function run(context: string, extra: string[], env?: Record<string, string>) {
  const n = ++runs;
  const layout = path.join(fx.tmp, `layout${n}`);
  const r = await kiln(['executor', '--context', context, '--root', path.join(fx.tmp, `root${n}`), '--state-dir', path.join(fx.tmp, `state${n}`),
    '--no-push', '--oci-layout-path', layout, ...extra], { root: fx.root, ...(env ? { env } : {}) });
  assert.equal(r.code, 0, r.stderr);
  const image = readLayout(layout);
  const fs = path.join(fx.tmp, `fs${n}`);
  await unpackImage(image, fs);
  return { ...r, image, fs };
}

/** The paths in a layer blob (tar -t), without a leading ./ */
const layerPaths = (blob: string): string[] => execFileSync('tar', ['-tzf', blob], { encoding: 'utf8' }).split('\n').filter(Boolean).map((p) => p.replace(/^\.\//, '').replace(/\/$/, ''));

test('executor --reproducible: two runs on fresh state dirs give the same digest, with times at the epoch', async () => {
  const ctx = fx.context({ 'f.txt': 'file\n', Dockerfile: `FROM ${base}\nCOPY f.txt /f.txt\nRUN echo built > /built && mkdir -p /var/made\nENV X=1\n` });
  const a = await run(`dir://${ctx}`, ['--reproducible']);
  await new Promise((r) => setTimeout(r, 1100)); // a second later: any wall-clock time would differ
  const b = await run(`dir://${ctx}`, ['--reproducible']);
  assert.equal(a.stdout.trim(), b.stdout.trim());
  assert.equal(a.image.config.created, '1970-01-01T00:00:00Z');
  assert.equal(statSync(path.join(a.fs, 'built')).mtimeMs, 0);
  // Without it, two runs differ.
  const c = await run(`dir://${ctx}`, []);
  assert.notEqual(c.stdout.trim(), a.stdout.trim());
});

test('executor --single-snapshot: one layer on the base image, the same filesystem as one layer per step', async () => {
  const ctx = fx.context({ 'f.txt': 'file\n', Dockerfile: `FROM ${base}\nRUN echo a > /a && mkdir /d && echo x > /d/x\nCOPY f.txt /d/f.txt\nRUN rm /bin/ls /a && echo b > /b\nWORKDIR /w\nCMD ["sh"]\n` });
  const layered = await run(`dir://${ctx}`, []);
  const single = await run(`dir://${ctx}`, ['--single-snapshot=true']);
  const baseLayers = 1;
  assert.equal(layered.image.manifest.layers.length, baseLayers + 4);
  assert.equal(single.image.manifest.layers.length, baseLayers + 1);
  assert.equal(single.image.config.rootfs.diff_ids.length, baseLayers + 1);
  assert.equal((single.image.config.history ?? []).filter((h) => !h.empty_layer).length, baseLayers + 1);
  assert.deepEqual(single.image.config.config, layered.image.config.config);
  assert.deepEqual(treeOf(single.fs), treeOf(layered.fs));
  assert.ok(!existsSync(path.join(single.fs, 'bin/ls')) && !existsSync(path.join(single.fs, 'a')));
  const top = layerPaths(single.image.blob(single.image.manifest.layers[baseLayers]!.digest));
  for (const p of ['b', 'd/x', 'd/f.txt', 'w', 'bin/.wh.ls']) assert.ok(top.includes(p), `${p} in the layer: ${top.join(' ')}`);
  assert.ok(!top.includes('a') && !top.includes('.wh.a'), 'a file made and deleted by the build is in no layer');
});

test('executor --snapshot-mode: full leaves a touched file out of the layer, the default and time take it; a bad mode is one line', async () => {
  const ctx = fx.context({ Dockerfile: `FROM ${base}\nRUN touch /etc/passwd && echo new > /new\n` });
  const topOf = (r: Awaited<ReturnType<typeof run>>) => layerPaths(r.image.blob(r.image.manifest.layers.at(-1)!.digest));
  assert.ok(topOf(await run(`dir://${ctx}`, [])).includes('etc/passwd'));
  assert.ok(topOf(await run(`dir://${ctx}`, ['--snapshot-mode', 'time'])).includes('etc/passwd'));
  const full = topOf(await run(`dir://${ctx}`, ['--snapshot-mode', 'full']));
  assert.ok(full.includes('new') && !full.includes('etc/passwd'), full.join(' '));
  const bad = await kiln(['executor', '--context', `dir://${ctx}`, '--root', path.join(fx.tmp, 'bad-root'), '--state-dir', path.join(fx.tmp, 'bad-state'), '--no-push', '--snapshot-mode', 'fast'], { root: fx.root });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--snapshot-mode fast: use full, redo, time/);
});

test("executor --registry-mirror: Docker Hub's base image comes from the mirror", async () => {
  const ctx = fx.context({ Dockerfile: 'FROM busybox:1\nRUN echo through the mirror > /m\n' });
  const r = await run(`dir://${ctx}`, ['--registry-mirror', mirror.host]);
  assert.equal(readFileSync(path.join(r.fs, 'm'), 'utf8'), 'through the mirror\n');
});

test('executor --context http://…tar.gz and git (git://…#ref over http with GIT_PULL_METHOD, https://…git#ref)', async () => {
  const ctx = fx.context({ 'msg.txt': 'from a tar\n', 'sub/Dockerfile': `FROM ${base}\nCOPY msg.txt /msg\n` });
  const tar = path.join(fx.tmp, 'ctx.tar.gz');
  execFileSync('tar', ['-czf', tar, '-C', ctx, '.']);
  const server: Server = createServer((req, res) => {
    if (req.url !== '/ctx.tar.gz') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/gzip' });
    createReadStream(tar).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  let git: TestGitServer | undefined;
  try {
    const fromTar = await run(`${url}/ctx.tar.gz`, ['--dockerfile', 'sub/Dockerfile']);
    assert.equal(readFileSync(path.join(fromTar.fs, 'msg'), 'utf8'), 'from a tar\n');
    const missing = await kiln(['executor', '--context', `${url}/nope.tar`, '--root', path.join(fx.tmp, 'm-root'), '--state-dir', path.join(fx.tmp, 'm-state'), '--no-push'], { root: fx.root });
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /fetching the build context http:\/\/127\.0\.0\.1:\d+\/nope\.tar: HTTP 404/);

    git = await startGitServer();
    await git.commit('app.git', { Dockerfile: `FROM ${base}\nCOPY msg.txt /msg\n`, 'msg.txt': 'from main\n' });
    await git.commit('app.git', { 'msg.txt': 'from dev\n' }, { branch: 'dev' });
    const host = git.url.slice('http://'.length);
    const dev = await run(`git://${host}/app.git#dev`, [], { GIT_PULL_METHOD: 'http' });
    assert.equal(readFileSync(path.join(dev.fs, 'msg'), 'utf8'), 'from dev\n');
    assert.ok(!existsSync(path.join(dev.fs, '.git')));
    const main = await run(`${git.url}/app.git#main`, []);
    assert.equal(readFileSync(path.join(main.fs, 'msg'), 'utf8'), 'from main\n');
  } finally {
    server.close();
    await git?.stop();
  }
  assert.equal(kanikoGitUrl('git://h/r.git#v1', undefined), 'https://h/r.git#v1');
  assert.equal(kanikoGitUrl('https://h/r.git#v1', 'http'), 'https://h/r.git#v1');
});
