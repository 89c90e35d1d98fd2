/**
 * The CLI through an agent: `kiln --host unix://…` (and KILN_HOST) runs the
 * image commands on the agent's store, `system info` names the host and the
 * agent's engine, container commands say in one line that the remote backend
 * has none, and a missing agent is one line naming it and what to do.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startAgent, type TestAgent } from '../../testing/agent.js';
import { kiln, kilnOk, testCache } from '../../testing/kiln.js';
import { removeDir, tempDir } from '../../testing/tempdir.js';

let agent: TestAgent;
let dir: string;
let client: string;

before(async () => {
  dir = await tempDir('kiln-agent-cli-');
  client = path.join(dir, 'client');
  agent = await startAgent({ tls: false });
});
after(async () => {
  await agent?.stop();
  await removeDir(dir);
});

describe('kiln --host unix://…', () => {
  test('the socket is mode 0660', async () => {
    const st = await stat(agent.unix!.slice('unix://'.length));
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o660);
  });

  test('import, images, inspect, save/load and rmi run on the agent: the client root stays empty', async () => {
    const env = { KILN_HOST: agent.unix! };
    const imported = await kilnOk(['import', path.join(testCache(), 'busybox-rootfs.tar'), 'remote/busybox:1'], { root: client, env });
    const id = imported.stdout.trim();
    assert.match(id, /^sha256:[a-f0-9]{64}$/);
    const images = await kilnOk(['images', '--format', 'json'], { root: client, env });
    assert.ok(images.stdout.includes('remote/busybox'));
    // The agent's own CLI, on its root, sees the same image.
    assert.equal((JSON.parse((await kilnOk(['inspect', '--type', 'image', 'remote/busybox:1'], { root: agent.root })).stdout) as { Id: string }[])[0]!.Id, id);
    const archive = path.join(dir, 'bb.tar');
    await kilnOk(['save', '-o', archive, 'remote/busybox:1'], { root: client, env });
    await kilnOk(['rmi', 'remote/busybox:1'], { root: client, env });
    assert.equal((await kiln(['inspect', 'remote/busybox:1'], { root: client, env })).code, 1);
    const loaded = await kilnOk(['load', '-i', archive], { root: client, env });
    assert.equal(loaded.stdout, 'Loaded image: remote/busybox:1\n');
    await assert.rejects(stat(path.join(client, 'blobs')), { code: 'ENOENT' });
  });

  test('--host on the command line works the same; system info names the host and the agent engine', async () => {
    const r = await kilnOk(['--host', agent.unix!, 'system', 'info'], { root: client });
    assert.match(r.stdout, new RegExp(`^Backend: remote\\nHost: ${agent.unix!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\nAgent version: \\d+\\.\\d+\\.\\d+\\nAgent backend: local\\nAgent root: ${agent.root}\\n`));
    const json = JSON.parse((await kilnOk(['--host', agent.unix!, 'system', 'info', '--format', 'json'], { root: client })).stdout) as { backend: string; agent: { backend: string; root: string } };
    assert.deepEqual([json.backend, json.agent.backend, json.agent.root], ['remote', 'local', agent.root]);
  });

  test('container commands say the remote backend runs none, in one line', async () => {
    const cases: [string[], string][] = [
      [['run', '--rm', 'remote/busybox:1', 'true'], 'does not run containers'],
      [['ps'], 'does not run containers'],
      [['volume', 'ls'], 'has no volumes'],
    ];
    for (const [args, what] of cases) {
      const r = await kiln(['--host', agent.unix!, ...args], { root: client });
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, new RegExp(`^kiln: the remote backend \\(--host unix://\\S+\\) ${what} \\(run containers on the agent's machine, or drop --host / KILN_HOST\\)\n$`));
    }
  });

  test("system prune through the agent prunes the agent's store (and no local containers)", async () => {
    const r = await kilnOk(['--host', agent.unix!, 'system', 'prune'], { root: client });
    assert.match(r.stdout, /^Total reclaimed space: \d[\d.]*[kMG]?B\n$/);
    assert.match(await agent.log(), /Prune: ok/);
  });

  test("system df, image prune and builder prune through the agent report the agent's store", async () => {
    const df = await kilnOk(['--host', agent.unix!, 'system', 'df', '--format', '{{.Type}}|{{.TotalCount}}'], { root: client });
    const images = Number(/^Images\|(\d+)$/m.exec(df.stdout)?.[1]);
    assert.equal(images, (await kilnOk(['--host', agent.unix!, 'images', '-q', '--no-trunc'], { root: client })).stdout.split('\n').filter(Boolean).length);
    assert.match(df.stdout, /^Containers\|0\nLocal Volumes\|0\nBuild Cache\|\d+\n$/m);
    assert.match((await kilnOk(['--host', agent.unix!, 'image', 'prune', '-f'], { root: client })).stdout, /Total reclaimed space: \d[\d.]*[kMG]?B\n$/);
    assert.match((await kilnOk(['--host', agent.unix!, 'builder', 'prune', '-f'], { root: client })).stdout, /Total reclaimed space: \d[\d.]*[kMG]?B\n$/);
    assert.match(await agent.log(), /DiskUsage: ok/);
  });

  test('--backend remote without --host, and --host with another backend, are refused', async () => {
    const a = await kiln(['--backend', 'remote', 'images'], { root: client, env: { KILN_HOST: '' } });
    assert.equal(a.code, 1);
    assert.match(a.stderr, /^kiln: the remote backend needs the agent's address \(pass --host/);
    const b = await kiln(['--backend', 'local', '--host', agent.unix!, 'images'], { root: client });
    assert.equal(b.code, 1);
    assert.match(b.stderr, /^kiln: --host \(or KILN_HOST\) names a kiln agent, but --backend is local/);
  });

  test('no agent at the address: one line naming it and what to do', async () => {
    const sock = `unix://${path.join(dir, 'none.sock')}`;
    const r = await kiln(['--host', sock, 'images'], { root: client });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `kiln: cannot reach the kiln agent at ${sock} (start it with kiln agent --listen ${sock}, or check --host / KILN_HOST)\n`);
    // a tcp:// agent without certificates: what to pass, in one line
    const t = await kiln(['--host', 'tcp://127.0.0.1:1', 'images'], { root: client, env: { KILN_CERT_PATH: '' } });
    assert.equal(t.code, 1);
    assert.equal(t.stderr, 'kiln: tcp://127.0.0.1:1: a tcp:// agent needs TLS certificates (pass --tlscacert/--tlscert/--tlskey, or set KILN_CERT_PATH to a directory with ca.pem, cert.pem and key.pem)\n');
    // a build's call fails while its context is walked: the same line, not "ended the build without a result"
    const ctx = path.join(dir, 'no-agent-ctx');
    await mkdir(ctx, { recursive: true });
    await writeFile(path.join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY a /a\n');
    await writeFile(path.join(ctx, 'a'), 'a\n');
    const b = await kiln(['--host', sock, 'build', '-t', 'x', ctx], { root: client });
    assert.equal(b.code, 1);
    assert.equal(b.stderr.split('\n').filter((l) => l.startsWith('kiln:')).join('\n'), `kiln: cannot reach the kiln agent at ${sock} (start it with kiln agent --listen ${sock}, or check --host / KILN_HOST)`);
  });

  test('a second agent on the same socket is refused; the first keeps serving', async () => {
    const r = await kiln(['agent', '--listen', agent.unix!], { root: path.join(dir, 'second') });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^kiln: another agent is listening on \S+agent\.sock \(stop it first, or choose another --listen path\)\n$/);
    assert.equal((await kilnOk(['--host', agent.unix!, 'system', 'info', '--format', 'json'], { root: client })).code, 0);
  });
});
