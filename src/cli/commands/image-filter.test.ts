import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ImageSummary } from '../../engine/engine.js';
import { filterImages, needsLabels } from './image-filter.js';

const img = (hex: string, created: string, repoTags: string[]): ImageSummary => ({ id: `sha256:${hex.repeat(64 / hex.length)}`, repoTags, repoDigests: [], manifestDigest: 'sha256:' + '0'.repeat(64), created, size: 1 });
const old = img('a', '2026-01-01T00:00:00Z', ['docker.io/library/busybox:1.36', 'docker.io/library/busybox:latest']);
const mid = img('b', '2026-02-01T00:00:00Z', ['registry.local:5000/team/app:dev']);
const none = img('c', '2026-03-01T00:00:00Z', []);
const all = [old, mid, none];
const ids = (l: ImageSummary[]) => l.map((i) => i.id.slice(7, 8));

test('reference= globs the familiar name or name:tag (* and ? stop at /) and keeps only the matching names', () => {
  assert.deepEqual(filterImages(all, ['reference=busybox']).map((i) => i.repoTags), [['docker.io/library/busybox:1.36', 'docker.io/library/busybox:latest']]);
  assert.deepEqual(filterImages(all, ['reference=busybox:1.*']).map((i) => i.repoTags), [['docker.io/library/busybox:1.36']]);
  assert.deepEqual(ids(filterImages(all, ['reference=*/team/*'])), ['b']);
  assert.deepEqual(ids(filterImages(all, ['reference=team/*'])), []); // anchored at the start
  assert.deepEqual(ids(filterImages(all, ['reference=*'])), ['a']); // * does not cross a /
  assert.deepEqual(ids(filterImages(all, ['reference=registry.local:5000/*/app'])), ['b']);
  assert.deepEqual(ids(filterImages(all, ['reference=busybox', 'reference=registry.local:5000/team/app:dev'])), ['a', 'b']);
});

test('before= and since= compare with that image\'s creation; dangling=; different keys must all hold', () => {
  assert.deepEqual(ids(filterImages(all, ['before=registry.local:5000/team/app:dev'])), ['a']);
  assert.deepEqual(ids(filterImages(all, ['since=busybox'])), ['b', 'c']);
  assert.deepEqual(ids(filterImages(all, ['since=aaaaaaaaaaaa', 'dangling=false'])), ['b']);
  assert.deepEqual(ids(filterImages(all, ['dangling=true'])), ['c']);
});

test('label=KEY and label=KEY=VALUE match the config\'s labels; several labels must all hold (docker\'s rule); label-free images never match', () => {
  const labels = new Map<string, Record<string, string>>([
    [old.id, { 'org.opencontainers.image.version': '1.36', tier: 'base' }],
    [mid.id, { tier: 'app', team: 'x' }],
  ]);
  assert.deepEqual(ids(filterImages(all, ['label=tier'], labels)), ['a', 'b']);
  assert.deepEqual(ids(filterImages(all, ['label=tier=app'], labels)), ['b']);
  assert.deepEqual(ids(filterImages(all, ['label=tier', 'label=team=x'], labels)), ['b']);
  assert.deepEqual(ids(filterImages(all, ['label=tier=base', 'label=team=x'], labels)), []);
  assert.deepEqual(ids(filterImages(all, ['label=tier=', 'dangling=false'], labels)), []);
  assert.deepEqual(ids(filterImages(all, ['label=tier', 'since=busybox'], labels)), ['b']);
  assert.equal(needsLabels(['dangling=true', 'reference=x']), false);
  assert.equal(needsLabels(['label=tier']), true);
});

test('an unknown key, a bad dangling value or an image that is not there is one line', () => {
  assert.throws(() => filterImages(all, ['labels=x']), /invalid filter 'labels'/);
  assert.throws(() => filterImages(all, ['dangling=maybe']), /invalid filter 'dangling=maybe'/);
  assert.throws(() => filterImages(all, ['before=nosuch:1']), /no such image: nosuch:1 \(in --filter before=nosuch:1\)/);
});
