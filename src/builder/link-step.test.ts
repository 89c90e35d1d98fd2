/**
 * COPY --link: the layer does not depend on the base, so a changed base
 * rebuilds the image without running or copying the step again (its layer is
 * reused as it is, on the new base), while a plain COPY runs again; the files
 * of the base stay visible under the linked layer.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildFixture, type BuildFixture } from './test-support.js';

let fx: BuildFixture;
before(async () => {
  fx = await buildFixture('kiln-link-');
});
after(async () => {
  await fx.assertNoLeftovers();
  await fx.cleanup();
});

const stepOf = (stderr: string, what: RegExp): string => {
  const lines = stderr.split('\n');
  const i = lines.findIndex((l) => what.test(l));
  assert.ok(i >= 0, stderr);
  return lines.slice(i + 1).find((l) => /^#\d+ (CACHED|DONE)/.test(l)) ?? '';
};

test('a base change reuses the COPY --link layer as it is (rebased); a plain COPY runs again', async () => {
  await fx.buildOk(['-q', '-t', 'base:1', fx.context({ Dockerfile: 'FROM busybox\nRUN echo one > /base-version\n' })]);
  await fx.buildOk(['-q', '-t', 'base:2', fx.context({ Dockerfile: 'FROM busybox\nRUN echo two > /base-version && mkdir -p /app && echo kept > /app/from-base\n' })]);
  const files = { 'app/a.txt': 'linked\n', 'app/b.txt': 'plain\n' };
  const ctx1 = fx.context({ ...files, Dockerfile: 'FROM base:1\nWORKDIR /app\nCOPY --link app/a.txt ./\nCOPY app/b.txt ./\n' });
  const one = await fx.buildOk(['--progress=plain', '-t', 'app:1', ctx1]);
  assert.match(stepOf(one.stderr, /COPY --link app\/a\.txt/), /DONE/);
  const ctx2 = fx.context({ ...files, Dockerfile: 'FROM base:2\nWORKDIR /app\nCOPY --link app/a.txt ./\nCOPY app/b.txt ./\n' });
  const out = path.join(fx.tmp, 'out2');
  const two = await fx.buildOk(['--progress=plain', '-t', 'app:2', '-o', `type=local,dest=${out}`, ctx2]);
  assert.match(stepOf(two.stderr, /COPY --link app\/a\.txt/), /^#\d+ CACHED$/, 'the linked step is not run again on the new base');
  assert.match(stepOf(two.stderr, /COPY app\/b\.txt/), /DONE/, 'the plain COPY depends on the base');
  const [l1, l2] = [(await fx.inspect('app:1')).RootFS.Layers, (await fx.inspect('app:2')).RootFS.Layers];
  // busybox, base's RUN, [WORKDIR: only where /app is new], COPY --link, COPY: the linked layer is the same on both bases.
  assert.deepEqual([l1.length, l2.length], [5, 4]);
  assert.equal(l2[l2.length - 2], l1[l1.length - 2], 'the same linked layer, rebased');
  assert.notEqual(l2[1], l1[1], 'on another base');
  assert.equal(readFileSync(path.join(out, 'app/a.txt'), 'utf8'), 'linked\n');
  assert.equal(readFileSync(path.join(out, 'app/from-base'), 'utf8'), 'kept\n', 'the base files stay under the linked layer');
  assert.equal(readFileSync(path.join(out, 'base-version'), 'utf8'), 'two\n');
  const named = await fx.build(['-q', fx.context({ ...files, Dockerfile: 'FROM base:1\nCOPY --link --chown=nobody app/a.txt /x\n' })]);
  assert.equal(named.code, 1);
  assert.match(named.stderr, /^kiln: Dockerfile:2: COPY --link --chown=nobody: .*use numeric ids/m);
});
