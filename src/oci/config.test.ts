import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { applyChanges, chainIds, newConfig } from './config.js';

const base = newConfig({ os: 'linux', architecture: 'arm', variant: 'v7' }, '2024-01-01T00:00:00Z');

test('newConfig has the platform and no layers', () => {
  assert.deepEqual(base, { architecture: 'arm', os: 'linux', variant: 'v7', created: '2024-01-01T00:00:00Z', config: {}, rootfs: { type: 'layers', diff_ids: [] }, history: [] });
});

test('applies docker import --change instructions', () => {
  const c = applyChanges(base, [
    'CMD ["/bin/sh", "-c", "echo hi"]',
    'ENTRYPOINT /entry.sh --flag',
    'ENV A=1 B="two words"',
    'ENV C three words',
    'ENV A=override',
    'EXPOSE 80 443/udp 8000-8001',
    'LABEL org.x="a b" y=z',
    'USER 1000:1000',
    'WORKDIR /app',
    'WORKDIR sub',
    'VOLUME ["/data", "/cache"]',
    'VOLUME /logs',
    'STOPSIGNAL SIGTERM',
    'ONBUILD RUN make',
  ]).config!;
  assert.deepEqual(c.Cmd, ['/bin/sh', '-c', 'echo hi']);
  assert.deepEqual(c.Entrypoint, ['/bin/sh', '-c', '/entry.sh --flag']);
  assert.deepEqual(c.Env, ['A=override', 'B=two words', 'C=three words']);
  assert.deepEqual(Object.keys(c.ExposedPorts!), ['80/tcp', '443/udp', '8000/tcp', '8001/tcp']);
  assert.deepEqual(c.Labels, { 'org.x': 'a b', y: 'z' });
  assert.equal(c.User, '1000:1000');
  assert.equal(c.WorkingDir, '/app/sub');
  assert.deepEqual(Object.keys(c.Volumes!), ['/data', '/cache', '/logs']);
  assert.equal(c.StopSignal, 'SIGTERM');
  assert.deepEqual(c.OnBuild, ['RUN make']);
  assert.deepEqual(base.config, {}, 'the input config is not modified');
  assert.deepEqual(applyChanges(base, ['cmd echo x']).config!.Cmd, ['/bin/sh', '-c', 'echo x']);
});

test('rejects bad --change with the instruction named', () => {
  assert.throws(() => applyChanges(base, ['FROM x']), /--change "FROM x": FROM is not supported/);
  assert.throws(() => applyChanges(base, ['EXPOSE http']), /invalid port "http"/);
  assert.throws(() => applyChanges(base, ['ENV']), /ENV needs an argument/);
  assert.throws(() => applyChanges(base, ['LABEL novalue']), /"novalue" is not KEY=VALUE/);
  assert.throws(() => applyChanges(base, ['ONBUILD ONBUILD RUN x']), /not allowed as an ONBUILD trigger/);
});

test('chainIds follow the OCI formula (checked with sha256sum)', () => {
  const a = 'sha256:' + 'a'.repeat(64);
  const b = 'sha256:' + 'b'.repeat(64);
  const c = 'sha256:' + 'c'.repeat(64);
  const sum = (s: string): string => 'sha256:' + execFileSync('sha256sum', { input: s }).toString().split(' ')[0];
  const ab = sum(`${a} ${b}`);
  assert.deepEqual(chainIds([a, b, c]), [a, ab, sum(`${ab} ${c}`)]);
  assert.deepEqual(chainIds([]), []);
});
