import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { OwnerRecords } from './owner-records.js';
import { startTime } from '../util/process.js';

test('owner records: a dead owner (or a reused pid) is stale, a live one never; the key is the file name', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-owners-'));
  try {
    const records = new OwnerRecords<{ lease?: string }>(dir);
    await records.claim('mine', { lease: 'l1' });
    // A child claims a key and exits: its record is left behind.
    const mod = path.join(path.dirname(fileURLToPath(import.meta.url)), 'owner-records.js');
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', `const { OwnerRecords } = await import(${JSON.stringify(mod)}); await new OwnerRecords(${JSON.stringify(dir)}).claim('dead');`]);
    assert.equal(child.status, 0, child.stderr.toString());
    // This process's pid with another start time: a reused pid, not the owner.
    writeFileSync(path.join(dir, 'reused.json'), JSON.stringify({ key: 'reused', pid: process.pid, start: `${Number(startTime(process.pid)) + 1}` }));
    writeFileSync(path.join(dir, 'hostile.json'), JSON.stringify({ key: '../../etc', pid: 1, start: 'x' }));
    writeFileSync(path.join(dir, 'torn.json'), '{"key": "to');
    const stale = await records.stale();
    assert.deepEqual(stale.map((r) => r.key).sort(), ['dead', 'hostile', 'reused', 'torn']);
    assert.equal(stale.find((r) => r.key === 'dead')!.pid, child.pid);
    await records.release('dead');
    await records.release('mine');
    assert.deepEqual(readdirSync(dir).sort(), ['hostile.json', 'reused.json', 'torn.json']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
