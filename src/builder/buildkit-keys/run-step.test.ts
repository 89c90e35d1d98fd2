/**
 * BuildKit's exec op digests for RUN beyond the plain form, each the value a
 * real buildkitd v0.34.2 computed. Origin: `buildkitd --save-cache-debug`
 * (cache-debug.db keeps each digest's plaintext) and `buildctl build
 * --frontend dockerfile.v0 --secret id=tok,src=FILE --ssh default --allow
 * security.insecure --allow network.host` of the Dockerfile `MEASURED` below
 * (FROM the test registry's busybox, linux/amd64; f.txt = "hello\n" 0644),
 * then of `PROXIED` with `--opt build-arg:HTTP_PROXY=http://proxy.invalid:3128`
 * and `--opt build-arg:no_proxy=a.invalid`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expandInstruction, planBuild, StageScope } from '../../dockerfile/index.js';
import { contentRecord, fileHeader, rootKey, ROOT_SELECTOR, sha256 } from './keys.js';
import { runStepOp, type RunStepContext } from './run-step.js';
import { cacheDirChecksum, dedupePaths } from './run-mounts.js';
import type { BuildkitOp } from './step.js';

const amd64 = { os: 'linux', architecture: 'amd64' };
const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const MEASURED = `FROM busybox
RUN --mount=type=cache,target=/c1 echo c1 > /r1
RUN --mount=type=cache,target=/c2,id=myid,sharing=locked echo c2 > /r2
RUN --mount=type=cache,target=/c3,uid=1000,gid=1000,mode=0700 echo c3 > /r3
RUN --mount=type=tmpfs,target=/t echo t > /r4
RUN --mount=type=secret,id=tok echo s > /r5
RUN --mount=type=secret,id=tok,target=/s2,env=TOK,required=true,mode=0400,uid=1,gid=2 echo s > /r6
RUN --network=none echo n > /r7
RUN --network=host echo h > /r8
RUN --security=insecure echo i > /r9
RUN --mount=type=bind,source=f.txt,target=/m/f.txt cat /m/f.txt > /r10
RUN <<EOT
echo heredoc > /r12
EOT
RUN --mount=type=ssh echo ssh > /r13
`;

// Each RUN's exec op digest (the key of its plaintext in cache-debug.db), in order.
const MEASURED_DIGESTS = [
  'sha256:4e1163178a04cad87aacc6860afb53990caf61d041c9bb1b124cf1c53348d69f', // cache, default id: cacheOpt {"ID":"//c1"}
  'sha256:a9666cc547a3d4cfdb8f6aaf54b33bf3735319a399ddd4c7b70f9603c19588ba', // cache, own id and sharing: cacheOpt {}
  'sha256:6e36a39a42aa0fbc552d2c2822bc0e63f153f459b4e54e57c54dddb7c6428edb', // cache with uid, gid, mode: "input":1
  'sha256:1d2571f3176c99c372e36c62fd6ae0d6131ba2ad1dae1638dda0227a3d18d465', // tmpfs
  'sha256:ae3358d6f24250595fc487527fa959f1cf6d01d7fa081320ed05694e4c00bd11', // secret at /run/secrets/tok, optional, mode 256
  'sha256:39b8694ee79208143e075eb8fc9e8e1427477657fbd89cb6cdd4364d6cf74f4f', // secret with target, env, uid, gid, required
  'sha256:7cbc096b467fad8171347b8cf80c1b42faa1347f7e0481cd2198892f6a466520', // network 2
  'sha256:b67b0063b7b24fc84c17ac886712396d0c2f5ff24bbec62bfebd52087386ee7e', // network 1
  'sha256:1993ac61b849b313fbf310c63b65529fccc83ac9513a6c2fed6af7899bd0f920', // security 1
  'sha256:3657c21b23a3ae1fa4666f264878110c1de85d0614844b64c5a8b9543be1a9fc', // bind of a context file, input 1, readonly
  'sha256:88aa9af4e2a6c6b6494cdea81bbe63fb9c7d1ee12dfe5c381cfc2fcd58bb1bec', // heredoc: ["/bin/sh","-c","echo heredoc > /r12\\n"]
  'sha256:6bba417b8851351e521595e7a1da33ba5a02ae62263f081d257b8856045aa2a3', // ssh: SSHOpt {mode 384, optional}, SSH_AUTH_SOCK in env
];

/** kiln's BuildKit op for each RUN of `text`, taken in the scope the RUN runs in, as kiln's builder feeds the instructions. */
async function runOps(text: string, opts: { buildArgs?: Record<string, string>; contextDir?: string; addHosts?: string[]; fromChain?: RunStepContext['fromChain']; parent?: string } = {}): Promise<(BuildkitOp | undefined)[]> {
  const plan = planBuild(text, { buildArgs: opts.buildArgs ?? {}, platform: amd64, buildPlatform: amd64 });
  const scope = new StageScope(plan, [PATH]);
  const out: (BuildkitOp | undefined)[] = [];
  for (const raw of plan.target.instructions) {
    const inst = expandInstruction(raw, scope.get);
    if (inst.kind === 'arg') scope.declare(inst);
    if (inst.kind === 'env') scope.setEnv(inst);
    if (inst.kind === 'run') out.push(await runStepOp({ platform: amd64, contextDir: opts.contextDir, addHosts: opts.addHosts, fromChain: opts.fromChain, parent: opts.parent }, inst, scope, { Env: [PATH] }));
  }
  return out;
}

