import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventMatcher } from './event-filter.js';
import type { KilnEvent } from './events.js';

const ID = `sha256:${'ab12'.repeat(16)}`;
const ev = (type: KilnEvent['type'], action: string, id: string, attributes: Record<string, string> = {}): KilnEvent => ({ time: '2026-01-01T00:00:00.000Z', type, action, id, attributes });
const tag = ev('image', 'tag', 'docker.io/library/busybox:1', { name: 'docker.io/library/busybox:1' });
const del = ev('image', 'delete', ID, { name: ID });
const build = ev('image', 'build', ID, { name: 'docker.io/library/app:1,registry.test:5000/team/app:2' });
const started = ev('container', 'start', 'c0ffee00', { name: 'web', image: 'docker.io/library/busybox:1' });
const kept = (filters: string[]) => [tag, del, build, started].filter(eventMatcher(filters)).map((e) => `${e.type} ${e.action}`);

test('type= and event= select; values of one key are alternatives, keys must all match', () => {
  assert.deepEqual(kept(['type=image']), ['image tag', 'image delete', 'image build']);
  assert.deepEqual(kept(['event=tag', 'event=start']), ['image tag', 'container start']);
  assert.deepEqual(kept(['type=image', 'event=start']), []);
});

test('image= takes the short name, the name without a tag, an ID or its prefix, and matches containers by their image', () => {
  assert.deepEqual(kept(['image=busybox:1']), ['image tag', 'container start']);
  assert.deepEqual(kept(['image=busybox']), ['image tag', 'container start']);
  assert.deepEqual(kept(['image=busybox:2']), []);
  assert.deepEqual(kept(['image=ab12ab12']), ['image delete', 'image build']);
  assert.deepEqual(kept([`image=${ID}`]), ['image delete', 'image build']);
  assert.deepEqual(kept(['image=registry.test:5000/team/app']), ['image build']);
  assert.deepEqual(kept(['type=image', 'image=busybox']), ['image tag']);
});

test('container= takes an ID prefix or the name; unknown keys are refused, naming the filter', () => {
  assert.deepEqual(kept(['container=c0ff']), ['container start']);
  assert.deepEqual(kept(['container=web']), ['container start']);
  assert.throws(() => eventMatcher(['colour=red']), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT' && e.message.includes('"colour=red"'));
  assert.throws(() => eventMatcher(['type']), /invalid filter "type"/);
});
