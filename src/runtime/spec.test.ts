import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSpec, type SpecInput } from './spec.js';
import { resolveUser } from './user.js';
import { containerArgs } from './command.js';
import { capabilitySet } from './capabilities.js';
import { DEFAULT_CAPABILITIES } from './defaults.js';
import { isKilnError } from '../errors.js';

const userDb = {
  passwd: 'root:x:0:0:root:/root:/bin/sh\nwww:x:1000:1000:www:/var/www:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
  group: 'root:x:0:\nwww:x:1000:\nstaff:x:50:www,bob\naudio:x:29:www\nnogroup:x:65534:\n',
};
const input = (image: SpecInput['image'] = { Cmd: ['sh'] }): SpecInput => ({
  id: '0123456789abcdef0123',
  rootfs: '/var/lib/kiln/rootfs',
  image,
  userDb,
});

test('defaults look like docker run: caps, masked paths, namespaces, mounts, env, hostname', () => {
  const s = buildSpec(input({ Cmd: ['sh'], Env: ['PATH=/bin', 'FOO=image'] }), { network: 'none' });
  assert.deepEqual(s.process.args, ['sh']);
  assert.deepEqual(s.process.capabilities?.bounding, [...DEFAULT_CAPABILITIES]);
  assert.equal(s.process.capabilities?.bounding.length, 14);
  assert.equal(s.process.noNewPrivileges, true);
  assert.deepEqual(s.process.user, { uid: 0, gid: 0 });
  assert.equal(s.process.cwd, '/');
  assert.equal(s.hostname, '0123456789ab');
  assert.deepEqual(s.process.env, ['PATH=/bin', 'HOSTNAME=0123456789ab', 'FOO=image', 'HOME=/root']);
  assert.deepEqual(s.linux.namespaces.map((n) => n.type), ['pid', 'ipc', 'mount', 'uts', 'network']);
  assert.deepEqual(s.mounts.map((m) => m.destination), ['/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/dev/shm']);
  assert.ok(s.mounts.find((m) => m.destination === '/sys')?.options?.includes('ro'));
  assert.ok(s.linux.maskedPaths?.includes('/proc/kcore'));
  assert.ok(s.linux.readonlyPaths?.includes('/proc/sys'));
  assert.equal(s.root.readonly, false);
  assert.equal(s.linux.cgroupsPath, '/kiln/0123456789abcdef0123');
  assert.deepEqual(s.process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 1048576, soft: 1048576 }]);
});

test('host network: no network or uts namespace, no hostname; netns path is joined', () => {
  const h = buildSpec(input(), { network: 'host' });
  assert.deepEqual(h.linux.namespaces.map((n) => n.type), ['pid', 'ipc', 'mount']);
  assert.equal(h.hostname, undefined);
  assert.ok(!h.process.env.some((e) => e.startsWith('HOSTNAME=')));
  const n = buildSpec(input(), { network: { netnsPath: '/run/netns/x' } });
  assert.deepEqual(n.linux.namespaces.at(-1), { type: 'network', path: '/run/netns/x' });
});

test('entrypoint and cmd combine as Docker does', () => {
  const img = { Entrypoint: ['/entry'], Cmd: ['--default'] };
  assert.deepEqual(containerArgs(img, {}), ['/entry', '--default']);
  assert.deepEqual(containerArgs(img, { cmd: ['x'] }), ['/entry', 'x']);
  assert.deepEqual(containerArgs(img, { entrypoint: ['sh'] }), ['sh']);
  assert.deepEqual(containerArgs(img, { entrypoint: [], cmd: ['ls'] }), ['ls']);
  assert.deepEqual(containerArgs({ Cmd: ['sh'] }, { cmd: ['echo', 'hi'] }), ['echo', 'hi']);
  assert.throws(() => containerArgs({ Entrypoint: null, Cmd: null }, {}), (e) => isKilnError(e, 'INVALID_ARGUMENT') && /no command specified/.test(e.message));
});

