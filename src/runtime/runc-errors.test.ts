import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startError } from './runc-errors.js';

test("a process that cannot start: docker's exit code, runc's reason, a hint without the container's ID", () => {
  const id = 'ab'.repeat(32);
  const missing = startError('runc run failed: unable to start container process: exec: "nosuch": executable file not found in $PATH', id);
  assert.deepEqual([missing.exitCode, missing.message, missing.hint], [127, 'exec: "nosuch": executable file not found in $PATH', "check the command name and the image's PATH"]);
  const denied = startError('runc run failed: unable to start container process: exec: "/etc/passwd": permission denied', id);
  assert.deepEqual([denied.exitCode, denied.message, denied.hint], [126, 'exec: "/etc/passwd": permission denied', 'the command must be an executable file']);
  const other = startError('runc run failed: unable to start container process: error during container init: error setting rlimits', id);
  assert.deepEqual([other.exitCode, other.hint], [125, `see the runc log of container ${id}`]);
});
