import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { isKilnError } from '../errors.js';
import { prepareContainer, removeContainer } from './container.js';
import { containerPaths, runcRoot } from './paths.js';
import { Runc } from './runc.js';
import { runtimeFixture, type RuntimeFixture } from '../testing/runtime-fixture.js';

let fx: RuntimeFixture;
before(async () => {
  fx = await runtimeFixture();
});
after(() => fx.cleanup());

test('runc driver: create, state, start, list, kill, delete, and typed errors', async (t) => {
  const id = 'drv-1';
  t.after(() => removeContainer(fx.stateDir, id, { force: true }));
  const { paths } = await prepareContainer(fx.stateDir, id, { rootfs: fx.rootfs, image: { Cmd: ['sleep', '1000'] }, options: { network: 'none' } });
  const runc = new Runc({ root: runcRoot(fx.stateDir) });
  await runc.create(id, paths.bundle, { pidFile: `${paths.bundle}/init.pid` });
  const created = await runc.state(id);
  assert.equal(created.status, 'created');
  assert.equal(created.bundle, paths.bundle);
  assert.equal(Number(await readFile(`${paths.bundle}/init.pid`, 'utf8')), created.pid);
  await assert.rejects(runc.create(id, paths.bundle), (e) => isKilnError(e, 'ALREADY_EXISTS') && e.message.startsWith('container drv-1: already exists'));
  await runc.start(id);
  assert.deepEqual((await runc.list()).map((c) => [c.id, c.status]), [[id, 'running']]);
  await runc.kill(id, 'KILL');
  for (const end = Date.now() + 30_000; (await runc.state(id)).status !== 'stopped' && Date.now() < end; ) await sleep(20);
  assert.equal((await runc.state(id)).status, 'stopped');
  await assert.rejects(runc.kill(id, 'TERM'), (e) => isKilnError(e, 'FAILED_PRECONDITION') && /is not running/.test(e.message));
  await runc.delete(id);
  await assert.rejects(runc.state(id), (e) => isKilnError(e, 'NOT_FOUND') && e.message.startsWith('container drv-1: not found'));
  assert.deepEqual(await runc.list(), []);
  assert.equal(containerPaths(fx.stateDir, id).bundle, paths.bundle);
});

test('runc driver: a missing runc binary is UNAVAILABLE with an install hint', async () => {
  const runc = new Runc({ root: runcRoot(fx.stateDir), binary: '/nonexistent/runc' });
  await assert.rejects(runc.list(), (e) => isKilnError(e, 'UNAVAILABLE') && e.hint === 'install runc (apt-get install runc)');
});

test('container ids are checked before they become paths', () => {
  assert.throws(() => containerPaths(fx.stateDir, '../escape'), (e) => isKilnError(e, 'INVALID_ARGUMENT') && /invalid container id "..\/escape"/.test(e.message));
});
