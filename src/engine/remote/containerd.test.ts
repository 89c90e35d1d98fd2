/**
 * `kiln --backend containerd agent` serves containerd's image store: an image
 * imported through the agent is at once in containerd (ctr lists it), and
 * system info names the agent's backend and socket. Ctrl-C on a pull through
 * it leaves containerd's ingest unlocked: the next pull of the blob works.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startAgent, type TestAgent } from '../../testing/agent.js';
import { startContainerd, type TestContainerd } from '../../testing/containerd.js';
import { kilnBin, kilnOk, testCache } from '../../testing/kiln.js';
import { startSlowProxy, type SlowProxy } from '../../testing/proxy.js';
import { startRegistry, type TestRegistry } from '../../testing/registry.js';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import * as tar from 'tar-stream';
import { removeDir, tempDir } from '../../testing/tempdir.js';

let ctd: TestContainerd;
let registry: TestRegistry;
let proxy: SlowProxy;
let agent: TestAgent;
let dir: string;

before(async () => {
  dir = await tempDir('kiln-agent-ctd-');
  [ctd, registry] = await Promise.all([startContainerd(), startRegistry()]);
  proxy = await startSlowProxy(Number(registry.host.split(':')[1]), 1 << 20);
  agent = await startAgent({ tls: false, globalArgs: ['--backend', 'containerd', '--address', ctd.address] });
});
after(async () => {
  await agent?.stop();
  await proxy?.close();
  await registry?.stop();
  await ctd?.stop();
  await removeDir(dir);
});

test('an agent over containerd: an image imported through it is in containerd', { timeout: 240_000 }, async () => {
  const opts = { root: path.join(dir, 'client'), env: agent.clientEnv };
  const info = JSON.parse((await kilnOk(['system', 'info', '--format', 'json'], opts)).stdout) as { backend: string; agent: { backend: string; root: string; namespace: string } };
  assert.deepEqual([info.backend, info.agent.backend, info.agent.root, info.agent.namespace], ['remote', 'containerd', ctd.address, 'k8s.io']);
  const id = (await kilnOk(['import', path.join(testCache(), 'busybox-rootfs.tar'), 'remote/ctd:1'], opts)).stdout.trim();
  assert.match(id, /^sha256:[a-f0-9]{64}$/);
  assert.ok((await ctd.ctr(['images', 'ls', '-q'])).split('\n').includes('docker.io/remote/ctd:1'));
  const text = (await kilnOk(['system', 'info'], opts)).stdout;
  assert.match(text, new RegExp(`Agent backend: containerd\\nAgent socket: ${ctd.address}\\nAgent namespace: k8s.io\\n`));
});

async function randomRootfs(file: string): Promise<void> {
  const pack = tar.pack();
  const out: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) out.push(c as Buffer);
  })();
  pack.entry({ name: 'random.bin', mode: 0o644 }, randomBytes(6 << 20));
  pack.finalize();
  await done;
  await writeFile(file, Buffer.concat(out));
}

test('Ctrl-C on a pull through an agent over containerd: the next pull of the same image works', { timeout: 240_000 }, async () => {
  const opts = { root: path.join(dir, 'client'), env: agent.clientEnv };
  const file = path.join(dir, 'random.tar');
  await randomRootfs(file);
  const id = (await kilnOk(['import', file, `${registry.host}/ctd-slow:1`], opts)).stdout.trim();
  await kilnOk(['push', `${registry.host}/ctd-slow:1`], opts);
  await kilnOk(['rmi', `${registry.host}/ctd-slow:1`], opts);
  const ref = `${proxy.host}/ctd-slow:1`;
  const child = spawn(process.execPath, [kilnBin(), '--root', opts.root, 'pull', ref], { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let stdout = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (/Downloading/.test(stdout)) resolve();
    });
    void exited.then(() => reject(new Error(`kiln pull ended before downloading:\n${stdout}`)));
  });
  child.kill('SIGINT');
  await exited;
  for (const end = Date.now() + 20_000; !/cancelled by the client/.test(await agent.log()) && Date.now() < end; ) await new Promise((r) => setTimeout(r, 100));
  assert.match(await agent.log(), /Pull 127\.0\.0\.1:\d+\/ctd-slow:1: cancelled by the client/);
  const again = await kilnOk(['pull', '-q', ref], opts);
  assert.equal(again.stdout, `${ref}\n`);
  const info = JSON.parse((await kilnOk(['images', '--format', 'json'], opts)).stdout) as { id?: string; Id?: string; ID?: string }[];
  assert.ok(JSON.stringify(info).includes(id.slice(7, 19)), 'the pulled image is listed');
  assert.ok((await ctd.ctr(['images', 'ls', '-q'])).split('\n').includes(ref));
});
