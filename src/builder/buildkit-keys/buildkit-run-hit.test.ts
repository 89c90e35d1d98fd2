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
import type { TestRegistry } from '../../testing/registry.js';
import type { TestBuildkit } from '../../testing/buildkit.js';
import { buildctlReused, cachedSteps } from '../../testing/buildctl-steps.js';
import { startBuildkitWithBase, type BuildkitWithBase } from '../../testing/buildkit-base.js';
import { kilnOk } from '../../testing/kiln.js';

let reg: TestRegistry;
let bk: TestBuildkit;
let fx: BuildkitWithBase | undefined;
let tmp: string;
let ctx: string;
let secret: string;
let bkAll: string;

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



const bkBuild = (extra: string[]) =>
  bk.buildctl([
    'build', '--progress=plain', '--frontend', 'dockerfile.v0', '--local', `context=${ctx}`, '--local', `dockerfile=${ctx}`,
    '--secret', `id=tok,src=${secret}`, '--opt', `build-arg:${PROXY}`, '--opt', `add-hosts=${HOST.join('=')}`, ...extra,
  ]);

const kilnBuild = (dir: string, root: string, extra: string[]) =>
  kilnOk(['build', '--progress=plain', '--secret', `id=tok,src=${secret}`, '--build-arg', PROXY, '--add-host', HOST.join(':'), ...extra, dir], { root });

function writeContext(dir: string, bound: string): void {
  mkdirSync(path.join(dir, 'src', 'sub'), { recursive: true });
  writeFileSync(path.join(dir, 'f.txt'), bound);
  writeFileSync(path.join(dir, 'src', 'a.txt'), 'bound dir\n');
  writeFileSync(path.join(dir, 'src', 'sub', 'b.txt'), 'deep\n');
}

before(async () => {
  fx = await startBuildkitWithBase('kiln-bk-run-hit-');
  ({ tmp, reg, bk } = fx);
  const base = fx.base;
  ctx = path.join(tmp, 'ctx');
  writeContext(ctx, 'bound file\n');
  writeFileSync(path.join(ctx, 'Dockerfile'), dockerfile(base));
  secret = path.join(tmp, 'secret');
  writeFileSync(secret, 'sekrit-value');
  const out = path.join(tmp, 'bk-out');
  await bkBuild([
    '--export-cache', `type=local,dest=${path.join(tmp, 'bk-cache')},mode=max`,
    '--export-cache', `type=registry,ref=${reg.host}/cache/bk-run:max,mode=max`,
    '--output', `type=local,dest=${out}`,
  ]);
  bkAll = readFileSync(path.join(out, 'app', 'all'), 'utf8');
  const id = '[0-9a-f-]{36}';
  assert.match(bkAll, new RegExp(`^${id}\n1000 700\n${id}\nbound file\nbound dir\n${id}\n${id}\n12\n${id}\n12\n${id}\n${id}\nhi\n${id}\n1\n${id}\nbound file\ndeep\n${id}\n$`));
});

after(async () => {
  await fx?.stop();
});

for (const kind of ['local', 'registry'] as const) {
  test(`BuildKit's ${kind} cache → kiln on a fresh root: WORKDIR and the twelve RUNs (cache mounts, one owned, binds, two in one RUN, tmpfs + network none, secrets, heredocs, one with #!; --add-host) CACHED, BuildKit's files`, async () => {
    const from = kind === 'local' ? `type=local,src=${path.join(tmp, 'bk-cache')}` : `type=registry,ref=${reg.host}/cache/bk-run:max`;
    const dest = path.join(tmp, `kiln-out-${kind}`);
    const r = await kilnBuild(ctx, path.join(tmp, `fresh-${kind}`), ['--cache-from', from, '-o', `type=local,dest=${dest}`]);
    assert.equal(cachedSteps(r.stderr), STEPS, r.stderr);
    assert.equal(readFileSync(path.join(dest, 'app', 'all'), 'utf8'), bkAll, 'the layers are the ones BuildKit made: nothing ran');
  });
}

test('a changed bound file misses that RUN and what follows; the steps before it hit', async () => {
  const other = path.join(tmp, 'ctx-changed');
  writeContext(other, 'bound file, changed\n');
  writeFileSync(path.join(other, 'Dockerfile'), readFileSync(path.join(ctx, 'Dockerfile'), 'utf8'));
  const dest = path.join(tmp, 'kiln-out-changed');
  const r = await kilnBuild(other, path.join(tmp, 'fresh-changed'), ['--cache-from', `type=local,src=${path.join(tmp, 'bk-cache')}`, '-o', `type=local,dest=${dest}`]);
  assert.equal(cachedSteps(r.stderr), 3, r.stderr);
  assert.equal(readFileSync(path.join(dest, 'app', 'two'), 'utf8').split('\n')[0], 'bound file, changed', 'the RUN binding f.txt and src ran');
  const all = readFileSync(path.join(dest, 'app', 'all'), 'utf8').split('\n');
  const bk = bkAll.split('\n');
  assert.deepEqual(all.slice(0, 4), [bk[0], bk[1], bk[2], 'bound file, changed']);
});

test("kiln's export (local and registry, mode=max) → buildkitd with no cache of its own: every step reused, kiln's files", async () => {
  const local = path.join(tmp, 'kiln-cache');
  const dest = path.join(tmp, 'kiln-built');
  await kilnBuild(ctx, path.join(tmp, 'kiln-writes'), ['--cache-to', `type=local,dest=${local},mode=max`, '--cache-to', `type=registry,ref=${reg.host}/cache/kiln-run:max,mode=max`, '-o', `type=local,dest=${dest}`]);
  const kilnAll = readFileSync(path.join(dest, 'app', 'all'), 'utf8');
  assert.notEqual(kilnAll, bkAll, 'kiln ran its steps (no --cache-from)');
  for (const imp of [`type=local,src=${local}`, `type=registry,ref=${reg.host}/cache/kiln-run:max`]) {
    await bk.buildctl(['prune', '--all']);
    const out = path.join(tmp, `bk-from-kiln-${imp.replace(/\W/g, '_')}`);
    const r = await bkBuild(['--import-cache', imp, '--output', `type=local,dest=${out}`]);
    assert.equal(buildctlReused(r.stderr), STEPS, `${imp}: ${r.stderr}`);
    assert.equal(readFileSync(path.join(out, 'app', 'all'), 'utf8'), kilnAll, `${imp}: BuildKit used kiln's layers`);
  }
});
