/**
 * The final stage's last COPY writes its files only into its layer
 * (./deferred-files.ts): that layer must be byte for byte the one the same
 * COPY makes on the disk when a later step follows (then its files are
 * created), and an image built on it must see every file.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, linkSync, lstatSync, mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildFixture, type BuildFixture } from './test-support.js';
import { DeferredFiles } from './deferred-files.js';

let fx: BuildFixture;
let ctx: string;
before(async () => {
  fx = await buildFixture('kiln-deferred-');
  const long = `${'n'.repeat(120)}.txt`;
  ctx = fx.context({
    marker: 'm\n',
    'dir/top.txt': 'top\n',
    'dir/run.sh': '#!/bin/sh\necho hi\n',
    'dir/private': 'secret\n',
    'dir/shared': 'group writable\n',
    'dir/suid': 'set-id\n',
    'dir/sub/deeper/f': 'deep\n',
    [`dir/sub/${long}`]: 'long name\n',
    'dir/linked-a': 'hardlinked\n',
    'one/sub/deeper/f': 'from one: wins\n',
    'one/extra': 'extra\n',
  });
  chmodSync(path.join(ctx, 'dir/run.sh'), 0o755);
  chmodSync(path.join(ctx, 'dir/private'), 0o600);
  chmodSync(path.join(ctx, 'dir/shared'), 0o664);
  chmodSync(path.join(ctx, 'dir/suid'), 0o4755);
  symlinkSync('top.txt', path.join(ctx, 'dir/sym'));
  linkSync(path.join(ctx, 'dir/linked-a'), path.join(ctx, 'dir/linked-b'));
  mkdirSync(path.join(ctx, 'dir/empty'));
});
after(async () => {
  await fx.assertNoLeftovers();
  await fx.cleanup();
});

const EPOCH = ['--build-arg', 'SOURCE_DATE_EPOCH=1700000000'];

/** Builds the Dockerfile as it is (last COPY deferred) and with one more COPY after it (the same COPY made on the disk, not taken from the cache); returns both layer lists. */
async function bothWays(name: string, body: string): Promise<{ deferred: string[]; onDisk: string[] }> {
  const df = (text: string) => {
    const file = path.join(fx.tmp, `${name}-${Math.random().toString(36).slice(2)}.Dockerfile`);
    writeFileSync(file, text);
    return file;
  };
  const base = `FROM busybox\nWORKDIR /app\nRUN echo base > /app/base\n${body}\n`;
  await fx.buildOk(['-q', ...EPOCH, '-f', df(base), '-t', `${name}:deferred`, ctx]);
  await fx.buildOk(['-q', '--no-cache', ...EPOCH, '-f', df(`${base}COPY marker /marker\n`), '-t', `${name}:ondisk`, ctx]);
  return { deferred: (await fx.inspect(`${name}:deferred`)).RootFS.Layers, onDisk: (await fx.inspect(`${name}:ondisk`)).RootFS.Layers };
}

for (const [name, copy] of [
  ['tree', 'COPY dir/ /app/dir/'],
  ['owned', 'COPY --chown=1234:5678 --chmod=0640 dir/ /srv/x/'],
  ['overwrite', 'COPY dir/ one/ /app/'],
] as const) {
  test(`the last COPY's layer (${copy}) is the layer the same COPY makes on the disk`, async () => {
    const { deferred, onDisk } = await bothWays(name, copy);
    assert.equal(onDisk.length, deferred.length + 1);
    assert.deepEqual(onDisk.slice(0, deferred.length), deferred);
  });
}

test('an image whose last COPY was not written to the disk runs with every file of it', async () => {
  await bothWays('runs', 'COPY dir/ one/ /app/');
  const file = path.join(fx.tmp, 'next.Dockerfile');
  writeFileSync(
    file,
    'FROM runs:deferred\nRUN test "$(cat /app/sub/deeper/f)" = "from one: wins" && test -u /app/suid && test -x /app/run.sh && test "$(readlink /app/sym)" = top.txt' +
      ' && test "$(stat -c %i /app/linked-a)" = "$(stat -c %i /app/linked-b)" && test -d /app/empty && cat /app/extra /app/top.txt > /app/seen\n',
  );
  await fx.buildOk(['-q', '-f', file, '-t', 'next:1', ctx]);
});

