/**
 * binfmt_misc entries as kiln reads them: the kernel's own (registered with F
 * by kiln when missing), and entries this host may have that kiln cannot use
 * (no F flag, disabled), written as binfmt_misc shows them into a directory
 * named by KILN_BINFMT_DIR.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { emulationStatus, registerEmulation, runsNatively } from './binfmt.js';

const arm64 = { os: 'linux', architecture: 'arm64' };

test('the kernel: amd64 and 386 run natively, arm64 is registered with F (kiln registers it when missing)', async () => {
  assert.equal(runsNatively({ os: 'linux', architecture: 'amd64' }), true);
  assert.equal(runsNatively({ os: 'linux', architecture: '386' }), true);
  assert.equal(runsNatively(arm64), false);
  const s = await registerEmulation(arm64);
  assert.deepEqual([s.platform, s.state, s.entry], ['linux/arm64', 'ready', 'qemu-aarch64']);
  assert.match(s.interpreter!, /aarch64/);
  assert.equal((await emulationStatus({ os: 'linux', architecture: 'sparc99' })).state, 'unsupported');
});

test('an entry without the F flag, or disabled: said so; a build is refused with what to do', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-binfmt-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  process.env.KILN_BINFMT_DIR = dir;
  t.after(() => delete process.env.KILN_BINFMT_DIR);
  const entry = (state: string, flags: string) =>
    writeFileSync(path.join(dir, 'qemu-aarch64'), `${state}\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: ${flags}\noffset 0\nmagic 7f454c46\nmask ffffffff\n`);
  assert.equal((await emulationStatus(arm64)).state, 'unregistered');
  entry('enabled', 'P');
  assert.equal((await emulationStatus(arm64)).state, 'no-fix-binary');
  await assert.rejects(registerEmulation(arm64), (e: Error & { hint?: string }) => {
    assert.equal(e.message, 'running linux/arm64 binaries (QEMU user emulation): binfmt_misc entry qemu-aarch64 is registered without the F (fix-binary) flag, so containers cannot reach its interpreter');
    assert.match(e.hint ?? '', /kiln system binfmt --install/);
    return true;
  });
  entry('disabled', 'PF');
  assert.equal((await emulationStatus(arm64)).state, 'disabled');
  entry('enabled', 'POCF');
  assert.equal((await emulationStatus(arm64)).state, 'ready');
});
