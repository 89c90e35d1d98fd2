/**
 * RUN --network=host, --security=insecure and --mount=type=ssh between a real
 * buildkitd that grants the entitlements (--allow-insecure-entitlement
 * network.host and security.insecure; buildctl --allow) with an ssh-agent
 * (Debian's openssh-client) forwarded to both tools, through mode=max local
 * caches, both ways: every step CACHED, the other tool's files.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBuildkitWithBase, type BuildkitWithBase } from '../../testing/buildkit-base.js';
import { assertBuildkitTookKiln, assertKilnTookBuildkit, buildkitFirst, kilnFrom, kilnThenBuildkit, writeContext, type BothWaysArgs } from '../../testing/buildkit-both-ways.js';

let fx: BuildkitWithBase | undefined;
let agent: ChildProcess | undefined;
let ctx: string;
let bkAll: string;
let bkCache: string;
let args: BothWaysArgs;

/** The three RUNs with entitlements or the agent, and the last RUN. */
const STEPS = 4;
const UUID = 'cat /proc/sys/kernel/random/uuid';

const dockerfile = (base: string) =>
  [
    `FROM ${base}`,
    `RUN --network=host ${UUID} > /host`,
    `RUN --security=insecure ${UUID} > /insecure`,
    `RUN --mount=type=ssh test -S "$SSH_AUTH_SOCK" && echo "agent at $SSH_AUTH_SOCK" > /ssh && ${UUID} >> /ssh`,
    'RUN cat /host /insecure /ssh > /all',
    '',
  ].join('\n');

before(async () => {
  fx = await startBuildkitWithBase('kiln-bk-run-entitled-', { entitlements: ['network.host', 'security.insecure'] });
  const sock = path.join(fx.tmp, 'agent.sock');
  agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
  for (let i = 0; !existsSync(sock); i++) {
    if (i > 100 || agent.exitCode !== null) throw new Error(`ssh-agent did not make ${sock}`);
    await sleep(50);
  }
  args = { bk: ['--allow', 'network.host', '--allow', 'security.insecure', '--ssh', `default=${sock}`], kiln: ['--ssh', `default=${sock}`] };
  ctx = writeContext(fx, { Dockerfile: dockerfile(fx.base) });
  const r = await buildkitFirst(fx, ctx, 'entitled', args);
  bkCache = r.cache;
  bkAll = readFileSync(path.join(r.out, 'all'), 'utf8');
  const id = '[0-9a-f-]{36}';
  assert.match(bkAll, new RegExp(`^${id}\n${id}\nagent at /run/buildkit/ssh_agent.0\n${id}\n$`));
});

after(async () => {
  agent?.kill();
  await fx?.stop();
});

test("BuildKit's cache → kiln on a fresh root: RUN --network=host, --security=insecure and with the ssh agent CACHED, BuildKit's files", async () => {
  assertKilnTookBuildkit(await kilnFrom(fx!, ctx, bkCache, 'entitled', args), STEPS, path.join('all'), bkAll);
});

test("kiln's export → buildkitd (entitled, with the agent) with no cache of its own: every step reused, kiln's files", async () => {
  assertBuildkitTookKiln(await kilnThenBuildkit(fx!, ctx, 'entitled', args), STEPS, path.join('all'), bkAll);
});
