/**
 * `kiln events` on the local backend, as a user runs it: the image commands
 * leave Docker's image events (import, tag, build, save, untag, delete, load,
 * push, pull) in the one log, read back in order with filters, and followed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startRegistry } from '../testing/registry.js';
import { kilnBin, kilnOk, testCache } from '../testing/kiln.js';
import type { KilnEvent } from '../engine/events.js';

const busybox = path.join(testCache(), 'busybox-rootfs.tar');
let reg: Awaited<ReturnType<typeof startRegistry>>;
let tmp: string;
let root: string;

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'kiln-events-'));
  root = path.join(tmp, 'root');
  reg = await startRegistry({});
});
after(async () => {
  await reg?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const ok = (args: string[]) => kilnOk(args, { root });
const events = async (since: string, filters: string[]) => {
  const until = new Date(Date.now() + 50).toISOString();
  const r = await ok(['events', '--since', since, '--until', until, '--format', 'json', ...filters.flatMap((f) => ['--filter', f])]);
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as KilnEvent);
};

test('image commands leave Docker\'s image events, in order, with the names as attributes', async () => {
  const since = new Date().toISOString();
  const id = (await ok(['import', busybox, 'demo/ev:1'])).stdout.trim();
  await ok(['tag', 'demo/ev:1', 'demo/ev:2']);
  const ctx = path.join(tmp, 'ctx');
  mkdirSync(ctx);
  writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM demo/ev:1\nLABEL built=yes\n');
  const built = (await ok(['build', '-q', '-t', 'demo/built:1', '-t', 'demo/built:2', ctx])).stdout.trim();
  const archive = path.join(tmp, 'ev.tar');
  await ok(['save', '-o', archive, 'demo/ev:2']);
  await ok(['rmi', '-f', id]);
  await ok(['load', '-i', archive]);
  const remote = `${reg.host}/demo/ev:1`;
  await ok(['tag', 'demo/ev:2', remote]);
  await ok(['push', remote]);
  await ok(['pull', remote]);

  const seen = (await events(since, ['type=image'])).map((e) => `${e.action} ${e.id} ${e.attributes.name}`);
  const full = (n: string) => `docker.io/${n}`;
  assert.deepEqual(seen, [
    `import ${id} ${full('demo/ev:1')}`,
    `tag ${full('demo/ev:2')} ${full('demo/ev:2')}`,
    `build ${built} ${full('demo/built:1')},${full('demo/built:2')}`,
    `save ${id} ${full('demo/ev:1')},${full('demo/ev:2')}`,
    `untag ${full('demo/ev:1')} ${full('demo/ev:1')}`,
    `untag ${full('demo/ev:2')} ${full('demo/ev:2')}`,
    `delete ${id} ${id}`,
    `load ${id} ${full('demo/ev:1')}`,
    `load ${id} ${full('demo/ev:2')}`,
    `tag ${remote} ${remote}`,
    `push ${remote} ${remote}`,
    `pull ${remote} ${remote}`,
  ]);
  assert.deepEqual((await events(since, ['image=demo/built'])).map((e) => e.action), ['build']);
  assert.deepEqual((await events(since, ['image=demo/ev:2', 'event=tag', 'event=untag'])).map((e) => e.action), ['tag', 'untag']);
  assert.deepEqual((await events(since, [`image=${id.slice(7, 19)}`])).map((e) => e.action), ['import', 'save', 'delete', 'load', 'load']);
});

test('without --since, kiln events follows: a tag made after it started is printed, Ctrl-C ends it with exit 0', async () => {
  await ok(['import', busybox, 'demo/follow:1']);
  const child = spawn(process.execPath, [kilnBin(), '--root', root, 'events', '--filter', 'event=tag'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  try {
    // Only events after it started are shown: tag new names until one is printed.
    let i = 0;
    for (; i < 30 && !out.includes('\n'); i++) {
      await ok(['tag', 'demo/follow:1', `demo/follow:p${i}`]);
      for (const end = Date.now() + 1000; Date.now() < end && !out.includes('\n'); ) await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(out, /^\S+Z image tag docker\.io\/demo\/follow:p\d+ \(name=docker\.io\/demo\/follow:p\d+\)\n$/);
    const first = Number(/:p(\d+) /.exec(out)![1]);
    await ok(['tag', 'demo/follow:1', 'demo/follow:last']);
    for (const end = Date.now() + 10_000; Date.now() < end && !out.includes('follow:last'); ) await new Promise((r) => setTimeout(r, 50));
    const names = out.trim().split('\n').map((l) => /\((name=\S+)\)$/.exec(l)?.[1]);
    assert.deepEqual(names, [...Array.from({ length: i - first }, (_, k) => `name=docker.io/demo/follow:p${first + k}`), 'name=docker.io/demo/follow:last']);
  } finally {
    child.kill('SIGINT');
  }
  assert.equal(await exited, 0, err);
});
