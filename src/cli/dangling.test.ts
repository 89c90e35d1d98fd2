/**
 * Images without a name, as Docker keeps them (`<none>:<none>`): a build
 * without -t, an import without a name. The ID a build prints can be run,
 * tagged and removed; `system prune` removes what is still unnamed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { kiln, kilnOk, testCache } from '../testing/kiln.js';

const busybox = path.join(testCache(), 'busybox-rootfs.tar');
let tmp: string;
let root: string;
const k = (args: string[]) => kilnOk(['--backend', 'local', ...args], { root });
const noneRows = async () => (await k(['images'])).stdout.split('\n').filter((l) => /^<none>\s+<none>\s/.test(l));

before(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'kiln-dangling-'));
  root = path.join(tmp, 'root');
});
after(() => rmSync(tmp, { recursive: true, force: true }));

test('a build without -t keeps the image: listed as <none>, runnable and taggable by the printed ID', async () => {
  await k(['import', busybox, 'dangling/base:1']);
  const ctx = path.join(tmp, 'ctx');
  mkdirSync(ctx);
  writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM dangling/base:1\nRUN echo built-without-a-tag > /x\n');
  const id = (await k(['build', '-q', ctx])).stdout.trim();
  assert.match(id, /^sha256:[a-f0-9]{64}$/);
  const rows = await noneRows();
  assert.equal(rows.length, 1);
  assert.ok(rows[0]!.includes(id.slice(7, 19)));
  const ran = await k(['run', '--rm', '--network', 'none', id.slice(7, 19), 'cat', '/x']);
  assert.equal(ran.stdout, 'built-without-a-tag\n');
  assert.equal((JSON.parse((await k(['inspect', id.slice(7, 19)])).stdout) as { Id: string }[])[0]!.Id, id);

  await k(['tag', id.slice(7, 19), 'dangling/app:1']);
  assert.deepEqual(await noneRows(), []);
  assert.equal((await k(['images', '-q', 'dangling/app:1'])).stdout.trim(), id.slice(7, 19));
  // Untagging the last name deletes the image, as rmi by name does in Docker.
  await k(['rmi', 'dangling/app:1']);
  assert.equal((await kiln(['--backend', 'local', 'inspect', id], { root })).code, 1);
});

test('import without a name: <none>, removable by ID; system prune removes what is left; the store stays consistent', async () => {
  root = path.join(tmp, 'root2');
  await k(['import', busybox, 'dangling/base:1']);
  const a = (await k(['import', '-c', 'ENV A=1', busybox])).stdout.trim();
  const b = (await k(['import', '-c', 'ENV B=2', busybox])).stdout.trim();
  assert.equal((await noneRows()).length, 2);
  const rmi = await k(['rmi', a.slice(7, 19)]);
  assert.match(rmi.stdout, new RegExp(`Deleted: ${a}`));
  assert.equal((await noneRows()).length, 1);
  const pruned = await k(['system', 'prune']);
  assert.match(pruned.stdout, new RegExp(`deleted: ${b}`));
  assert.deepEqual(await noneRows(), []);
  assert.equal((await k(['images', '-q', 'dangling/base:1'])).stdout.trim().length, 12, 'named images survive prune');
  assert.equal((await k(['system', 'check'])).code, 0);
});
