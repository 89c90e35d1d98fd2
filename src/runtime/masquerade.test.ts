import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { ensureMasquerade, removeMasquerade } from './masquerade.js';
import { tempDir } from '../testing/tempdir.js';

/** The nat POSTROUTING rules iptables lists for this bridge. */
const rulesOf = (bridge: string) =>
  execFileSync('iptables', ['-t', 'nat', '-S', 'POSTROUTING']).toString().split('\n').filter((l) => l.includes(`kiln bridge ${bridge}"`));

test('ensureMasquerade makes one rule per bridge however often (and however concurrently) it is called; removeMasquerade takes it away', async (t) => {
  const cfg = { bridge: `km${randomBytes(4).toString('hex')}`, subnet: `10.${randomInt(200, 250)}.${randomInt(0, 256)}.0/24` };
  const dir = await tempDir('kiln-masq-');
  t.after(async () => {
    await removeMasquerade(cfg);
    await rm(dir, { recursive: true, force: true });
  });
  assert.deepEqual(rulesOf(cfg.bridge), []);
  await ensureMasquerade(cfg, dir);
  await Promise.all([ensureMasquerade(cfg, dir), ensureMasquerade(cfg, dir), ensureMasquerade(cfg, dir)]);
  assert.deepEqual(rulesOf(cfg.bridge), [`-A POSTROUTING -s ${cfg.subnet} ! -o ${cfg.bridge} -m comment --comment "kiln bridge ${cfg.bridge}" -j MASQUERADE`]);
  await removeMasquerade(cfg);
  assert.deepEqual(rulesOf(cfg.bridge), []);
  // Nothing to remove is no error.
  await removeMasquerade(cfg);
});
