import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseDockerfile } from './parse.js';
import { dump } from './dump.js';
import { conformanceDir } from '../../testing/buildkit-conformance.js';
import { isDockerfileError } from '../located-error.js';

const dir = path.join(conformanceDir(), 'parser');

test('BuildKit parser testfiles: every case dumps exactly its result', () => {
  const cases = fs.readdirSync(path.join(dir, 'testfiles')).sort();
  const failures: string[] = [];
  for (const c of cases) {
    const text = fs.readFileSync(path.join(dir, 'testfiles', c, 'Dockerfile'), 'utf8');
    const want = fs.readFileSync(path.join(dir, 'testfiles', c, 'result'), 'utf8');
    const got = dump(parseDockerfile(text, { file: `${c}/Dockerfile` }));
    if (got !== want) failures.push(`${c}:\n--- got\n${got}--- want\n${want}`);
  }
  console.log(`testfiles: ${cases.length - failures.length}/${cases.length} passed`);
  assert.equal(failures.join('\n'), '');
  assert.ok(cases.length >= 20);
});

test('BuildKit parser testfiles-negative: every case is rejected with a located error', () => {
  const cases = fs.readdirSync(path.join(dir, 'testfiles-negative')).sort();
  let rejected = 0;
  for (const c of cases) {
    const text = fs.readFileSync(path.join(dir, 'testfiles-negative', c, 'Dockerfile'), 'utf8');
    assert.throws(() => parseDockerfile(text, { file: `${c}/Dockerfile` }), (e) => {
      assert.ok(isDockerfileError(e));
      assert.match(e.message, new RegExp(`^${c}/Dockerfile:\\d+: file with no instructions`));
      return true;
    });
    rejected++;
  }
  console.log(`testfiles-negative: ${rejected}/${cases.length} rejected`);
  assert.ok(cases.length >= 2);
});

test('CRLF input and a BOM parse like LF input', () => {
  const lf = 'FROM busybox\nRUN echo a \\\n  b\nCOPY a /b\n';
  const crlf = '\uFEFF' + lf.replace(/\n/g, '\r\n');
  assert.equal(dump(parseDockerfile(crlf)), dump(parseDockerfile(lf)));
  assert.equal(dump(parseDockerfile(lf)), '(from "busybox")\n(run "echo a   b")\n(copy "a" "/b")\n');
});

test('line ranges cover continuations and heredoc bodies', () => {
  const r = parseDockerfile('FROM a\n\nRUN x \\\n  y\nRUN <<EOF\necho hi\nEOF\nCMD z\n');
  assert.deepEqual(r.nodes.map((n) => [n.name, n.startLine, n.endLine]), [
    ['from', 1, 1],
    ['run', 3, 4],
    ['run', 5, 7],
    ['cmd', 8, 8],
  ]);
});

test('heredocs: several per instruction, <<- strips tabs, quoted names do not expand', () => {
  const text = [
    'FROM a',
    'RUN <<ONE cat - && 3<<"TWO" cat /dev/fd/3',
    'first $X',
    'ONE',
    'second $X',
    'TWO',
    'COPY <<-EOF /file',
    '\t\tindented',
    '\tEOF',
    'ONBUILD RUN <<X',
    'inner',
    'X',
    '',
  ].join('\n');
  const r = parseDockerfile(text);
  const run = r.nodes[1];
  assert.deepEqual(run.heredocs, [
    { name: 'ONE', content: 'first $X\n', expand: true, chomp: false, fd: 0 },
    { name: 'TWO', content: 'second $X\n', expand: false, chomp: false, fd: 3 },
  ]);
  assert.deepEqual(r.nodes[2].heredocs, [{ name: 'EOF', content: 'indented\n', expand: true, chomp: true, fd: 0 }]);
  assert.equal(r.nodes[3].sub?.heredocs[0].content, 'inner\n');
  assert.equal(dump(r).split('\n')[3], '(onbuild (run "<<X"))');
});

test('errors name the file and line and quote it', () => {
  assert.throws(() => parseDockerfile('FROM a\nRUN <<EOF\necho\n', { file: 'ctx/Dockerfile' }), {
    message: 'ctx/Dockerfile:2: unterminated heredoc: no line "EOF" closes it: `RUN <<EOF`',
  });
  assert.throws(() => parseDockerfile('# escape=x\nFROM a\n'), { message: /^Dockerfile:1: invalid escape token 'x'/ });
  assert.throws(() => parseDockerfile('# escape=`\n# escape=\\\nFROM a\n'), { message: /^Dockerfile:2: only one escape parser directive/ });
  assert.throws(() => parseDockerfile('FROM a\nCMD [1, 2]\n'), { message: /^Dockerfile:2: CMD: the JSON array must hold only strings/ });
  assert.throws(() => parseDockerfile('FROM a\nENV x\n'), { message: /^Dockerfile:2: ENV: ENV must have two arguments/ });
  assert.throws(() => parseDockerfile('FROM a\nLABEL a=b c\n'), { message: /^Dockerfile:2: LABEL: syntax error - can't find = in "c"/ });
});

test('directives: syntax, check and escape are read only at the top', () => {
  const r = parseDockerfile('# syntax=docker/dockerfile:1\n# check=skip=all\n#escape=`\nFROM a\nRUN x `\n y\n');
  assert.deepEqual(r.directives, { escape: '`', syntax: 'docker/dockerfile:1', check: 'skip=all' });
  assert.equal(r.nodes[1].args[0], 'x  y');
  const late = parseDockerfile('FROM a\n# escape=`\nRUN x \\\n y\n');
  assert.equal(late.directives.escape, '\\');
});
