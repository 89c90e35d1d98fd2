/** removeMountPoints: the empty mount points runc made leave a RUN step's upper dir, and nothing outside it is ever removed. */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { removeMountPoints } from './run-step.js';

test('removeMountPoints removes empty mount points and emptied parents, never through a symlink or ".." the step made', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-mountpoints-'));
  const upper = path.join(dir, 'upper');
  const outside = path.join(dir, 'outside');
  mkdirSync(path.join(outside, 'b', 'c'), { recursive: true });
  writeFileSync(path.join(outside, 'empty'), '');
  mkdirSync(path.join(upper, 'run', 'secrets'), { recursive: true });
  writeFileSync(path.join(upper, 'run', 'secrets', 'tok'), '');
  mkdirSync(path.join(upper, 'kept'));
  symlinkSync(outside, path.join(upper, 'a')); // the step moved its mount's parent away and left a symlink to the host path
  removeMountPoints(upper, new Set(['kept']), ['/run/secrets/tok', '/a/b/c', '/a/empty', '../outside/b/c', 'kept']);
  assert.ok(!existsSync(path.join(upper, 'run')), 'the mount point and its emptied parents are gone');
  assert.ok(existsSync(path.join(upper, 'kept')), 'what the lower layers had stays');
  assert.ok(existsSync(path.join(outside, 'b', 'c')), 'nothing is removed through a symlink');
  assert.ok(existsSync(path.join(outside, 'empty')));
  rmSync(dir, { recursive: true });
});
