/**
 * What `kiln build` says about the Dockerfile itself: `# syntax=` accepted
 * with a warning, BuildKit's build checks as warnings (errors with
 * `# check=error=true`), `--check` alone, and `COPY --chmod` with symbolic modes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { buildFixture, type BuildFixture } from './test-support.js';

let fx: BuildFixture;
before(async () => {
  fx = await buildFixture('kiln-frontend-');
});
after(async () => {
  await fx.assertNoLeftovers();
  await fx.cleanup();
});

test('# syntax= is accepted with a warning; build checks are WARNING lines and the image is built', async () => {
  const ctx = fx.context({ Dockerfile: '# syntax=docker/dockerfile:1.7\nFROM busybox as base\nCMD echo hi\n' });
  const r = await fx.buildOk(['--progress=plain', '-t', 'checked:1', ctx]);
  assert.match(r.stderr, /WARNING: # syntax=docker\/dockerfile:1\.7 is ignored: kiln builds with its own Dockerfile frontend/);
  assert.match(r.stderr, /WARNING: FromAsCasing: 'as' and 'FROM' keywords' casing do not match \(line 2\)/);
  assert.match(r.stderr, /WARNING: JSONArgsRecommended: JSON arguments recommended for CMD to prevent unintended behavior related to OS signals \(line 3\)/);
  assert.deepEqual((await fx.inspect('checked:1')).Config.Cmd, ['/bin/sh', '-c', 'echo hi']);
});

test('# check=error=true: a warning fails the build in one line, nothing tagged', async () => {
  const ctx = fx.context({ Dockerfile: '# check=error=true\nFROM busybox as base\n' });
  const r = await fx.build(['-q', '-t', 'failed:1', ctx]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /lint violation found for rules: FromAsCasing/);
  assert.notEqual((await fx.build(['-q', '--check', ctx])).code, 0);
  const inspect = await import('../testing/kiln.js').then((k) => k.kiln(['inspect', 'failed:1'], { root: fx.root }));
  assert.notEqual(inspect.code, 0, 'nothing was tagged');
});

test('--check reports without building: exit 1 on a warning, 0 and "no warnings" otherwise', async () => {
  const bad = fx.context({ Dockerfile: 'FROM busybox as base\nRUN exit 3\n' });
  const r = await fx.build(['--check', bad]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^Check complete, 1 warning has been found!\n\nWARN: FromAsCasing - https:\/\/docs\.docker\.com\/go\/dockerfile\/rule\/from-as-casing\/\n'as' and 'FROM' keywords' casing do not match\nDockerfile:1\n/);
  assert.doesNotMatch(r.stderr, /exit code|RUN/, 'nothing ran');
  const good = fx.context({ Dockerfile: 'FROM busybox AS base\nCMD ["sh"]\n' });
  const ok = await fx.build(['--check', good]);
  assert.equal(ok.code, 0);
  assert.equal(ok.stdout, 'Check complete, no warnings found.\n');
  const stdin = await fx.build(['--check', '-f', '-', good], 'from busybox AS x\n');
  assert.match(stdin.stdout, /'AS' and 'from' keywords' casing do not match/);
});

test('COPY --chmod with symbolic modes changes each file from its own mode', async () => {
  const ctx = fx.context({ Dockerfile: 'FROM busybox\nCOPY --chmod=u+x,go-w a b /s/\nCOPY --chmod=a=rX dir /d/\nCOPY --chmod=0640 a /o\n', a: 'a', b: 'b', 'dir/f': 'f', 'dir/sub/g': 'g' });
  for (const [f, mode] of [['a', 0o666], ['b', 0o755], ['dir/f', 0o600]] as const) execFileSync('chmod', [mode.toString(8), path.join(ctx, f)]);
  const tar = path.join(fx.tmp, 'chmod.tar');
  await fx.buildOk(['-q', '-o', `type=tar,dest=${tar}`, ctx]);
  const modes = new Map(
    execFileSync('tar', ['-tvf', tar], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.split(/\s+/).at(-1)!, l.split(/\s+/)[0]!] as const),
  );
  assert.equal(modes.get('s/a'), '-rwxr--r--');
  assert.equal(modes.get('s/b'), '-rwxr-xr-x');
  assert.equal(modes.get('d/f'), '-r--r--r--');
  assert.equal(modes.get('d/sub/'), 'dr-xr-xr-x', 'X gives directories execute');
  assert.equal(modes.get('d/sub/g'), '-r--r--r--');
  assert.equal(modes.get('o'), '-rw-r-----');
  const bad = await fx.build(['-q', '-f', '-', ctx], 'FROM busybox\nCOPY --chmod=u+q a /a\n');
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /invalid --chmod=u\+q/);
});

test('UndefinedVar: a name an expansion did not find is a warning (with BuildKit\'s suggestion); a declared ARG, RUN and # check=skip are not', async () => {
  const ctx = fx.context({
    Dockerfile: 'FROM busybox\nARG DECLARED\nENV APP_HOME=/app\nWORKDIR $APP_HOM/x\nCOPY $NOWHERE${DECLARED} /dst/\nRUN echo $NOT_CHECKED\n',
    'f.txt': 'x',
  });
  const r = await fx.buildOk(['--progress=plain', ctx]);
  const lines = r.stderr.split('\n').filter((l) => l.includes('UndefinedVar'));
  assert.deepEqual(lines, [
    "WARNING: UndefinedVar: Usage of undefined variable '$APP_HOM' (did you mean $APP_HOME?) (line 4)",
    "WARNING: UndefinedVar: Usage of undefined variable '$NOWHERE' (line 5)",
  ]);
  const skipped = await fx.buildOk(['--progress=plain', fx.context({ Dockerfile: '# check=skip=UndefinedVar\nFROM busybox\nWORKDIR /$NOPE\n' })]);
  assert.doesNotMatch(skipped.stderr, /UndefinedVar/);
});