test('writeAll into the upper dir of an unmounted root: every file there with its owner, mode and times, none at the root, directory times kept', async () => {
  const rootfs = path.join(fx.tmp, 'wa-root');
  const upper = path.join(fx.tmp, 'wa-upper');
  const src = path.join(fx.tmp, 'wa-src');
  const old = new Date('2001-02-03T04:05:06Z');
  const names = ['a/1', 'a/2', 'a/3', 'b/1', 'b/2', 'c/1'];
  const deferred = new DeferredFiles();
  for (const d of ['a', 'b', 'c']) {
    mkdirSync(path.join(src, d), { recursive: true });
    mkdirSync(path.join(rootfs, d), { recursive: true });
    mkdirSync(path.join(upper, d), { recursive: true });
    utimesSync(path.join(upper, d), old, old);
  }
  for (const [i, n] of names.entries()) {
    const file = path.join(src, n);
    writeFileSync(file, `${n}\n`, { mode: i === 0 ? 0o4755 : 0o640 });
    chmodSync(file, i === 0 ? 0o4755 : 0o640);
    utimesSync(file, old, old);
    deferred.add(path.join(rootfs, n), file, i === 1 ? { uid: 1234, gid: 5678 } : undefined, i === 0 ? 0o4755 : undefined, lstatSync(file));
  }
  await deferred.writeAll(rootfs, deferred.dirStats(rootfs, upper), upper);
  for (const [i, n] of names.entries()) {
    const st = lstatSync(path.join(upper, n));
    assert.equal(readFileSync(path.join(upper, n), 'utf8'), `${n}\n`);
    assert.equal(st.mode & 0o7777, i === 0 ? 0o4755 : 0o640, n);
    assert.deepEqual([st.uid, st.gid], i === 1 ? [1234, 5678] : [0, 0], n);
    assert.equal(st.mtimeMs, old.getTime(), n);
    assert.equal(lstatSync(path.join(rootfs, n), { throwIfNoEntry: false }), undefined, `${n} not written at the root`);
  }
  for (const d of ['a', 'b', 'c']) assert.equal(lstatSync(path.join(upper, d)).mtimeMs, old.getTime(), `${d} keeps its time`);
});

test("writer: files written from the diff's bytes once the root is unmounted end as writeAll's copies (owner, set-id cleared by a chown, mode asked for, times); writeAll then writes only the others", async () => {
  const old = new Date('2001-02-03T04:05:06Z');
  // file → [source mode, owner, mode asked for]
  const cases: Record<string, [number, { uid: number; gid: number } | undefined, number | undefined]> = {
    plain: [0o640, undefined, undefined],
    suid: [0o4755, undefined, undefined],
    'suid-chowned': [0o4755, { uid: 1234, gid: 5678 }, undefined],
    'chowned-with-mode': [0o644, { uid: 7, gid: 8 }, 0o2711],
    'mode-only': [0o600, undefined, 0o666],
    'left-to-writeAll': [0o644, { uid: 3, gid: 4 }, undefined],
  };
  const results: Record<string, string>[] = [];
  for (const via of ['writer', 'writeAll'] as const) {
    const base = path.join(fx.tmp, `wr-${via}`);
    const [rootfs, upper, src] = ['root', 'upper', 'src'].map((d) => path.join(base, d)) as [string, string, string];
    for (const d of [rootfs, upper, src]) mkdirSync(path.join(d, 'd'), { recursive: true });
    utimesSync(path.join(upper, 'd'), old, old);
    const deferred = new DeferredFiles();
    for (const [name, [mode, owner, asked]] of Object.entries(cases)) {
      const file = path.join(src, 'd', name);
      writeFileSync(file, `${name}\n`);
      chmodSync(file, mode);
      utimesSync(file, old, old);
      deferred.add(path.join(rootfs, 'd', name), file, owner, asked, lstatSync(file));
    }
    let unmounted!: (dir: string) => void;
    const into = new Promise<string>((resolve) => (unmounted = resolve));
    const dirStats = deferred.dirStats(rootfs, upper);
    if (via === 'writer') {
      const write = deferred.writer(rootfs, into);
      // The first write waits for the unmount; later ones are done at once.
      const first = write('d/plain', readFileSync(path.join(src, 'd', 'plain')));
      assert.ok(first instanceof Promise, 'the first write waits for the root to be unmounted');
      assert.equal(lstatSync(path.join(upper, 'd', 'plain'), { throwIfNoEntry: false }), undefined, 'nothing written before the unmount');
      unmounted(upper);
      await first;
      for (const name of Object.keys(cases)) if (name !== 'plain' && name !== 'left-to-writeAll') assert.equal(write(`d/${name}`, readFileSync(path.join(src, 'd', name))), undefined);
    } else unmounted(upper);
    await deferred.writeAll(rootfs, dirStats, await into);
    const seen: Record<string, string> = {};
    for (const name of Object.keys(cases)) {
      const st = lstatSync(path.join(upper, 'd', name));
      seen[name] = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${st.mtimeMs} ${readFileSync(path.join(upper, 'd', name), 'utf8').trim()}`;
      assert.equal(lstatSync(path.join(rootfs, 'd', name), { throwIfNoEntry: false }), undefined, `${name} not written at the root`);
    }
    assert.equal(lstatSync(path.join(upper, 'd')).mtimeMs, old.getTime(), 'the directory keeps its time');
    results.push(seen);
  }
  assert.deepEqual(results[0], results[1]);
  assert.equal(results[0]!['suid-chowned'], `755 1234:5678 ${old.getTime()} suid-chowned`);
  assert.equal(results[0]!['chowned-with-mode'], `2711 7:8 ${old.getTime()} chowned-with-mode`);
  assert.equal(results[0]!['mode-only'], `666 0:0 ${old.getTime()} mode-only`);
  assert.equal(results[0]!.suid, `4755 0:0 ${old.getTime()} suid`);
});
