/**
 * What a killed import leaves: its partial blob was written under a fresh key
 * (no later command resumes an import), so it is a temp file of the dead
 * process, cleared with its leases and other temps by the next command that
 * writes to the store. (A killed pull's partial blob, keyed by its digest, is
 * resumable: cli/pull-interrupt.test.ts.)
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { kiln, kilnBin, kilnOk, testCache } from '../testing/kiln.js';

let tmp: string;
let root: string;

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'kiln-killed-transfer-'));
  root = path.join(tmp, 'root');
  await kilnOk(['import', path.join(testCache(), 'busybox-rootfs.tar'), 'busybox:latest'], { root });
});
after(() => rmSync(tmp, { recursive: true, force: true }));

const ingestData = () => readdirSync(path.join(root, 'ingest')).filter((n) => n.startsWith('anonymous.data.tmp-'));

test('kill -9 mid-import: the partial blob, its lease and temp files go with the next command; check says the store is consistent', async () => {
  const child = spawn(process.execPath, [kilnBin(), '--root', root, 'import', '-', 'killed:1'], { stdio: ['pipe', 'ignore', 'pipe'] });
  // Some megabytes of a real rootfs tar, then nothing more: the import waits for the rest.
  const src = createReadStream(path.join(testCache(), 'debian-rootfs.tar'), { end: 4 * 1024 * 1024 - 1 });
  src.pipe(child.stdin, { end: false });
  await new Promise<void>((resolve) => src.on('end', () => resolve()));
  const deadline = Date.now() + 20_000;
  while ((ingestData().length === 0 || statSync(path.join(root, 'ingest', ingestData()[0]!)).size === 0) && Date.now() < deadline) await sleep(100);
  await sleep(300);
  child.kill('SIGKILL');
  await new Promise((resolve) => child.on('close', resolve));
  assert.equal(ingestData().length, 1, 'the killed import left its partial blob');
  assert.match(ingestData()[0]!, new RegExp(`^anonymous\\.data\\.tmp-${child.pid}-[0-9a-f]{8}$`));
  // A lease being written when the kill came leaves its temp file (named with the killed process's pid).
  const tempLease = path.join(root, 'leases', `${child.pid}-0123456789ab.json.tmp-${child.pid}-0badf00d`);
  writeFileSync(tempLease, '{');

  // system check opens the store like any command: the dead process's temp files go, the partial blob with them.
  const check = await kiln(['system', 'check'], { root });
  assert.deepEqual([check.code, check.stdout], [0, 'store is consistent\n']);
  assert.deepEqual(readdirSync(path.join(root, 'leases')), []);
  assert.deepEqual(readdirSync(path.join(root, 'ingest')), [], 'the partial blob and its lock went');
});
