import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseChmod } from './chmod.js';

const apply = (spec: string, mode: number, isDir = false) => parseChmod(spec)(mode, isDir).toString(8);

test('--chmod: octal modes replace, symbolic ones change each file as chmod(1) does', () => {
  assert.equal(apply('0755', 0o600), '755');
  assert.equal(apply('640', 0o777), '640');
  assert.equal(apply('u+x', 0o644), '744');
  assert.equal(apply('u+x,go-w', 0o666), '744');
  assert.equal(apply('+x', 0o644), '755');
  assert.equal(apply('a=r', 0o755), '444');
  assert.equal(apply('go=', 0o755), '700');
  assert.equal(apply('g=u', 0o640), '660');
  assert.equal(apply('u=rw,go=r', 0o777), '644');
  assert.equal(apply('a+X', 0o644), '644', 'X: no execute for a file without one');
  assert.equal(apply('a+X', 0o744), '755', 'X: execute for a file with one');
  assert.equal(apply('a+X', 0o644, true), '755', 'X: execute for a directory');
  assert.equal(apply('u+s', 0o755), '4755');
  assert.equal(apply('+t', 0o777, true), '1777');
  assert.equal(apply('u-x+s', 0o755), '4655');
});

test('--chmod: a bad mode is one line naming the clause', () => {
  assert.throws(() => parseChmod('u+q'), /invalid --chmod=u\+q: "u\+q" is not a mode/);
  assert.throws(() => parseChmod('0999'), /invalid --chmod=0999/);
  assert.throws(() => parseChmod('u+x,'), /"" is not a mode/);
});