test('users: names, ids, groups, supplementary groups, --group-add, unknown names', () => {
  assert.deepEqual(resolveUser('www', userDb), { uid: 1000, gid: 1000, additionalGids: [50, 29], home: '/var/www', username: 'www' });
  assert.deepEqual(resolveUser('www:staff', userDb), { uid: 1000, gid: 50, additionalGids: [], home: '/var/www', username: 'www' });
  assert.deepEqual(resolveUser('1000', userDb), { uid: 1000, gid: 1000, additionalGids: [50, 29], home: '/var/www', username: 'www' });
  assert.deepEqual(resolveUser('4242:4343', userDb), { uid: 4242, gid: 4343, additionalGids: [], home: '/' });
  assert.deepEqual(resolveUser('nobody', userDb, ['audio', '7']), { uid: 65534, gid: 65534, additionalGids: [29, 7], home: '/nonexistent', username: 'nobody' });
  assert.deepEqual(resolveUser(undefined, {}), { uid: 0, gid: 0, additionalGids: [], home: '/' });
  assert.throws(() => resolveUser('alice', userDb), { message: 'unable to find user alice: no matching entries in passwd file' });
  assert.throws(() => resolveUser('www:wheel', userDb), { message: 'unable to find group wheel: no matching entries in group file' });
});

test('run options: user from image, env overrides, workdir, read-only, tty, resources, init', () => {
  const s = buildSpec(input({ Cmd: ['sh'], User: 'www', Env: ['A=1', 'HOME=/custom'], WorkingDir: '/srv' }), {
    network: 'none',
    env: ['A=2', 'B=3'],
    tty: true,
    readOnly: true,
    memory: 64 * 1024 * 1024,
    cpus: 1.5,
    pidsLimit: 100,
    init: '/usr/bin/tini-static',
    hostname: 'web',
  });
  assert.deepEqual(s.process.user, { uid: 1000, gid: 1000, additionalGids: [50, 29] });
  assert.deepEqual(s.process.env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=web', 'TERM=xterm', 'A=2', 'HOME=/custom', 'B=3']);
  assert.equal(s.process.cwd, '/srv');
  assert.equal(s.process.terminal, true);
  assert.equal(s.root.readonly, true);
  assert.deepEqual(s.linux.resources?.memory, { limit: 67108864, swap: 134217728 });
  assert.deepEqual(s.linux.resources?.cpu, { period: 100000, quota: 150000 });
  assert.deepEqual(s.linux.resources?.pids, { limit: 100 });
  assert.deepEqual(s.process.args, ['/sbin/docker-init', '--', 'sh']);
  assert.equal(s.mounts.at(-1)?.source, '/usr/bin/tini-static');
  const noSwap = buildSpec({ ...input(), host: { swapAccounting: false, cpuQuota: true, pids: true, maxNoFile: 4096 } }, { network: 'none', memory: 8 << 20 });
  assert.deepEqual(noSwap.linux.resources?.memory, { limit: 8 << 20 });
  assert.deepEqual(noSwap.process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 4096, soft: 4096 }]);
  assert.throws(() => buildSpec(input(), { network: 'none', workdir: 'rel' }), /needs to be an absolute path/);
});

test('privileged and capabilities', () => {
  const p = buildSpec(input(), { network: 'none', privileged: true });
  assert.equal(p.linux.maskedPaths, undefined);
  assert.ok(p.process.capabilities?.bounding.includes('CAP_SYS_ADMIN'));
  assert.equal(p.process.noNewPrivileges, false);
  assert.deepEqual(p.linux.resources?.devices, [{ allow: true, access: 'rwm' }]);
  assert.ok(!p.mounts.find((m) => m.destination === '/sys')?.options?.includes('ro'));
  const c = capabilitySet({ capAdd: ['net_admin'], capDrop: ['CAP_CHOWN', 'kill'] });
  assert.ok(c.includes('CAP_NET_ADMIN') && !c.includes('CAP_CHOWN') && !c.includes('CAP_KILL'));
  assert.deepEqual(capabilitySet({ capDrop: ['ALL'], capAdd: ['NET_BIND_SERVICE'] }), ['CAP_NET_BIND_SERVICE']);
  assert.throws(() => capabilitySet({ capAdd: ['FLY'] }), /unknown capability: "FLY"/);
});

test('caller mounts replace defaults at the same destination', () => {
  const s = buildSpec(input(), { network: 'none', mounts: [{ destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['size=1g'] }] });
  const shm = s.mounts.filter((m) => m.destination === '/dev/shm');
  assert.deepEqual(shm, [{ destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['size=1g'] }]);
});
