import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile } from './parse.js';
import { buildInstruction } from '../instructions/build.js';
import { expandInstruction } from '../instructions/expand.js';

const names = (text: string) => parseDockerfile(text).nodes.map((n) => n.name);
const originals = (text: string) => parseDockerfile(text).nodes.map((n) => n.original);

test('a line ending in an escaped escape does not continue (ENV C=trailing\\\\backslash\\\\)', () => {
  const r = parseDockerfile('FROM a\nENV C=trailing\\\\backslash\\\\\nENV D=x\n');
  assert.deepEqual(r.nodes.map((n) => n.name), ['from', 'env', 'env']);
  const env = expandInstruction(buildInstruction(r.nodes[1]), () => undefined);
  assert.equal(env.kind, 'env');
  // what docker gives: C=trailing\backslash\ and D set by its own line
  assert.deepEqual((env as { pairs: { key: string; value: string }[] }).pairs.map((p) => [p.key, p.value]), [['C', 'trailing\\backslash\\']]);
  assert.equal(r.nodes[2].original, 'ENV D=x');
});

test('an odd run of escapes at the end continues; an even run does not', () => {
  assert.deepEqual(originals('FROM a\nRUN echo \\\\\\\nx\n'), ['FROM a', 'RUN echo \\\\x']);
  assert.deepEqual(originals('FROM a\nRUN echo \\\\\\\\\nRUN x\n'), ['FROM a', 'RUN echo \\\\\\\\', 'RUN x']);
  assert.deepEqual(originals('FROM a\nRUN echo \\\nx\n'), ['FROM a', 'RUN echo x']);
});

test('escape directive `: a doubled backtick ends the line, a single one continues', () => {
  assert.deepEqual(originals('# escape=`\nFROM a\nRUN echo ``\nRUN y\n'), ['FROM a', 'RUN echo ``', 'RUN y']);
  assert.deepEqual(originals('# escape=`\nFROM a\nRUN echo `\n y\n'), ['FROM a', 'RUN echo  y']);
  // with ` as the escape, a trailing backslash is an ordinary character
  assert.deepEqual(originals('# escape=`\nFROM a\nRUN dir c:\\\nRUN y\n'), ['FROM a', 'RUN dir c:\\', 'RUN y']);
});

test('CRLF line ends: the same rules', () => {
  assert.deepEqual(originals('FROM a\r\nRUN a \\\r\n b\r\nRUN c \\\\\r\nRUN d\r\n'), ['FROM a', 'RUN a  b', 'RUN c \\\\', 'RUN d']);
});

test('blanks after the escape still continue; blanks after an escaped escape do not', () => {
  assert.deepEqual(originals('FROM a\nRUN a \\  \t\n b\n'), ['FROM a', 'RUN a  b']);
  assert.deepEqual(originals('FROM a\nRUN a \\\\  \nRUN b\n'), ['FROM a', 'RUN a \\\\  ', 'RUN b']);
});

test('comments and blank lines between continued lines are skipped; an escaped escape before a comment ends the line', () => {
  assert.deepEqual(originals('FROM a\nRUN a \\\n# note \\\n b \\\n\n c\n'), ['FROM a', 'RUN a  b  c']);
  assert.deepEqual(names('FROM a\nRUN a \\\\\n# RUN b\nRUN c\n'), ['from', 'run', 'run']);
});
