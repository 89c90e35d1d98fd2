/**
 * RUN --mount with from= (a bind or a cache mount of another stage): the step sees that stage's files,
 * re-runs when that stage's result changes, and a cache mount starts as a copy of the stage's source
 * path and keeps what the steps add to it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildFixture, type BuildFixture } from './test-support.js';

let fx: BuildFixture;
before(async () => {
  fx = await buildFixture('kiln-mount-from-');
});
after(async () => {
  await fx.assertNoLeftovers();
  await fx.cleanup();
});

const dockerfile = (seed: string) => [
  'FROM busybox AS seed',
  `RUN mkdir -p /s && echo ${seed} > /s/f`,
  'FROM busybox',
  'RUN --mount=type=bind,from=seed,source=/s,target=/m cat /m/f > /bound',
  'RUN --mount=type=cache,from=seed,source=/s,target=/c cat /c/f > /cached && echo added >> /c/f && cat /c/f > /after',
  '',
].join('\n');

async function build(ctx: string, out: string): Promise<Record<string, string>> {
  await fx.buildOk(['-q', '-o', `type=local,dest=${out}`, ctx]);
  const read = (f: string) => readFileSync(path.join(out, f), 'utf8');
  return { bound: read('bound'), cached: read('cached'), after: read('after') };
}

test('RUN --mount from= a stage: bind and cache mounts see it, re-run when it changes, a cache starts from it', async () => {
  const ctx = fx.context({ Dockerfile: dockerfile('one') });
  assert.deepEqual(await build(ctx, path.join(fx.tmp, 'o1')), { bound: 'one\n', cached: 'one\n', after: 'one\nadded\n' });

  // The seed stage changes: both RUNs run again; the cache mount is a new one, filled from the new stage.
  writeFileSync(path.join(ctx, 'Dockerfile'), dockerfile('two'));
  assert.deepEqual(await build(ctx, path.join(fx.tmp, 'o2')), { bound: 'two\n', cached: 'two\n', after: 'two\nadded\n' });

  // The same seed again, built without the step cache: the first seed's cache mount kept what its RUN added.
  writeFileSync(path.join(ctx, 'Dockerfile'), dockerfile('one'));
  await fx.buildOk(['-q', '--no-cache', '-o', `type=local,dest=${path.join(fx.tmp, 'o3')}`, ctx]);
  assert.equal(readFileSync(path.join(fx.tmp, 'o3', 'cached'), 'utf8'), 'one\nadded\n');
  assert.equal(readFileSync(path.join(fx.tmp, 'o3', 'bound'), 'utf8'), 'one\n');
});

test('RUN --mount=type=cache,from= a path that is not a directory: one line naming it, exit non-zero', async () => {
  const ctx = fx.context({ Dockerfile: 'FROM busybox AS seed\nRUN echo x > /file\nFROM busybox\nRUN --mount=type=cache,from=seed,source=/file,target=/c true\n' });
  await assert.rejects(fx.buildOk(['-q', ctx]), /RUN --mount=type=cache: \/file is not a directory in "seed"/);
});
