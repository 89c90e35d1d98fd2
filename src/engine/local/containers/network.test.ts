import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { bridgeMembers, containerFixture, IMAGE, until, type ContainerFixture } from '../../../testing/container-fixture.js';

let fx: ContainerFixture;
before(async () => {
  fx = await containerFixture();
});
after(() => fx.cleanup());

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

const HTTPD = 'mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && exec httpd -f -p 80 -h /www';

test('bridge (default): busybox httpd reached from the host through a published port; containers reach each other by IP', async () => {
  const port = await freePort();
  await fx.ok(['run', '-d', '--name', 'web', '--hostname', 'webhost', '-p', `127.0.0.1:${port}:80`, IMAGE, 'sh', '-c', HTTPD]);
  let body = '';
  await until('httpd answers on the published port', async () => {
    try {
      body = await (await fetch(`http://127.0.0.1:${port}/`)).text();
      return true;
    } catch {
      return false;
    }
  });
  assert.equal(body, 'hello from webhost\n');
  assert.match((await fx.ok(['ps'])).stdout, new RegExp(`127\\.0\\.0\\.1:${port}->80/tcp\\s+web`));
  // docker port: every mapping, or the host side of one
  assert.equal((await fx.ok(['port', 'web'])).stdout, `80/tcp -> 127.0.0.1:${port}\n`);
  assert.equal((await fx.ok(['port', 'web', '80/tcp'])).stdout, `127.0.0.1:${port}\n`);
  const unpublished = await fx.k(['port', 'web', '81']);
  assert.equal(unpublished.code, 1);
  assert.equal(unpublished.stderr, "kiln: no public port '81/tcp' published for web (publish it with kiln run -p HOST:81)\n");

  const ip = (JSON.parse((await fx.ok(['inspect', 'web'])).stdout) as { NetworkSettings: { IPAddress: string } }[])[0]!.NetworkSettings.IPAddress;
  assert.ok(ip.startsWith(fx.subnet.split('.').slice(0, 3).join('.') + '.'), `${ip} not in ${fx.subnet}`);
  const peer = await fx.ok(['run', '--rm', IMAGE, 'wget', '-qO-', `http://${ip}/`]);
  assert.equal(peer.stdout, 'hello from webhost\n');

  await fx.ok(['rm', '-f', 'web']);
  assert.deepEqual(bridgeMembers(fx.bridge), []);
  await assert.rejects(fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) }));
});

test('/etc/hosts, /etc/hostname, resolv.conf per container: --dns, --add-host, the container\'s own address', async () => {
  const r = await fx.ok(['run', '--rm', '--hostname', 'h1', '--dns', '192.0.2.53', '--add-host', 'db:192.0.2.10', IMAGE, 'sh', '-c', 'cat /etc/hostname /etc/resolv.conf; grep -E "db|h1" /etc/hosts; ip -4 -o addr show eth0 | wc -l; ip -o link show lo | grep -c UP']);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines[0], 'h1');
  assert.ok(lines.includes('nameserver 192.0.2.53'));
  assert.ok(!lines.some((l) => /^nameserver (?!192\.0\.2\.53)/.test(l)), 'host nameservers kept');
  assert.ok(lines.includes('192.0.2.10\tdb'));
  assert.ok(lines.some((l) => /^10\.\d+\.\d+\.\d+\th1$/.test(l)), r.stdout);
  assert.deepEqual(lines.slice(-2), ['1', '1']);
});

test('--network none has only loopback; --network host shares the host stack', async () => {
  const none = await fx.ok(['run', '--rm', '--network', 'none', IMAGE, 'sh', '-c', 'ls /sys/class/net | sort | tr "\\n" " "']);
  assert.equal(none.stdout, 'lo ');
  const host = await fx.ok(['run', '--rm', '--network', 'host', IMAGE, 'sh', '-c', 'ls /sys/class/net | wc -l']);
  assert.ok(Number(host.stdout.trim()) > 1, host.stdout);
});
