/**
 * `RUN --mount=type=ssh` with `--ssh ID=SOCKET`: the agent socket itself (same
 * inode) is at the target with SSH_AUTH_SOCK pointing at it, and nothing of it
 * reaches the image; without --ssh a required mount is one line.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { buildFixture, type BuildFixture } from './test-support.js';

let fx: BuildFixture;
let agent: Server;
let socket: string;

before(async () => {
  fx = await buildFixture('kiln-build-ssh-');
  socket = path.join(fx.tmp, 'agent.sock');
  // Stands in for ssh-agent: kiln forwards the socket and never speaks to it.
  agent = createServer((c) => c.end());
  await new Promise<void>((resolve) => agent.listen(socket, resolve));
});
after(async () => {
  await new Promise((resolve) => agent?.close(resolve));
  await fx?.cleanup();
});

test('the agent socket is bound at the default target with SSH_AUTH_SOCK set, and stays out of the image', async () => {
  const ctx = fx.context({
    Dockerfile: 'FROM busybox\nRUN --mount=type=ssh test -S "$SSH_AUTH_SOCK" && echo "$SSH_AUTH_SOCK" > /sock-path && stat -c %i "$SSH_AUTH_SOCK" > /sock-inode\n',
  });
  const out = path.join(fx.tmp, 'out');
  await fx.buildOk(['-q', '--ssh', `default=${socket}`, '-o', `type=local,dest=${out}`, ctx]);
  assert.equal(readFileSync(path.join(out, 'sock-path'), 'utf8'), '/run/buildkit/ssh_agent.0\n');
  assert.equal(readFileSync(path.join(out, 'sock-inode'), 'utf8').trim(), String(statSync(socket).ino));
  assert.ok(!existsSync(path.join(out, 'run', 'buildkit', 'ssh_agent.0')), 'the socket is not part of the image');
  await fx.assertNoLeftovers();
});

test('a required ssh mount without --ssh, and --ssh naming something that is not a socket: one line each', async () => {
  const ctx = fx.context({ Dockerfile: 'FROM busybox\nRUN --mount=type=ssh,id=deploy,required=true true\n' });
  const missing = await fx.build(['-q', ctx]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr.trim(), /^kiln: .*ssh agent "deploy" is required but was not given.*--ssh deploy=/);
  assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);

  const notSocket = await fx.build(['-q', '--ssh', `deploy=${path.join(ctx, 'Dockerfile')}`, ctx]);
  assert.equal(notSocket.code, 1);
  assert.match(notSocket.stderr, /is not a socket; kiln forwards ssh-agent sockets, not key files/);
  await fx.assertNoLeftovers();
});
