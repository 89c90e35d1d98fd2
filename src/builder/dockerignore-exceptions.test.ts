/**
 * A .dockerignore `!` exception under an excluded directory: the directory is
 * sent for what it keeps (as BuildKit's client sends it: its own mode, only
 * the re-included paths), so a COPY of its parent places it and that file.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { buildFixture, type BuildFixture } from './test-support.js';

let fx: BuildFixture;
let ctx: string;

before(async () => {
  fx = await buildFixture('kiln-build-ignore-except-');
  ctx = fx.context({
    '.dockerignore': 'src/sub\n!src/sub/b.txt\n',
    'src/a.txt': 'a\n',
    'src/sub/b.txt': 'kept by an exception\n',
    'src/sub/c.txt': 'ignored\n',
    Dockerfile: 'FROM scratch\nCOPY src/ /s/\nCOPY . /ctx\n',
  });
  chmodSync(path.join(ctx, 'src', 'sub'), 0o700);
});
after(async () => fx?.cleanup());

test('COPY of a directory holding an excluded directory with a re-included file: that directory (its mode) and only that file', async () => {
  const out = path.join(fx.tmp, 'out');
  const r = await fx.build(['-q', '-o', `type=local,dest=${out}`, ctx]);
  assert.equal(r.code, 0, r.stderr);
  for (const top of ['s', 'ctx/src']) {
    assert.equal(readFileSync(path.join(out, top, 'sub', 'b.txt'), 'utf8'), 'kept by an exception\n');
    assert.equal(existsSync(path.join(out, top, 'sub', 'c.txt')), false);
    assert.equal(statSync(path.join(out, top, 'sub')).mode & 0o777, 0o700);
  }
  await fx.assertNoLeftovers();
});
