/** The remote build's start message: `--platform` travels to the agent, checked as any other field. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBuildStart, remoteOptions } from './build-start.js';

const start = (options: unknown) =>
  JSON.stringify({ contextId: 'ctx-1', dockerfileText: 'FROM scratch\n', dockerfileName: 'Dockerfile', secretIds: [], manifestDigest: `sha256:${'a'.repeat(64)}`, options });

test('--platform reaches the agent as BuildKit names it; a malformed or unknown one is refused in one line', () => {
  const sent = remoteOptions({ tags: ['x'], platforms: [{ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'arm64' }] });
  const got = parseBuildStart(start(sent));
  assert.deepEqual(got.options.platforms, [{ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'arm64' }]);
  assert.deepEqual(parseBuildStart(start({ platforms: [{ os: 'linux', architecture: 'arm', variant: 'v7' }] })).options.platforms, [{ os: 'linux', architecture: 'arm', variant: 'v7' }]);
  assert.throws(() => parseBuildStart(start({ platforms: ['linux/arm64'] })), /remote build request refused: option platforms has the wrong type/);
  assert.throws(() => parseBuildStart(start({ platforms: [{ os: 'linux', architecture: 'sparc99' }] })), /unknown architecture sparc99/);
});

test('eventBatches: the agent takes it only as true; a start without it (an older client) gets none', () => {
  const withFlag = (v: unknown) => JSON.stringify({ ...JSON.parse(start({})), eventBatches: v });
  assert.equal(parseBuildStart(withFlag(true)).eventBatches, true);
  assert.equal('eventBatches' in parseBuildStart(withFlag('yes')), false);
  assert.equal('eventBatches' in parseBuildStart(start({})), false);
});
