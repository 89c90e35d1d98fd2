/**
 * What .dockerignore excludes is not in the build's view of the context at
 * all: not through a symlink COPY follows (to a file or into a directory),
 * not in a RUN bind mount of the context (nor as its source).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { kiln } from '../testing/kiln.js';
import { buildFixture, type BuildFixture } from './test-support.js';

let fx: BuildFixture;
let ctx: string;

before(async () => {
  fx = await buildFixture('kiln-build-ignore-');
  ctx = fx.context({ '.dockerignore': 'secret.key\nsecrets/\n', 'secret.key': 'TOPSECRET-1\n', 'secrets/inner': 'TOPSECRET-2\n', 'kept.txt': 'kept\n', 'sub/plain': 'p\n' });
  symlinkSync('secret.key', path.join(ctx, 'alias'));
  symlinkSync('secrets', path.join(ctx, 'dirlink'));
  symlinkSync('../secret.key', path.join(ctx, 'sub', 'alias2'));
});
after(async () => fx?.cleanup());

const dockerfile = (name: string, text: string): string => {
  writeFileSync(path.join(ctx, name), text);
  return path.join(ctx, name);
};

test('COPY . keeps symlinks as links; a bind mount of the context shows no ignored file, even through a symlink', async () => {
  const f = dockerfile('D.ok', [
    'FROM busybox',
    'COPY . /ctx/',
    'RUN --mount=type=bind,target=/b ls -a /b > /bind-ls && (cat /b/alias /b/secret.key /b/dirlink/inner /b/secrets/inner 2>&1; true) > /bind-cat',
    'RUN --mount=type=bind,target=/b,rw sh -c "echo x > /b/new; ls -a /b > /bind-rw-ls"',
    'RUN --mount=type=bind,source=sub,target=/s ls -a /s > /sub-ls',
    '',
  ].join('\n'));
  const out = path.join(fx.tmp, 'out');
  const r = await fx.build(['-q', '-f', f, '-o', `type=local,dest=${out}`, ctx]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readdirSync(path.join(out, 'ctx')).sort(), ['.dockerignore', 'D.ok', 'alias', 'dirlink', 'kept.txt', 'sub']);
  assert.equal(readlinkSync(path.join(out, 'ctx', 'alias')), 'secret.key');
  const listed = (file: string) => readFileSync(path.join(out, file), 'utf8').split('\n').filter((n) => n && n !== '.' && n !== '..').sort();
  assert.deepEqual(listed('bind-ls'), ['.dockerignore', 'D.ok', 'alias', 'dirlink', 'kept.txt', 'sub']);
  assert.deepEqual(listed('bind-rw-ls'), ['.dockerignore', 'D.ok', 'alias', 'dirlink', 'kept.txt', 'new', 'sub']);
  assert.deepEqual(listed('sub-ls'), ['alias2', 'plain']);
  const cat = readFileSync(path.join(out, 'bind-cat'), 'utf8');
  assert.doesNotMatch(cat, /TOPSECRET/);
  assert.match(cat, /No such file or directory/);
  assert.deepEqual(readdirSync(ctx).includes('new'), false, 'a rw bind never writes to the context');
  await fx.assertNoLeftovers();
});

test('COPY of a symlink to an ignored file or into an ignored dir, and a bind mount of one, are "not found": one line, no content', async () => {
  const cases: [string, RegExp][] = [
    ['FROM busybox\nCOPY alias /alias\n', /^kiln: D\.bad:2: COPY alias: not found in the build context \(or excluded by \.dockerignore\)/],
    ['FROM busybox\nCOPY dirlink/inner /x\n', /^kiln: D\.bad:2: COPY dirlink\/inner: not found in the build context/],
    ['FROM busybox\nCOPY sub/alias2 /x\n', /^kiln: D\.bad:2: COPY sub\/alias2: not found in the build context/],
    ['FROM busybox\nRUN --mount=type=bind,source=alias,target=/a cat /a\n', /^kiln: D\.bad:2: .*RUN --mount=type=bind: alias not found in the build context \(or excluded by \.dockerignore\)/],
    ['FROM busybox\nRUN --mount=type=bind,source=dirlink,target=/a cat /a/inner\n', /^kiln: D\.bad:2: .*RUN --mount=type=bind: dirlink not found in the build context/],
  ];
  for (const [text, re] of cases) {
    const r = await fx.build(['-q', '-f', dockerfile('D.bad', text), ctx]);
    assert.equal(r.code, 1, `${text}: ${r.stdout}${r.stderr}`);
    assert.doesNotMatch(r.stdout + r.stderr, /TOPSECRET/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, re);
  }
  await fx.assertNoLeftovers();
  assert.equal((await kiln(['system', 'check'], { root: fx.root })).code, 0);
});
