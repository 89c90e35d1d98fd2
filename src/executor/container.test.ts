/**
 * `kiln executor` where it is meant to run: the packaged executable (dist/kiln)
 * inside a runc container with Docker's default capabilities (no
 * CAP_SYS_ADMIN: no mounts, no namespaces), the image's root being the
 * container's own `/`, pushing to a real registry with htpasswd credentials
 * from a mounted docker config. Its images have the config and filesystem
 * `kiln build` gives for the corpus, and no RUN step can read the credentials.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { kiln, kilnExe, kilnOk } from '../testing/kiln.js';
import { startRegistry, type TestRegistry } from '../testing/index.js';
import { buildFixture, type BuildFixture } from '../builder/test-support.js';
import { comparableConfig, CORPUS, FILES, readLayout, treeOf, unpackImage } from './test-support.js';

let fx: BuildFixture;
let reg: TestRegistry;
let base: string;
let env: Record<string, string>;
let libs: string;
let auth: string;

/** The shared libraries dist/kiln loads and the dynamic loader, copied into `dir` (the container has no libc of its own). */
function copyLibs(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const out = execFileSync('ldd', [kilnExe()], { encoding: 'utf8' });
  for (const m of out.matchAll(/(\/\S+\.so[.\d]*)/g)) copyFileSync(m[1]!, path.join(dir, path.basename(m[1]!)));
}

before(async () => {
  assert.ok(existsSync(kilnExe()), 'dist/kiln is missing: run npm run package');
  fx = await buildFixture('kiln-exec-ctr-');
  reg = await startRegistry({ auth: 'htpasswd' });
  auth = Buffer.from('testuser:testpassword').toString('base64');
  const conf = path.join(fx.tmp, 'host-docker');
  mkdirSync(conf);
  writeFileSync(path.join(conf, 'config.json'), JSON.stringify({ auths: { [reg.host]: { auth } } }));
  env = { DOCKER_CONFIG: conf };
  base = `${reg.host}/base/busybox:1`;
  await kilnOk(['tag', 'busybox', base], { root: fx.root });
  await kilnOk(['push', base], { root: fx.root, env });
  // The container's image: nothing but the directories kiln's mounts go to (kiln itself is bind-mounted in).
  const img = path.join(fx.tmp, 'img');
  for (const d of ['kiln/bin', 'kiln/lib', 'kiln/state', 'workspace', 'docker-config', 'out']) mkdirSync(path.join(img, d), { recursive: true });
  execFileSync('tar', ['-C', img, '-cf', path.join(fx.tmp, 'img.tar'), '.']);
  await kilnOk(['import', path.join(fx.tmp, 'img.tar'), 'executor-host:1'], { root: fx.root });
  libs = path.join(fx.tmp, 'libs');
  copyLibs(libs);
});
after(async () => {
  await reg?.stop();
  await fx?.cleanup();
});

/** Runs `kiln executor ARGS` in a fresh container; the context, a docker config and /out are mounted from the host. */
async function inContainer(name: string, ctx: string, args: string[]) {
  const conf = path.join(fx.tmp, `${name}-docker`);
  const out = path.join(fx.tmp, `${name}-out`);
  mkdirSync(conf);
  mkdirSync(out);
  writeFileSync(path.join(conf, 'config.json'), JSON.stringify({ auths: { [reg.host]: { auth } } }));
  const r = await kiln(
    ['run', '--rm', '--network', 'host', '-v', `${path.dirname(kilnExe())}:/kiln/bin:ro`, '-v', `${libs}:/kiln/lib:ro`, '-v', `${ctx}:/workspace:ro`,
      '-v', `${conf}:/docker-config`, '-v', `${out}:/out`, '-e', 'DOCKER_CONFIG=/docker-config',
      '--entrypoint', '/kiln/lib/ld-linux-x86-64.so.2', 'executor-host:1', '--library-path', '/kiln/lib', '/kiln/bin/kiln',
      'executor', '--context', 'dir:///workspace', '--state-dir', '/kiln/state', ...args],
    { root: fx.root },
  );
  return { ...r, out, conf };
}

for (const [name, text] of Object.entries(CORPUS)) {
  test(`in an unprivileged container, executor builds what kiln build does: ${name}`, async () => {
    const ctx = fx.context({ ...FILES, Dockerfile: text(base) });
    const tar = path.join(fx.tmp, `${name}-build.tar`);
    await fx.buildOk(['-o', `type=oci,dest=${tar}`, ctx], undefined, env);
    const built = readLayout(path.join(fx.tmp, `${name}-build`), tar);
    const r = await inContainer(name, ctx, ['--destination', `${reg.host}/ctr/${name}:1`, '--oci-layout-path', '/out/layout', '--digest-file', '/out/digest']);
    assert.equal(r.code, 0, r.stderr);
    const digest = readFileSync(path.join(r.out, 'digest'), 'utf8');
    assert.equal(r.stdout.trim(), digest);
    const mine = readLayout(path.join(r.out, 'layout'));
    assert.deepEqual(comparableConfig(mine.config), comparableConfig(built.config));
    const a = path.join(fx.tmp, `${name}-fs-build`);
    const b = path.join(fx.tmp, `${name}-fs-exec`);
    await unpackImage(built, a);
    await unpackImage(mine, b);
    assert.deepEqual(treeOf(b), treeOf(a));
    // Pushed with the mounted credentials, under the digest it printed.
    const res = await fetch(`http://${reg.host}/v2/ctr/${name}/manifests/1`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json', authorization: `Basic ${auth}` } });
    assert.equal(res.status, 200);
    assert.equal(`sha256:${createHash('sha256').update(Buffer.from(await res.arrayBuffer())).digest('hex')}`, digest);
  });
}

test('in the container, RUN steps cannot read the push credentials and have no CAP_SYS_ADMIN', async () => {
  const ctx = fx.context({
    Dockerfile: `FROM ${base}
RUN if [ -e /docker-config/config.json ]; then cp /docker-config/config.json /leak; else echo gone > /leak; fi; ls -a /docker-config > /listing
RUN grep CapEff /proc/self/status > /caps
`,
  });
  const r = await inContainer('creds', ctx, ['--destination', `${reg.host}/ctr/creds:1`, '--oci-layout-path', '/out/layout']);
  assert.equal(r.code, 0, r.stderr);
  const img = readLayout(path.join(r.out, 'layout'));
  const fs = path.join(fx.tmp, 'creds-fs');
  await unpackImage(img, fs);
  assert.equal(readFileSync(path.join(fs, 'leak'), 'utf8'), 'gone\n');
  assert.equal(readFileSync(path.join(fs, 'listing'), 'utf8'), '.\n..\n');
  const capEff = BigInt(`0x${readFileSync(path.join(fs, 'caps'), 'utf8').split(/\s+/)[1]}`);
  assert.equal(capEff & (1n << 21n), 0n, 'CAP_SYS_ADMIN is not in the RUN step\'s effective set');
  assert.notEqual(capEff & (1n << 0n), 0n, 'CAP_CHOWN is (the default set)');
  // No layer holds the credentials; the file is gone from the mounted directory.
  for (const l of img.manifest.layers) assert.ok(!gunzipSync(readFileSync(img.blob(l.digest))).includes(auth));
  assert.deepEqual(readdirSync(r.conf), []);
  const res = await fetch(`http://${reg.host}/v2/ctr/creds/manifests/1`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json', authorization: `Basic ${auth}` } });
  assert.equal(res.status, 200);
});
