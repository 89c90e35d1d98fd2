import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mountPointsOf } from './mountinfo.js';

test('mountPointsOf decodes the escapes of field 5 and skips short lines', () => {
  const info = [
    '22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/vda rw',
    '40 22 0:40 / /tmp/a\\040b rw - tmpfs tmpfs rw',
    '41 22 0:41 / /tmp/back\\134slash\\011tab rw - tmpfs tmpfs rw',
    '',
    'short line',
  ].join('\n');
  assert.deepEqual(mountPointsOf(info), ['/', '/tmp/a b', '/tmp/back\\slash\ttab']);
});
