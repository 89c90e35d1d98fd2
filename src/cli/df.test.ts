/**
 * `kiln system df`: Docker's columns and rows (TYPE, TOTAL, ACTIVE, SIZE,
 * RECLAIMABLE for Images, Containers, Local Volumes, Build Cache), the sizes
 * of what is on disk, the reclaimable share as Docker computes it, its
 * `--format` fields and `-v`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { kilnOk, testCache } from '../testing/kiln.js';
import { humanSize } from './output.js';

const busybox = path.join(testCache(), 'busybox-rootfs.tar');
let tmp: string;
let root: string;
const k = (args: string[]) => kilnOk(['--backend', 'local', ...args], { root });
const ROW = '{{.Type}}|{{.TotalCount}}|{{.Active}}|{{.Size}}|{{.Reclaimable}}';

function bytesUnder(dir: string): number {
  let n = 0;
  for (const name of readdirSync(dir)) {
    const st = lstatSync(path.join(dir, name));
    n += st.isDirectory() ? bytesUnder(path.join(dir, name)) : st.isFile() ? st.size : 0;
  }
  return n;
}

before(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'kiln-df-'));
  root = path.join(tmp, 'root');
});
after(() => rmSync(tmp, { recursive: true, force: true }));

test('an empty store: the four rows at 0B, in docker table form', async () => {
  const r = await k(['system', 'df']);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE$/);
  assert.deepEqual(lines.slice(1).map((l) => l.split(/\s{2,}/)), [
    ['Images', '0', '0', '0B', '0B'],
    ['Containers', '0', '0', '0B', '0B'],
    ['Local Volumes', '0', '0', '0B', '0B'],
    ['Build Cache', '0', '0', '0B', '0B'],
  ]);
});

test('images, a stopped container, an unused volume: sizes on disk and what a prune gives back', async () => {
  await k(['import', busybox, 'df/app:1']);
  await k(['import', '-c', 'ENV X=1', busybox, 'df/idle:1']); // shares the layer, no container
  await k(['run', '--name', 'c1', '--network', 'none', 'df/app:1', 'sh', '-c', 'echo 1234 > /written']);
  await k(['run', '--rm', '--network', 'none', '-v', 'data:/d', 'df/app:1', 'sh', '-c', 'echo hello-volume > /d/f']);

  const blobs = bytesUnder(path.join(root, 'blobs', 'sha256'));
  const layers = bytesUnder(path.join(root, 'layers'));
  const idleOnly = JSON.parse((await k(['inspect', 'df/idle:1'])).stdout)[0] as { Id: string };
  const r = await k(['system', 'df', '--format', ROW]);
  const rows = r.stdout.trimEnd().split('\n').map((l) => l.split('|'));
  assert.deepEqual(rows[0]!.slice(0, 4), ['Images', '2', '1', humanSize(blobs + layers)]);
  // Reclaimable: what only df/idle:1 holds (its config and manifest; the layer is shared with the image c1 uses).
  const blob = (hex: string) => path.join(root, 'blobs', 'sha256', hex);
  const small = (hex: string) => (lstatSync(blob(hex)).size < 100_000 ? readFileSync(blob(hex), 'utf8') : '');
  const idleBytes = readdirSync(path.join(root, 'blobs', 'sha256'))
    .filter((hex) => hex === idleOnly.Id.slice(7) || small(hex).includes(idleOnly.Id))
    .reduce((n, hex) => n + lstatSync(blob(hex)).size, 0);
  assert.equal(rows[0]![4], `${humanSize(idleBytes)} (${Math.floor((idleBytes * 100) / (blobs + layers))}%)`);
  assert.deepEqual(rows[1], ['Containers', '1', '0', '5B', '5B (100%)']);
  assert.deepEqual(rows[2], ['Local Volumes', '1', '0', '13B', '13B (100%)']);
  assert.deepEqual(rows[3], ['Build Cache', '0', '0', '0B', '0B']);

  const v = (await k(['system', 'df', '-v'])).stdout;
  assert.match(v, /^Images space usage:\nREPOSITORY:TAG\s+IMAGE ID\s+CREATED\s+SIZE\s+CONTAINERS\n/);
  assert.match(v, /^df\/app:1\s+[a-f0-9]{12}\s+.+\s+yes$/m);
  assert.match(v, /^df\/idle:1\s+[a-f0-9]{12}\s+.+\s+no$/m);
  assert.match(v, /^Containers space usage:\nCONTAINER ID\s+NAMES\s+SIZE\s+CREATED\s+RUNNING\n[a-f0-9]{12}\s+c1\s+5B\s+.+\s+no$/m);
  assert.match(v, /^Local Volumes space usage:\nVOLUME NAME\s+SIZE\s+IN USE\ndata\s+13B\s+no$/m);
  assert.match(v, /^Build cache usage:\nCACHE ID\s+SIZE\s+CREATED\n$/m);

  // What df called reclaimable is what the prunes give back.
  const pruned = await k(['container', 'prune', '-f']);
  assert.match(pruned.stdout, /\nTotal reclaimed space: 5B\n$/);
  assert.deepEqual((await k(['system', 'df', '--format', '{{.Type}} {{.Active}}'])).stdout, 'Images 0\nContainers 0\nLocal Volumes 0\nBuild Cache 0\n');
});
