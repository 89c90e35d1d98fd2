/**
 * `kiln executor` on the host with --root DIR standing for the container's `/`
 * (RUN steps through chroot): the image it builds has the config and the
 * filesystem `kiln build` gives for the same Dockerfile, it is pushed to a real
 * registry under the digest it reports, and a rebuild is answered from the
 * step cache. (executor-container.test.ts runs it in an unprivileged container.)
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { kiln, kilnOk } from '../testing/kiln.js';
import type { TestRegistry } from '../testing/index.js';
import type { BuildFixture } from '../builder/test-support.js';
import { comparableConfig, CORPUS, executorBase, FILES, readLayout, treeOf, unpackImage, type ExecutorBase } from './test-support.js';

let fx: BuildFixture;
let reg: TestRegistry;
let base: string;
let env: ExecutorBase | undefined;
before(async () => {
  ({ fx, reg, base } = env = await executorBase('kiln-exec-'));
});
after(() => env?.stop());


async function kilnBuildImage(name: string, dockerfile: string) {
  const ctx = fx.context({ ...FILES, Dockerfile: dockerfile });
  const tar = path.join(fx.tmp, `${name}-build.tar`);
  await fx.buildOk(['-o', `type=oci,dest=${tar}`, ctx]);
  return readLayout(path.join(fx.tmp, `${name}-build`), tar);
}

function executor(args: string[], env?: Record<string, string>) {
  return kiln(['executor', ...args], { root: fx.root, ...(env ? { env } : {}) });
}

for (const [name, text] of Object.entries(CORPUS)) {
  test(`executor and kiln build give the same image: ${name}`, async () => {
    const dockerfile = text(base);
    const built = await kilnBuildImage(name, dockerfile);
    const ctx = fx.context({ ...FILES, Dockerfile: dockerfile });
    const root = path.join(fx.tmp, `${name}-root`);
    const state = path.join(fx.tmp, `${name}-state`);
    const layout = path.join(fx.tmp, `${name}-layout`);
    const r = await executor(['--context', `dir://${ctx}`, '--root', root, '--state-dir', state, '--no-push', '--oci-layout-path', layout]);
    assert.equal(r.code, 0, r.stderr);
    const mine = readLayout(layout);
    assert.equal(r.stdout.trim(), JSON.parse(readFileSync(path.join(layout, 'index.json'), 'utf8')).manifests[0].digest);
    assert.deepEqual(comparableConfig(mine.config), comparableConfig(built.config));
    const a = path.join(fx.tmp, `${name}-fs-build`);
    const b = path.join(fx.tmp, `${name}-fs-exec`);
    await unpackImage(built, a);
    await unpackImage(mine, b);
    assert.deepEqual(treeOf(b), treeOf(a));
    if (name === 'basic') {
      assert.equal(readFileSync(path.join(b, 'app/out.txt'), 'utf8'), 'hello 1 two words\n');
      assert.equal(readFileSync(path.join(b, 'home/app/home'), 'utf8'), '/home/app\n');
      assert.ok(!existsSync(path.join(b, 'bin/ls')) && !existsSync(path.join(b, 'var/www')));
      assert.equal(lstatSync(path.join(b, 'data')).uid, 1234);
    }
  });
}

test('executor pushes to the destinations, writes the digest files, and a rebuild comes from the step cache', async () => {
  const ctx = fx.context({ ...FILES, Dockerfile: CORPUS.basic!(base) });
  const root = path.join(fx.tmp, 'push-root');
  const state = path.join(fx.tmp, 'push-state');
  const out = path.join(fx.tmp, 'push-out');
  mkdirSync(out);
  const dest1 = `${reg.host}/team/app:1`;
  const dest2 = `${reg.host}/team/app:latest`;
  const args = ['--context', `dir://${ctx}`, '--root', root, '--state-dir', state, '-d', dest1, '--destination', dest2, '--label', 'built.by=executor',
    '--digest-file', path.join(out, 'digest'), '--image-name-with-digest-file', path.join(out, 'names'), '--tar-path', path.join(out, 'image.tar')];
  const first = await executor(args);
  assert.equal(first.code, 0, first.stderr);
  const digest = first.stdout.trim();
  assert.match(digest, /^sha256:[0-9a-f]{64}$/);
  assert.equal(readFileSync(path.join(out, 'digest'), 'utf8'), digest);
  assert.equal(readFileSync(path.join(out, 'names'), 'utf8'), `${reg.host}/team/app@${digest}\n${reg.host}/team/app@${digest}\n`);
  for (const tag of ['1', 'latest']) {
    const res = await fetch(`http://${reg.host}/v2/team/app/manifests/${tag}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    const body = Buffer.from(await res.arrayBuffer());
    assert.equal(`sha256:${createHash('sha256').update(body).digest('hex')}`, digest);
  }
  // The docker archive loads, with the label.
  const other = path.join(fx.tmp, 'push-load');
  await kilnOk(['load', '-i', path.join(out, 'image.tar')], { root: other });
  const inspected = JSON.parse((await kilnOk(['inspect', dest1], { root: other })).stdout)[0];
  assert.equal(inspected.Config.Labels['built.by'], 'executor');
  // The same build again: every layer step from the cache, nothing run, the same image.
  const second = await executor(args);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stdout.trim(), digest);
  assert.equal((second.stderr.match(/CACHED/g) ?? []).length, 8, second.stderr);
  assert.ok(!existsSync(path.join(root, 'kiln')), 'nothing of kiln in the root');
});

test('executor: a failing RUN names its line and exit code; RUN --mount is refused with one line', async () => {
  const fail = fx.context({ Dockerfile: `FROM ${base}\nRUN echo about to fail && exit 3\n` });
  const r1 = await executor(['--context', `dir://${fail}`, '--root', path.join(fx.tmp, 'f-root'), '--state-dir', path.join(fx.tmp, 'f-state'), '--no-push']);
  assert.equal(r1.code, 1);
  assert.match(r1.stderr, /about to fail/);
  assert.match(r1.stderr, /kiln: Dockerfile:2: step \[2\/2\] failed: `RUN echo about to fail && exit 3`: exit code 3/);
  // A build Job names the Dockerfile as the user gave it (--dockerfile-name), not the pod's copy.
  const named = await executor(['--context', `dir://${fail}`, '--dockerfile', path.join(fail, 'Dockerfile'), '--dockerfile-name', 'docker/app.Dockerfile',
    '--root', path.join(fx.tmp, 'f-root'), '--state-dir', path.join(fx.tmp, 'f-state'), '--no-push']);
  assert.equal(named.code, 1);
  assert.match(named.stderr, /kiln: docker\/app\.Dockerfile:2: step \[2\/2\] failed/);
  const mount = fx.context({ Dockerfile: `FROM ${base}\nRUN --mount=type=cache,target=/c true\n` });
  const r2 = await executor(['--context', `dir://${mount}`, '--root', path.join(fx.tmp, 'm-root'), '--state-dir', path.join(fx.tmp, 'm-state'), '--no-push']);
  assert.notEqual(r2.code, 0);
  assert.match(r2.stderr, /RUN --mount \(and heredocs with #!\) cannot run in kiln executor: it makes no mounts/);
});

test('executor refuses a bad context and a missing destination with one line', async () => {
  const noDest = await executor(['--context', 'dir:///nonexistent', '--root', path.join(fx.tmp, 'x-root'), '--state-dir', path.join(fx.tmp, 'x-state')]);
  assert.notEqual(noDest.code, 0);
  assert.match(noDest.stderr, /no --destination given/);
  const s3 = await executor(['--context', 's3://bucket/ctx.tar.gz', '--no-push', '--root', path.join(fx.tmp, 'x-root'), '--state-dir', path.join(fx.tmp, 'x-state')]);
  assert.notEqual(s3.code, 0);
  assert.match(s3.stderr, /--context s3:\/\/bucket\/ctx\.tar\.gz: kiln executor takes dir:\/\/PATH, tar:\/\/stdin, http\(s\):\/\/…tar or a git URL/);
  // The default root is /: refused from a shell. (Safe even if it were not: with no context, nothing is unpacked.)
  const slash = await executor(['--context', 'dir:///nonexistent-kiln-context', '--no-push', '--state-dir', path.join(fx.tmp, 'slash-state')], { KUBERNETES_SERVICE_HOST: '' });
  assert.notEqual(slash.code, 0);
  assert.match(slash.stderr, /kiln executor replaces the whole filesystem of \/ with the image being built/);
});
