/**
 * `kiln --backend containerd agent` serves containerd's image store: an image
 * imported through the agent is at once in containerd (ctr lists it), and
 * system info names the agent's backend and socket.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startAgent, type TestAgent } from '../../testing/agent.js';
import { startContainerd, type TestContainerd } from '../../testing/containerd.js';
import { kilnOk, testCache } from '../../testing/kiln.js';
import { removeDir, tempDir } from '../../testing/tempdir.js';

let ctd: TestContainerd;
let agent: TestAgent;
let dir: string;

before(async () => {
  dir = await tempDir('kiln-agent-ctd-');
  ctd = await startContainerd();
  agent = await startAgent({ tls: false, globalArgs: ['--backend', 'containerd', '--address', ctd.address] });
});
after(async () => {
  await agent?.stop();
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
