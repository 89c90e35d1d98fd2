/** `kiln images -f label=KEY[=VALUE]`: labels read from each image's config, as docker filters them. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { kiln, kilnOk, testCache } from '../testing/kiln.js';

const busybox = path.join(testCache(), 'busybox-rootfs.tar');
let root: string;
const k = (args: string[]) => kilnOk(['--backend', 'local', ...args], { root });

before(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'kiln-labels-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

test('images -f label=KEY and label=KEY=VALUE (several must all hold), with other filters and --format; a bad key is one line', async () => {
  await k(['import', '-c', 'LABEL tier=base', busybox, 'lab/base:1']);
  await k(['import', '-c', 'LABEL tier=app team=web', busybox, 'lab/app:1']);
  await k(['import', busybox, 'lab/plain:1']);
  const names = async (...f: string[]) => (await k(['images', '--format', '{{.Repository}}:{{.Tag}}', ...f.flatMap((x) => ['-f', x])])).stdout.trim().split('\n').filter(Boolean).sort();
  assert.deepEqual(await names('label=tier'), ['lab/app:1', 'lab/base:1']);
  assert.deepEqual(await names('label=tier=app'), ['lab/app:1']);
  assert.deepEqual(await names('label=tier', 'label=team=web'), ['lab/app:1']);
  assert.deepEqual(await names('label=team', 'reference=lab/base'), []);
  assert.deepEqual(await names('label=nosuch'), []);
  const table = (await k(['images', '-f', 'label=team=web'])).stdout.split('\n');
  assert.match(table[0]!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
  assert.match(table[1]!, /^lab\/app\s+1\s+[0-9a-f]{12}\s/);
  const bad = await kiln(['images', '-f', 'labels=x'], { root });
  assert.deepEqual([bad.code, bad.stderr], [1, "kiln: invalid filter 'labels' (kiln images supports --filter dangling=, reference=, before=, since=, label=)\n"]);
});
