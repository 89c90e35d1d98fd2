/**
 * `--restart` on a real containerd: `always` hands the container to
 * containerd's restart monitor (labels `ctr` shows), which starts it again
 * after it exits, logging to the same file; `stop` takes it back (no more
 * restarts), `start` hands it over again, `rm -f` leaves nothing;
 * `on-failure` is refused in one line with nothing made.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { IMAGE, until } from '../../testing/container-fixture.js';
import { containerdContainerFixture, ctrIds as ids, type ContainerdContainerFixture } from '../../testing/containerd-container-fixture.js';

let fx: ContainerdContainerFixture;
before(async () => {
  fx = await containerdContainerFixture();
});
after(() => fx?.cleanup());

const boots = async (name: string) => (await fx.ok(['logs', name])).stdout.split('\n').filter((l) => l === 'boot').length;

test('--restart always: containerd\'s restart monitor runs it again after each exit; stop ends that, start resumes it; rm -f leaves nothing', async () => {
  const id = (await fx.ok(['run', '-d', '--restart', 'always', '--name', 'again', '--network', 'none', IMAGE, 'sh', '-c', 'echo boot; sleep 1; exit 3'])).stdout.trim();
  const info = await fx.ctr(['containers', 'info', id]);
  assert.match(info, /"containerd.io\/restart.status": "running"/);
  assert.match(info, /"containerd.io\/restart.loguri": "binary:\/\//);
  // The monitor checks every 10 s (containerd's default): two restarts take up to ~22 s on a quiet machine.
  await until('two restarts by the monitor', async () => (await boots('again')) >= 3, 120_000);
  await fx.ok(['stop', '-t', '1', 'again']);
  assert.doesNotMatch(await fx.ctr(['containers', 'info', id]), /restart\.status/);
  const stopped = await boots('again');
  await sleep(12_000);
  assert.equal(await boots('again'), stopped, 'restarted after stop');
  assert.match((await fx.ok(['ps', '-a', '--filter', 'name=again'])).stdout, /Exited/);
  await fx.ok(['start', 'again']);
  assert.match(await fx.ctr(['containers', 'info', id]), /"containerd.io\/restart.status": "running"/);
  await until('restarted after start', async () => (await boots('again')) >= stopped + 2, 60_000);
  await fx.ok(['rm', '-f', 'again']);
  assert.deepEqual([ids(await fx.ctr(['containers', 'ls'])), ids(await fx.ctr(['tasks', 'ls']))], [[], []]);
  await sleep(11_000);
  assert.deepEqual(ids(await fx.ctr(['tasks', 'ls'])), [], 'the monitor started a task of a removed container');
});

test('--restart on-failure is refused in one line, nothing made', async () => {
  const r = await fx.k(['run', '-d', '--restart', 'on-failure', '--network', 'none', IMAGE, 'true']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^kiln: --restart on-failure is not supported on the containerd backend/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.equal((await fx.ok(['ps', '-aq'])).stdout, '');
});
