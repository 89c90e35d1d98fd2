import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grpcTarget, parseAddress } from './address.js';

test('agent addresses: tcp with a default port, IPv6, unix paths; the rest refused in one line', () => {
  assert.deepEqual(parseAddress('tcp://node1'), { kind: 'tcp', host: 'node1', port: 2376, url: 'tcp://node1:2376' });
  assert.deepEqual(parseAddress('tcp://10.0.0.5:1234'), { kind: 'tcp', host: '10.0.0.5', port: 1234, url: 'tcp://10.0.0.5:1234' });
  const v6 = parseAddress('tcp://[::1]:99');
  assert.deepEqual(v6, { kind: 'tcp', host: '::1', port: 99, url: 'tcp://[::1]:99' });
  assert.equal(grpcTarget(v6), 'ipv6:[::1]:99');
  assert.equal(grpcTarget(parseAddress('tcp://10.0.0.5:1234')), 'ipv4:10.0.0.5:1234', 'an IP address skips the DNS resolver');
  assert.equal(grpcTarget(parseAddress('tcp://node1')), 'node1:2376');
  assert.deepEqual(parseAddress('unix:///run/kiln//agent.sock'), { kind: 'unix', path: '/run/kiln/agent.sock', url: 'unix:///run/kiln/agent.sock' });
  for (const [bad, re] of [
    ['unix://run/agent.sock', /--host unix:\/\/run\/agent\.sock: a unix socket needs an absolute path/],
    ['http://node1:2376', /--host http:\/\/node1:2376: unknown address/],
    ['node1:2376', /unknown address/],
    ['tcp://node1:99999', /not HOST:PORT/],
    ['tcp://a:b:c', /not HOST:PORT/],
  ] as const) {
    assert.throws(() => parseAddress(bad), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT' && re.test(e.message), bad);
  }
});
