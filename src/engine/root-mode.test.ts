/**
 * The store root and the directories holding unpacked filesystems are out of
 * other users' reach: an image's setuid file or device node cannot be used
 * from the store; containers whose USER is not root still run; a root left
 * open by an older kiln is named by `system check` and closed by the next command.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { kiln, kilnOk, testCache } from '../testing/kiln.js';

let tmp: string;
let root: string;

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'kiln-rootmode-'));
  chmodSync(tmp, 0o755); // as /var/lib is: only kiln's own modes keep other users out
  root = path.join(tmp, 'root');
  await kilnOk(['import', path.join(testCache(), 'busybox-rootfs.tar'), 'busybox:latest'], { root });
});
after(async () => {
  await kiln(['system', 'prune'], { root });
  rmSync(tmp, { recursive: true, force: true });
});

const mode = (p: string): string => (statSync(p).mode & 0o7777).toString(8);
/** Runs argv as nobody (65534): what any local user could do (through a shell: setpriv itself still holds root's capabilities when it execs). */
const asNobody = (argv: string[]) => spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '/bin/sh', '-c', 'exec "$@"', 'sh', ...argv], { encoding: 'utf8' });

test('an image with USER www (1000) runs; no other user reaches the unpacked layers, their setuid files or the roots', async () => {
  const ctx = path.join(tmp, 'ctx');
  execFileSync('mkdir', ['-p', ctx]);
  writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox\nRUN mkdir -p /var/www && chown www /var/www && cp /bin/busybox /suid && chmod 4755 /suid\nUSER www\nWORKDIR /var/www\n');
  await kilnOk(['build', '-q', '-t', 'www:1', ctx], { root });
  const r = await kilnOk(['run', '--rm', 'www:1', 'sh', '-c', 'id -u; echo written > note; cat note; cat /etc/passwd | head -1; ls /suid'], { root });
  assert.equal(r.stdout, '1000\nwritten\nroot:x:0:0:root:/root:/bin/sh\n/suid\n');
  const detached = (await kilnOk(['run', '-d', 'www:1', 'sh', '-c', 'echo up; sleep 30'], { root })).stdout.trim();
  try {
    assert.equal(mode(root), '711');
    for (const d of ['layers', 'mounts', 'run', 'build', 'containers', 'volumes']) assert.equal(mode(path.join(root, d)), '700', d);
    const layer = readdirSync(path.join(root, 'layers')).find((h) => /^[0-9a-f]{64}$/.test(h) && readdirSync(path.join(root, 'layers', h, 'fs')).includes('suid'));
    assert.ok(layer, 'the layer with /suid is unpacked');
    const suid = path.join(root, 'layers', layer, 'fs', 'suid');
    assert.equal(mode(suid), '4755', 'the layer keeps its setuid bit (it is the image)');
    const run = asNobody([suid, 'id', '-u']);
    assert.notEqual(run.status, 0, `nobody ran the image's setuid file: ${run.stdout}`);
    assert.match(run.stderr, /Permission denied/);
    assert.notEqual(asNobody(['ls', path.join(root, 'layers')]).status, 0);
    assert.notEqual(asNobody(['ls', path.join(root, 'mounts')]).status, 0);
    assert.notEqual(asNobody(['ls', root]).status, 0, 'the root cannot be listed');
  } finally {
    await kilnOk(['rm', '-f', detached], { root });
  }
  const check = await kiln(['system', 'check'], { root });
  assert.equal(check.code, 0, check.stdout + check.stderr);
});

test('a root and layers/ left open (0755) are named by system check, exit 1; the next command closes them', async () => {
  chmodSync(root, 0o755);
  chmodSync(path.join(root, 'layers'), 0o755);
  const bad = await kiln(['system', 'check'], { root });
  assert.equal(bad.code, 1);
  assert.equal(bad.stdout, [
    `mode: ${root}: mode 0755: other users can list it; kiln sets 0711 (run any kiln command on this root to fix it)`,
    `mode: ${path.join(root, 'layers')}: mode 0755: other users can reach the unpacked image files in it (setuid files, capabilities, device nodes); kiln sets 0700 (run any kiln command on this root to fix it)`,
    '',
  ].join('\n'));
  assert.equal(mode(root), '755', 'check only reports');
  await kilnOk(['images'], { root });
  assert.equal(mode(root), '711');
  assert.equal(mode(path.join(root, 'layers')), '700');
  assert.equal((await kiln(['system', 'check'], { root })).code, 0);
});

test('a directory that is no kiln store is left as it is (mode and contents) by commands that refuse it', async () => {
  const foreign = path.join(tmp, 'home');
  execFileSync('mkdir', ['-p', foreign]);
  chmodSync(foreign, 0o755);
  writeFileSync(path.join(foreign, 'notes.txt'), 'mine');
  assert.equal((await kiln(['images'], { root: foreign })).code, 1);
  assert.equal((await kiln(['ps', '-a'], { root: foreign })).code, 0);
  assert.equal(mode(foreign), '755');
  assert.deepEqual(readdirSync(foreign), ['notes.txt']);
});
