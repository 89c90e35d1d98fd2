import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { expandHeredoc, expandWord, expandWords, envFrom } from './lex.js';
import { conformanceDir } from '../../testing/buildkit-conformance.js';
import { isKilnError } from '../../errors.js';

function attempt<T>(f: () => T): T | 'error' {
  try {
    return f();
  } catch (e) {
    if (isKilnError(e, 'INVALID_ARGUMENT')) return 'error';
    throw e;
  }
}

test('BuildKit envVarTest: every line holds', () => {
  const env = envFrom({ PWD: '/home', SHELL: 'bash', KOREAN: '한국어', NULL: '' });
  const lines = fs.readFileSync(path.join(conformanceDir(), 'shell', 'envVarTest'), 'utf8').split('\n');
  let total = 0;
  const failures: string[] = [];
  for (const line of lines) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const [platform, input, expected] = line.split('|').map((s) => s.trim());
    if (platform === 'W') continue;
    total++;
    const got = attempt(() => expandWord(input, env));
    if (got !== expected) failures.push(`${input} => ${JSON.stringify(got)}, want ${JSON.stringify(expected)}`);
  }
  console.log(`envVarTest: ${total - failures.length}/${total} passed`);
  assert.deepEqual(failures, []);
  assert.ok(total > 150);
});

test('BuildKit wordsTest: every line holds', () => {
  const env: Record<string, string> = {};
  const lines = fs.readFileSync(path.join(conformanceDir(), 'shell', 'wordsTest'), 'utf8').split('\n');
  let total = 0;
  const failures: string[] = [];
  for (const line of lines) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    if (line.startsWith('ENV ')) {
      const kv = line.slice(4).replace(/^\s+/, '');
      const eq = kv.indexOf('=');
      env[kv.slice(0, eq)] = kv.slice(eq + 1);
      continue;
    }
    const bar = line.indexOf('|');
    const input = line.slice(0, bar).trim();
    const expected = line.slice(bar + 1).replace(/^\s+/, '');
    total++;
    const got = attempt(() => expandWords(input, envFrom(env)).join(','));
    if (got !== expected) failures.push(`${input} => ${JSON.stringify(got)}, want ${JSON.stringify(expected)}`);
  }
  console.log(`wordsTest: ${total - failures.length}/${total} passed`);
  assert.deepEqual(failures, []);
  assert.ok(total > 20);
});

test('pattern modifiers trim and replace like the shell', () => {
  const env = envFrom({ P: 'linux/arm/v7', F: 'archive.tar.gz', S: 'a-b-c' });
  assert.equal(expandWord('${P%/*}', env), 'linux/arm');
  assert.equal(expandWord('${P%%/*}', env), 'linux');
  assert.equal(expandWord('${P#*/}', env), 'arm/v7');
  assert.equal(expandWord('${P##*/}', env), 'v7');
  assert.equal(expandWord('${F%.gz}', env), 'archive.tar');
  assert.equal(expandWord('${S/-/_}', env), 'a_b-c');
  assert.equal(expandWord('${S//-/_}', env), 'a_b_c');
  assert.equal(expandWord('${S//[ab]/x}', env), 'x-x-c');
  assert.equal(expandWord('${UNSET-dflt}', env), 'dflt');
  assert.equal(expandWord('${UNSET+alt}', env), '');
  assert.equal(expandWord('${S+alt}', env), 'alt');
});

test('errors say what is wrong', () => {
  const env = envFrom({});
  assert.throws(() => expandWord('${X:?must be set}', env), /X: must be set/);
  assert.throws(() => expandWord('${X?}', env), /X: is not allowed to be unset/);
  assert.throws(() => expandWord('"abc', env), /matching double-quote/);
  assert.throws(() => expandWord('${X:=1}', env), /unsupported modifier \(:=\)/);
});

test('backtick escape token', () => {
  const env = envFrom({ A: 'x' });
  assert.equal(expandWord('a`$A\\b', env, { escape: '`' }), 'a$A\\b');
  assert.deepEqual(expandWords('a` b c', env, { escape: '`' }), ['a b', 'c']);
});

test('here-document bodies: quotes are text, \\$ escapes, variables expand', () => {
  const env = envFrom({ NAME: 'kiln' });
  assert.equal(expandHeredoc(`it's "$NAME" \\$NAME \\\\ \\n \${NAME:-x}\n`, env), `it's "kiln" $NAME \\ \\n kiln\n`);
});
