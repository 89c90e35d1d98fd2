/**
 * Docker's prune commands and dangling images (issue 14, defect 7 and the
 * prune commands): a tag moved to another image (re-import, rebuild, re-tag)
 * leaves the old one as `<none>:<none>` until a prune; `image prune [-a]`,
 * `builder prune [-a]`, `container prune` and `system prune --all` print what
 * Docker prints and give the disk back.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { kiln, kilnOk, testCache } from '../testing/kiln.js';

const busybox = path.join(testCache(), 'busybox-rootfs.tar');
let tmp: string;

const at = (name: string) => {
  const root = path.join(tmp, name);
  const k = (args: string[]) => kilnOk(['--backend', 'local', ...args], { root });
  const none = async () => (await k(['images'])).stdout.split('\n').filter((l) => /^<none>\s+<none>\s/.test(l));
  const layers = () => (existsSync(path.join(root, 'layers')) ? readdirSync(path.join(root, 'layers')).filter((n) => /^[a-f0-9]{64}$/.test(n)) : []);
  const records = () => (existsSync(path.join(root, 'buildcache', 'steps')) ? readdirSync(path.join(root, 'buildcache', 'steps')) : []);
  return { root, k, none, layers, records };
};

const short = (id: string) => id.slice(7, 19);

before(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'kiln-prune-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

test('a tag moved to another image keeps the old one as <none>:<none> until image prune, which prints it and the space', async () => {
  const { k, none } = at('retag');
  const a = (await k(['import', busybox, 're/app:1'])).stdout.trim();
  const b = (await k(['import', '-c', 'ENV B=1', busybox, 're/app:1'])).stdout.trim();
  const rows = await none();
  assert.equal(rows.length, 1, 'the old image is dangling');
  assert.ok(rows[0]!.includes(short(a)));
  assert.equal((await k(['images', '-q', 're/app:1'])).stdout.trim(), short(b));
  assert.equal((await k(['images', '-q', '--filter', 'dangling=true'])).stdout, `${short(a)}\n`);
  assert.equal((await k(['images', '-q', '-f', 'dangling=false'])).stdout, `${short(b)}\n`);
  const bad = await kiln(['--backend', 'local', 'images', '--filter', 'dangling=maybe'], { root: path.join(tmp, 'retag') });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^kiln: invalid filter 'dangling=maybe'[^\n]*\n$/);
  // Another name kept it: not dangling.
  await k(['tag', 're/app:1', 're/other:1']);
  await k(['import', '-c', 'ENV C=1', busybox, 're/app:1']);
  assert.equal((await none()).length, 1, 're/other:1 still names the second image');

  const pruned = await k(['image', 'prune', '-f']);
  assert.match(pruned.stdout, new RegExp(`^Deleted Images:\\ndeleted: ${a}\\n\\nTotal reclaimed space: \\d[\\d.]*[k]?B\\n$`));
  assert.deepEqual(await none(), []);
  assert.equal((await k(['image', 'prune', '-f'])).stdout, 'Total reclaimed space: 0B\n');
  // -a: every image no container uses, named or not.
  await k(['create', '--name', 'keeper', '--network', 'none', 're/other:1', 'true']);
  const all = await k(['image', 'prune', '-a', '-f']);
  assert.match(all.stdout, /^Deleted Images:\ndeleted: sha256:[a-f0-9]{64}\n\nTotal reclaimed space: /);
  assert.equal((await k(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout, 're/other:1\n', 'the image a container uses stays');
  const containers = await k(['container', 'prune', '-f']);
  assert.match(containers.stdout, /^Deleted Containers:\n[a-f0-9]{64}\n\nTotal reclaimed space: \d[\d.]*[kMG]?B\n$/);
  assert.equal((await k(['container', 'prune', '-f'])).stdout, 'Total reclaimed space: 0B\n');
  assert.equal((await k(['system', 'check'])).code, 0);
});

test('a rebuilt tag leaves the old image dangling; the build cache keeps its layer until builder prune, system prune --all clears all', async () => {
  const { k, none, layers, records } = at('rebuild');
  await k(['import', busybox, 'rb/base:1']);
  const ctx = path.join(tmp, 'ctx');
  mkdirSync(ctx);
  const build = async (word: string) => {
    writeFileSync(path.join(ctx, 'Dockerfile'), `FROM rb/base:1\nRUN echo ${word} > /word\n`);
    return (await k(['build', '-q', '-t', 'rb/app:1', ctx])).stdout.trim();
  };
  const first = await build('one');
  const second = await build('two');
  assert.notEqual(first, second);
  assert.ok((await none())[0]?.includes(short(first)), 'the first build is <none>:<none>');
  assert.equal(layers().length, 3, 'base, one, two unpacked');

  await k(['image', 'prune', '-f']);
  assert.deepEqual(await none(), []);
  // The build cache still holds the first build's step: rebuilding it is a cache hit with the same ID.
  assert.equal(await build('one'), first);
  assert.ok((await none())[0]?.includes(short(second)));

  // Dangling build cache is what no image uses: the second build's step (its image now pruned).
  await k(['image', 'prune', '-f']);
  const dangling = await k(['builder', 'prune', '-f']);
  assert.match(dangling.stdout, /^Deleted build cache objects:\n[a-f0-9]{64}\n\nTotal reclaimed space: \d[\d.]*[kM]?B\n$/);
  assert.equal(layers().length, 2, "the second build's layer is given back; base and one stay");
  assert.equal((await k(['builder', 'prune', '-f'])).stdout, 'Total reclaimed space: 0B\n');

  const all = await k(['system', 'prune', '--all', '-f']);
  assert.match(all.stdout, /^deleted: sha256:[a-f0-9]{64}\n/m, 'the named images go with --all');
  assert.match(all.stdout, /^Deleted build cache objects:\n([a-f0-9]{64}\n)+\n/m);
  assert.match(all.stdout, /^Total reclaimed space: [\d.]+MB$/m);
  assert.deepEqual(await k(['images', '-q']).then((r) => r.stdout), '');
  assert.deepEqual(layers(), []);
  assert.deepEqual(records(), []);
  assert.deepEqual(readdirSync(path.join(tmp, 'rebuild', 'blobs', 'sha256')), []);
});