test('RUN --mount (cache, cache with uid/gid/mode, tmpfs, secret, bind of a context file, ssh), --network, --security, heredoc: the exec op records buildkitd computed', async () => {
  const ctx = mkdtempSync(path.join(os.tmpdir(), 'kiln-run-step-'));
  try {
    writeFileSync(path.join(ctx, 'f.txt'), 'hello\n', { mode: 0o644 });
    const ops = await runOps(MEASURED, { contextDir: ctx });
    assert.deepEqual(ops.map((o) => o?.record), MEASURED_DIGESTS.map((d) => rootKey(d, 0)));
    assert.deepEqual(ops.map((o) => o?.selector), MEASURED_DIGESTS.map(() => ROOT_SELECTOR));
    // The owned cache mount's second input: the content root record of the empty /cache (mode448 uid1000 gid1000)
    // the frontend's mkdir on scratch made; its checksum and the digest list as the debug db holds them.
    assert.equal(cacheDirChecksum({ uid: 1000, gid: 1000, mode: 0o700 }), 'sha256:aa94049dbb8599a0be66a88e1ce6d80b7a15d819fdf1f35c585d3a5aca9d972d');
    assert.equal(ops[2]?.content, 'sha256:5c830071fae07901ccb9a9d98d288856bd89aa1d833a905d3f5213add0d70b05');
    assert.deepEqual(ops.map((o, i) => (o?.content ? i : -1)).filter((i) => i >= 0), [2, 9]);
    // The bind's second input: the root record of f.txt's content checksum, the same record a COPY f.txt links.
    const bind = ops[9];
    const checksum = sha256(fileHeader({ mode: 0o100644, uid: 0, gid: 0, size: 6 }) + 'hello\n');
    assert.equal(bind?.content, contentRecord([checksum]));
    assert.equal(bind?.content, 'sha256:c24a47b576469b52903dd7e5045a62fee5855b447dee1771d67b829458d2c08e');
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
});

const PROXIED = `FROM busybox
RUN echo p > /p1
ARG HTTP_PROXY
RUN echo p2 > /p2
RUN --mount=type=tmpfs,target=/t,size=64m echo t > /r3
RUN --mount=type=bind,source=d,target=/dd,rw touch /dd/x && cat /dd/a > /r4
RUN --mount=type=secret,id=tok,env=TOK echo > /r5
RUN --mount=type=bind,source=d,target=/d1 --mount=type=cache,target=/a0 --mount=type=secret,id=tok cat /d1/a > /r6
RUN cat <<EOT > /r9
hi
EOT
RUN <<EOT
#!/bin/sh
echo y > /r8
EOT
`;

test('proxy build args stay out of the key unless an ARG declares them; tmpfs size; a read-write bind; a secret as env only; mounts sorted by target, secrets after; a heredoc inside a command', async () => {
  const ctx = mkdtempSync(path.join(os.tmpdir(), 'kiln-run-step-'));
  mkdirSync(path.join(ctx, 'd'));
  writeFileSync(path.join(ctx, 'd', 'a'), 'x\n');
  const digests = [
    'sha256:851ceb3f747710fe51de775547adaf9aaf2072fca8d8b7ee343e5310f0bb9aa2', // env [PATH]: neither proxy arg
    'sha256:6aa35b52491cbbe4ef5f860e61496b486d371a4751b070803ad467d4929b891f', // env [PATH, HTTP_PROXY=…] after ARG HTTP_PROXY
    'sha256:2537427136b476ad09aea6fbada1c3e4c1ee1b25a2b31de52ed73c80d8a0a47e', // TmpfsOpt {"size":67108864}
    'sha256:2465fd88ee972d56f4a04ba076fef3648f267aa4a4f932e2010fd1ae949bd007', // rw bind: output -1, no readonly
    'sha256:b99958e52d0b3b9e28654201c1242eec60b3f975f9135e3c2ea37440536bd55f', // secretenv only, no mount
    'sha256:ecbb26eaad5c202c8ede1f527e3852fe3c29eec6fd8fcb57bc8ab994f29e7548', // /, /a0 (cache), /d1 (bind), then the secret
    'sha256:b97b558b9f8d84d9a4d280d0de51f0fa1925deeb1dd8d448610c50df5a3e272e', // ["/bin/sh","-c","cat <<EOT > /r9\\nhi\\nEOT"]
    'sha256:627b77086c527825e559bbaa67cc0cef1bf85142f2fbc5a3ff900104fbb9d17b', // #! heredoc: ["/bin/sh","-c","/dev/pipes/EOT"], input 1 at /dev/pipes/
  ];
  try {
    const ops = await runOps(PROXIED, { buildArgs: { HTTP_PROXY: 'http://proxy.invalid:3128', no_proxy: 'a.invalid' }, contextDir: ctx });
    assert.deepEqual(ops.map((o) => o?.record), digests.map((d) => rootKey(d, 0)));
    // Both binds of d link the root record of d's content checksum.
    assert.match(ops[3]?.content ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.equal(ops[5]?.content, ops[3]?.content);
    // The #! heredoc's second input: the content of "/" of the mkfile on scratch (dir 0755, EOT 0755, 23 bytes).
    assert.equal(ops[7]?.content, 'sha256:d45445c95bb52c1090dd8a1f58f156c84e8b3467a9520b8564024624ac0bd4fe');
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
});

test('more than one input: each linked in input order (mounts sorted by target), one per distinct state', async () => {
  const ctx = mkdtempSync(path.join(os.tmpdir(), 'kiln-run-step-'));
  try {
    writeFileSync(path.join(ctx, 'f.txt'), 'hello\n');
    symlinkSync('f.txt', path.join(ctx, 'link'));
    const tools = { chain: 'sha256:' + 'a'.repeat(64), root: false };
    const text = `FROM busybox AS tools
FROM busybox
RUN --mount=type=cache,target=/c3,uid=1000 --mount=type=bind,target=/b true
RUN --mount=type=bind,from=tools,source=/opt/v,target=/z/v --mount=type=bind,source=f.txt,target=/m/f --mount=type=bind,from=tools,source=/opt/id,target=/a/id true
RUN --mount=type=bind,source=link,target=/l true
`;
    const ops = await runOps(text, { contextDir: ctx, fromChain: async (f) => (f === 'tools' ? tools : undefined) });
    const owned = contentRecord([cacheDirChecksum({ uid: 1000 })]);
    const file = sha256(fileHeader({ mode: 0o644, uid: 0, gid: 0, size: 6 }) + 'hello\n');
    // /b (the context) before /c3 (the owned cache's mkdir): inputs 1 and 2.
    assert.deepEqual(ops[0]?.inputs?.map((i) => ('content' in i ? 'context-or-cache' : 'from')), ['context-or-cache', 'context-or-cache']);
    assert.equal((ops[0]?.inputs?.[1] as { content: string }).content, owned);
    // /a/id and /z/v are one input (tools), its selector both paths in target order; /m/f the context, input 2.
    assert.deepEqual(ops[1]?.inputs, [{ from: { ...tools, selector: sha256('/opt/id\0/opt/v') } }, { content: contentRecord([file]) }]);
    // A bound symlink is followed: the content is f.txt's.
    assert.equal(ops[2]?.content, contentRecord([file]));
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
});

test('forms BuildKit hashes in ways kiln does not compute give no op (the chain stops)', async () => {
  const ctx = mkdtempSync(path.join(os.tmpdir(), 'kiln-run-step-'));
  try {
    symlinkSync('/etc/passwd', path.join(ctx, 'out'));
    const own = 'sha256:' + 'b'.repeat(64);
    const text = `FROM busybox AS other
FROM busybox AS unnamed
FROM busybox
RUN --mount=type=bind,from=unnamed,target=/o true
RUN --mount=type=cache,from=other,target=/c true
RUN --mount=type=bind,from=other,target=/o true
RUN --mount=type=bind,source=out,target=/o true
`;
    const ops = await runOps(text, { contextDir: ctx, parent: own, fromChain: async (f) => (f === 'other' ? { chain: own, root: false } : undefined) });
    assert.deepEqual(ops, [undefined, undefined, undefined, undefined]);
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
});

test('--add-host: meta.extraHosts holds each name in order, the IP cleared (also with a #! heredoc)', async () => {
  // Origin: the same buildkitd with `--opt add-hosts=myhost=10.1.2.3,other=10.9.9.9`.
  const ops = await runOps('FROM busybox\nRUN echo h > /h1\nRUN <<EOT\n#!/bin/sh\necho y > /r8\nEOT\n', { addHosts: ['myhost:10.1.2.3', 'other:10.9.9.9'] });
  assert.deepEqual(ops.map((o) => o?.record), [
    rootKey('sha256:23eecb3b6a2c1d00ad285c3ed2fa4f1b57e06709894a55817d913852a5a8d300', 0),
    rootKey('sha256:1a183ebe624a6beae3fb1a105fe5504c6a7a29b30f623c10c42072cd6645e3e2', 0),
  ]);
  const other = await runOps('FROM busybox\nRUN echo h > /h1\n', { addHosts: ['myhost:10.0.0.1', 'other:10.0.0.2'] });
  assert.equal(other[0]?.record, ops[0]?.record, 'the IPs are not in the key');
});

test("several binds of the context: one input, its content the checksums of their sources deduplicated (none under another), sorted", async () => {
  // Origin: the same buildkitd, a context of f.txt ("hello\n") and d/a ("x\n"), both 0644, d 0755.
  const ctx = mkdtempSync(path.join(os.tmpdir(), 'kiln-run-step-'));
  try {
    writeFileSync(path.join(ctx, 'f.txt'), 'hello\n');
    mkdirSync(path.join(ctx, 'd'), { mode: 0o755 });
    writeFileSync(path.join(ctx, 'd', 'a'), 'x\n');
    const ops = await runOps(
      'FROM busybox\nRUN --mount=type=bind,source=f.txt,target=/m/f --mount=type=bind,source=d,target=/m/d cat /m/f /m/d/a > /two\n' +
        'RUN --mount=type=bind,source=d/a,target=/z/a --mount=type=bind,source=d,target=/a/d cat /z/a > /dedup\n',
      { contextDir: ctx },
    );
    assert.deepEqual(ops.map((o) => [o?.record, o?.content]), [
      [rootKey('sha256:cab9cc6ce797d5c766246a4932d0c673c65e522f865a947c940f9ec3b05a4ea2', 0), 'sha256:1875ebfe5aca7c2c0b71183399300536f8a72844cddb148796239a6cabcbeda1'],
      [rootKey('sha256:16f72596c0dccc22e22982fc4ef8459d4a024a01a53f927cbc10d118ac9f8372', 0), 'sha256:677fdba955fa7a76d2848325e797153e735138a9c9775d7302c724429136c6d6'],
    ]);
    assert.deepEqual(dedupePaths(['/d/a', '/d', '/dx', '/d']), ['/d', '/dx']);
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
});
