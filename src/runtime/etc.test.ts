import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostsFile, resolvConf, writeEtcFiles } from './etc.js';

const hostResolv = '# generated\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nnameserver ::1\nsearch corp.example\noptions ndots:2\n';

test('resolv.conf drops loopback nameservers unless on the host network; falls back to public DNS', () => {
  assert.equal(resolvConf(hostResolv, 'none'), '# generated\nnameserver 10.0.0.2\nsearch corp.example\noptions ndots:2\n');
  assert.equal(resolvConf(hostResolv, 'host'), hostResolv);
  assert.equal(resolvConf('nameserver 127.0.0.1\n', 'none'), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  assert.equal(resolvConf(hostResolv, 'none', ['1.1.1.1']), '# generated\nsearch corp.example\noptions ndots:2\nnameserver 1.1.1.1\n');
});

test('hosts: Docker defaults, --add-host, the container address; host network keeps the host file', () => {
  const h = hostsFile({ hostname: 'web', network: 'none', extraHosts: ['db:10.0.0.5'], ip: '10.88.0.2' });
  assert.equal(h.split('\n')[0], '127.0.0.1\tlocalhost');
  assert.ok(h.endsWith('10.0.0.5\tdb\n10.88.0.2\tweb\n'));
  assert.equal(hostsFile({ hostname: 'x', network: 'host' }, '127.0.0.1 localhost\n10.1.1.1 node1\n'), '127.0.0.1 localhost\n10.1.1.1 node1\n');
  assert.throws(() => hostsFile({ hostname: 'x', network: 'none', extraHosts: ['nocolon'] }), /invalid --add-host "nocolon"/);
});

test('writeEtcFiles writes the three files and returns bind mounts', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-etc-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'host-resolv'), hostResolv);
  const mounts = await writeEtcFiles(dir, { hostname: 'box', network: 'none', hostResolvConf: join(dir, 'host-resolv'), hostHosts: join(dir, 'absent') });
  assert.deepEqual(mounts.map((m) => [m.destination, m.source]), [
    ['/etc/hosts', join(dir, 'hosts')],
    ['/etc/hostname', join(dir, 'hostname')],
    ['/etc/resolv.conf', join(dir, 'resolv.conf')],
  ]);
  assert.equal(await readFile(join(dir, 'hostname'), 'utf8'), 'box\n');
  assert.ok(!(await readFile(join(dir, 'resolv.conf'), 'utf8')).includes('127.0.0.53'));
});
