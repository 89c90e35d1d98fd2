import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bridgeMembers, containerFixture, IMAGE, type ContainerFixture } from '../../../testing/container-fixture.js';

let fx: ContainerFixture;
before(async () => {
  fx = await containerFixture();
});
after(() => fx.cleanup());

const nat = () => execFileSync('iptables-save', ['-t', 'nat']).toString();
const masqueradeRules = () => nat().split('\n').filter((l) => l.includes(`kiln bridge ${fx.bridge}"`));

test('run --rm on the bridge: the container gets an address in the subnet and its exit code; one masquerade rule for the bridge stays, nothing of the container', async () => {
  const prefix = fx.subnet.split('.').slice(0, 3).join('.') + '.';
  const first = await fx.k(['run', '--rm', '--name', 'br1', IMAGE, 'sh', '-c', 'ip -4 -o addr show eth0; exit 7']);
  assert.equal(first.code, 7, first.stderr);
  assert.match(first.stdout, new RegExp(`inet ${prefix.replace(/\./g, '\\.')}\\d+/24`));
  const second = await fx.k(['run', '--rm', '--name', 'br2', IMAGE, 'true']);
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(masqueradeRules(), [`-A POSTROUTING -s ${fx.subnet} ! -o ${fx.bridge} -m comment --comment "kiln bridge ${fx.bridge}" -j MASQUERADE`]);
  // No chain or rule per container (the CNI bridge plugin's ipMasq made one each), no veth, no container left.
  assert.equal(nat().includes(`name: "kiln-${fx.bridge}"`), false, 'per-container CNI rules left');
  assert.deepEqual(bridgeMembers(fx.bridge), []);
  assert.equal((await fx.ok(['ps', '-aq'])).stdout, '');
});

test('ps -a lists every container, one row each, newest first, and skips what is not a container in the store', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 12; i++) ids.push((await fx.ok(['create', '--network', 'none', '--name', `many${i}`, IMAGE, 'true'])).stdout.trim());
  // A stray file, and a container directory whose record is gone (removed while being listed).
  writeFileSync(path.join(fx.root, 'containers', 'notes.txt'), 'not a container\n');
  mkdirSync(path.join(fx.root, 'containers', 'f'.repeat(64)));
  const rows = (await fx.ok(['ps', '-a', '--format', '{{.Names}} {{.Status}}'])).stdout.trim().split('\n');
  assert.deepEqual(rows, ids.map((_, i) => `many${11 - i} Created`));
  assert.deepEqual((await fx.ok(['ps', '-aq', '--no-trunc'])).stdout.trim().split('\n').sort(), [...ids].sort());
  await fx.ok(['rm', ...ids]);
  assert.equal((await fx.ok(['ps', '-aq'])).stdout, '');
});
