/**
 * RUN beyond the plain form, between a real buildkitd (src/testing/buildkit.ts)
 * and kiln through mode=max caches (local and registry): --mount=type=cache
 * (also with uid, gid and mode), a bind of a context file, of a context
 * directory (read-write) and of both in one RUN, tmpfs, --network=none, a
 * secret as a file and as env, a lone heredoc, a heredoc inside a command and
 * a `#!` heredoc, with a proxy build arg no ARG declares (BuildKit keeps it out
 * of the key) and --add-host (its name in every RUN's key). BuildKit's cache →
 * kiln on a fresh root: no RUN runs (the random IDs each RUN writes are
 * BuildKit's). kiln's cache → buildkitd after `buildctl prune --all`: every
 * step reused, kiln's files.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cachedSteps } from '../../testing/buildctl-steps.js';
import { startBuildkitWithBase, type BuildkitWithBase } from '../../testing/buildkit-base.js';
import { assertBuildkitTookKiln, assertKilnTookBuildkit, buildkitFirst, kilnFrom, kilnThenBuildkit, type BothWaysArgs } from '../../testing/buildkit-both-ways.js';

let fx: BuildkitWithBase | undefined;
let ctx: string;
let bkAll: string;
/** BuildKit's caches: the local directory's, the registry's (--cache-from values). */
let bkCaches: { local: string; registry: string };
/** Both tools' flags: the secret, the proxy build arg, the host. */
let args: BothWaysArgs;

/** WORKDIR and the twelve RUNs. */
const STEPS = 13;
const PROXY = 'no_proxy=a.invalid';
/** Every RUN carries the host's name (not its IP) in BuildKit's key. */
const HOST = ['myhost', '10.1.2.3'];

const dockerfile = (base: string) =>
  [
    `FROM ${base}`,
    'WORKDIR /app',
    'RUN --mount=type=cache,target=/root/.cache cat /proc/sys/kernel/random/uuid > /root/.cache/t && cp /root/.cache/t stamp1',
    'RUN --mount=type=cache,target=/owned,uid=1000,gid=1000,mode=0700 stat -c "%u %a" /owned > owned && cat /proc/sys/kernel/random/uuid >> owned',
    'RUN --mount=type=bind,source=f.txt,target=/m/f.txt cat /m/f.txt > fromBind',
    'RUN --mount=type=bind,source=src,target=/m2/src --mount=type=bind,source=f.txt,target=/m2/f cat /m2/f /m2/src/sub/b.txt > two && cat /proc/sys/kernel/random/uuid >> two',
    'RUN --mount=type=bind,source=src,target=/m/src,rw touch /m/src/new && cat /m/src/a.txt > fromDir && cat /proc/sys/kernel/random/uuid >> fromDir',
    'RUN --mount=type=tmpfs,target=/scratch --network=none cat /proc/sys/kernel/random/uuid > /scratch/x && cat /scratch/x > stamp2',
    'RUN --mount=type=secret,id=tok wc -c < /run/secrets/tok > secretLen && cat /proc/sys/kernel/random/uuid >> secretLen',
    'RUN --mount=type=secret,id=tok,env=TOK echo "${#TOK}" > envLen && cat /proc/sys/kernel/random/uuid >> envLen',
    'RUN <<EOT',
    'cat /proc/sys/kernel/random/uuid > stamp3',
    'EOT',
    'RUN cat <<EOT > doc && cat /proc/sys/kernel/random/uuid >> doc',
    'hi',
    'EOT',
    'RUN <<EOT',
    '#!/bin/sh',
    'grep -c myhost /etc/hosts > script && cat /proc/sys/kernel/random/uuid >> script',
    'EOT',
    'RUN cat stamp1 owned fromBind fromDir stamp2 secretLen envLen stamp3 doc script two > all',
    '',
  ].join('\n');


function writeContext(dir: string, bound: string): void {
  mkdirSync(path.join(dir, 'src', 'sub'), { recursive: true });
  writeFileSync(path.join(dir, 'f.txt'), bound);
  writeFileSync(path.join(dir, 'src', 'a.txt'), 'bound dir\n');
  writeFileSync(path.join(dir, 'src', 'sub', 'b.txt'), 'deep\n');
}

before(async () => {
  fx = await startBuildkitWithBase('kiln-bk-run-hit-');
  ctx = path.join(fx.tmp, 'ctx');
  writeContext(ctx, 'bound file\n');
  writeFileSync(path.join(ctx, 'Dockerfile'), dockerfile(fx.base));
  const secret = path.join(fx.tmp, 'secret');
  writeFileSync(secret, 'sekrit-value');
  args = {
    bk: ['--secret', `id=tok,src=${secret}`, '--opt', `build-arg:${PROXY}`, '--opt', `add-hosts=${HOST.join('=')}`],
    kiln: ['--secret', `id=tok,src=${secret}`, '--build-arg', PROXY, '--add-host', HOST.join(':')],
  };
  const r = await buildkitFirst(fx, ctx, 'run', { ...args, registry: true });
  bkCaches = { local: r.cache, registry: r.registryCache! };
  bkAll = readFileSync(path.join(r.out, 'app', 'all'), 'utf8');
  const id = '[0-9a-f-]{36}';
  assert.match(bkAll, new RegExp(`^${id}\n1000 700\n${id}\nbound file\nbound dir\n${id}\n${id}\n12\n${id}\n12\n${id}\n${id}\nhi\n${id}\n1\n${id}\nbound file\ndeep\n${id}\n$`));
});

after(async () => {
  await fx?.stop();
});

for (const kind of ['local', 'registry'] as const) {
  test(`BuildKit's ${kind} cache → kiln on a fresh root: WORKDIR and the twelve RUNs (cache mounts, one owned, binds, two in one RUN, tmpfs + network none, secrets, heredocs, one with #!; --add-host) CACHED, BuildKit's files`, async () => {
    assertKilnTookBuildkit(await kilnFrom(fx!, ctx, bkCaches[kind], `run-${kind}`, args), STEPS, path.join('app', 'all'), bkAll);
  });
}

test('a changed bound file misses that RUN and what follows; the steps before it hit', async () => {
  const other = path.join(fx!.tmp, 'ctx-changed');
  writeContext(other, 'bound file, changed\n');
  writeFileSync(path.join(other, 'Dockerfile'), readFileSync(path.join(ctx, 'Dockerfile'), 'utf8'));
  const r = await kilnFrom(fx!, other, bkCaches.local, 'run-changed', args);
  assert.equal(cachedSteps(r.stderr), 3, r.stderr);
  assert.equal(readFileSync(path.join(r.out, 'app', 'two'), 'utf8').split('\n')[0], 'bound file, changed', 'the RUN binding f.txt and src ran');
  const all = readFileSync(path.join(r.out, 'app', 'all'), 'utf8').split('\n');
  const bk = bkAll.split('\n');
  assert.deepEqual(all.slice(0, 4), [bk[0], bk[1], bk[2], 'bound file, changed']);
});

test("kiln's export (local and registry, mode=max) → buildkitd with no cache of its own: every step reused, kiln's files", async () => {
  assertBuildkitTookKiln(await kilnThenBuildkit(fx!, ctx, 'run', { ...args, registry: true }), STEPS, path.join('app', 'all'), bkAll);
});
