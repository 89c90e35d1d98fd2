/**
 * Registry credentials through the agent: the agent has none of its own for
 * the registry; the client's (from `kiln login`, in its Docker config) are
 * forwarded for the registry the reference names, so push and pull work, and
 * neither the agent's log nor its config ever holds the password.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { startAgent, type TestAgent } from '../../testing/agent.js';
import { kiln, kilnOk, testCache } from '../../testing/kiln.js';
import { startRegistry, type TestRegistry } from '../../testing/registry.js';
import { removeDir, tempDir } from '../../testing/tempdir.js';

let agent: TestAgent;
let registry: TestRegistry;
let dir: string;
const password = `pw-${randomBytes(6).toString('hex')}`;

before(async () => {
  dir = await tempDir('kiln-agent-creds-');
  [agent, registry] = await Promise.all([
    startAgent({ env: { DOCKER_CONFIG: path.join(dir, 'agent-docker'), HOME: path.join(dir, 'agent-home') } }),
    startRegistry({ auth: 'htpasswd', users: { carol: password } }),
  ]);
});
after(async () => {
  await agent?.stop();
  await registry?.stop();
  await removeDir(dir);
});

test("the client's login is forwarded for the registry a push or pull names, and never logged", async () => {
  const env = { ...agent.clientEnv, DOCKER_CONFIG: path.join(dir, 'client-docker'), HOME: path.join(dir, 'client-home') };
  const opts = { root: path.join(dir, 'client'), env };
  const ref = `${registry.host}/creds/busybox:1`;
  await kilnOk(['import', path.join(testCache(), 'busybox-rootfs.tar'), ref], opts);

  const denied = await kiln(['push', ref], opts);
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /^kiln: .*(unauthorized|authentication required|credentials)/i);
  assert.equal(denied.stderr.split('\n').length, 2, denied.stderr);

  await kilnOk(['login', '-u', 'carol', '--password-stdin', registry.host], { ...opts, input: `${password}\n` });
  const pushed = await kilnOk(['push', ref], opts);
  assert.match(pushed.stdout, /digest: sha256:[a-f0-9]{64}/);
  await kilnOk(['rmi', ref], opts);
  const pulled = await kilnOk(['pull', '-q', ref], opts);
  assert.equal(pulled.stdout, `${ref}\n`);

  const log = await agent.log();
  assert.match(log, /Push 127\.0\.0\.1:\d+\/creds\/busybox:1: ok/);
  assert.ok(!log.includes(password), 'the agent logged the password');
  await assert.rejects(access(path.join(dir, 'agent-docker', 'config.json')), { code: 'ENOENT' });
});
