/**
 * The store under faults: a pull killed with SIGKILL midway and run again,
 * and four concurrent pulls of overlapping images into one store.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { startRegistry } from '../../testing/registry.js';
import { kilnBin, kilnOk, testCache } from '../../testing/kiln.js';

let reg: Awaited<ReturnType<typeof startRegistry>>;
let tmp: string;

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'kiln-faults-'));
  reg = await startRegistry({});
});
after(async () => {
  await reg?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

function largestFile(dir: string): number {
  let max = 0;
  const walk = (d: string) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return; // the directory may vanish while the pull renames files
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      try {
        if (e.isDirectory()) walk(p);
        else if (e.isFile()) max = Math.max(max, statSync(p).size);
      } catch {
        // renamed or removed between readdir and stat
      }
    }
  };
  walk(dir);
  return max;
}

test('kill -9 in the middle of a pull, then pull again: complete and consistent', async () => {
  const src = path.join(tmp, 'src');
  const rootfs = path.join(tmp, 'rootfs');
  mkdirSync(rootfs);
  writeFileSync(path.join(rootfs, 'random.bin'), randomBytes(96 * 1024 * 1024));
  const tar = path.join(tmp, 'big.tar');
  execFileSync('tar', ['-C', rootfs, '-cf', tar, '.']);
  const name = `${reg.host}/big/random:1`;
  const imp = await kilnOk(['import', tar, name], { root: src });
  await kilnOk(['push', '-q', name], { root: src });

  const dst = path.join(tmp, 'dst');
  const child = spawn(process.execPath, [kilnBin(), '--root', dst, 'pull', '-q', name], { stdio: 'ignore' });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  let killed = false;
  for (let i = 0; i < 3000 && child.exitCode === null; i++) {
    if (largestFile(dst) > 8 * 1024 * 1024) {
      child.kill('SIGKILL');
      killed = true;
      break;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(await exited, 'SIGKILL', 'the first pull must have been killed midway');
  assert.ok(killed);

  const again = await kilnOk(['pull', '-q', name], { root: dst });
  assert.equal(again.stdout, `${name}\n`);
  const [info] = JSON.parse((await kilnOk(['inspect', name], { root: dst })).stdout) as [{ Id: string }];
  assert.equal(info.Id, imp.stdout.trim());
  const check = await kilnOk(['system', 'check'], { root: dst });
  assert.equal(check.stdout, 'store is consistent\n');
});

test('four concurrent pulls of overlapping images into one store', async () => {
  const src = path.join(tmp, 'src2');
  const busybox = path.join(testCache(), 'busybox-rootfs.tar');
  await kilnOk(['import', '-c', 'CMD ["a"]', busybox, `${reg.host}/over/a:1`], { root: src });
  await kilnOk(['import', '-c', 'CMD ["b"]', busybox, `${reg.host}/over/b:1`], { root: src });
  await kilnOk(['push', '-q', `${reg.host}/over/a:1`], { root: src });
  await kilnOk(['push', '-q', `${reg.host}/over/b:1`], { root: src });
  const dst = path.join(tmp, 'shared');
  const names = [`${reg.host}/over/a:1`, `${reg.host}/over/b:1`, `${reg.host}/over/a:1`, `${reg.host}/over/b:1`];
  const results = await Promise.all(names.map((n) => kilnOk(['pull', '-q', n], { root: dst })));
  assert.deepEqual(results.map((r) => r.stdout.trim()), names);
  const check = await kilnOk(['system', 'check'], { root: dst });
  assert.equal(check.stdout, 'store is consistent\n');
  const q = await kilnOk(['images', '--format', 'json'], { root: dst });
  const tags = (JSON.parse(q.stdout) as { repoTags: string[] }[]).flatMap((i) => i.repoTags).sort();
  assert.deepEqual(tags, [`${reg.host}/over/a:1`, `${reg.host}/over/b:1`]);
});
