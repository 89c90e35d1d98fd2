/**
 * BuildKit's keys for the file-op forms of copy-action.ts and copy-chain.ts (ADD,
 * owners, a .dockerignore) and scratch-chain.ts, each value as a real buildkitd v0.34.2 computed it.
 * Origin: `buildkitd --save-cache-debug` (cache-debug.db: the plaintext behind
 * each digest) and `buildctl build --frontend dockerfile.v0 --export-cache
 * type=local,mode=max` of, on the busybox base of keys.test.ts:
 *   ENV E=1 / LABEL l=v / USER nobody / WORKDIR /app / RUN echo hi > /tmp/y /
 *   USER 1000:1000 / WORKDIR /b / USER root / COPY src/ ./src/ / ADD f.txt ./ /
 *   ADD a.tar /t/ / ADD --chmod=600 f.txt /c/ / ADD --chown=1:2 f.txt /o/
 * with a .dockerignore `src/sub` + `**\/*.log` (context below, root-owned,
 * files 0644, directories 0755); of `FROM scratch / COPY f.txt / / WORKDIR /x /
 * COPY f.txt ./`; of `FROM scratch / WORKDIR /w`; and, on the busybox base, of
 * `ADD src/ /s/` / `ADD --chown=nobody f.txt /n/` (src/a.txt "aaa\n",
 * src/sub/b.txt "bbb\n", no .dockerignore); and of `FROM scratch / COPY src/ /s/`
 * under a .dockerignore with `!` exceptions (the last test's context).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildInstruction, parseDockerfile, parseIgnore, type CopyInstruction } from '../../dockerfile/index.js';
import { chainName, execDigest, rootKey } from './keys.js';
import { chownOf, copyOpDigest } from './copy-action.js';
import { copyOp } from './copy-chain.js';
import { mkdirOpDigest, SCRATCH_CHAIN, workdirOpAs } from './scratch-chain.js';
import { opChain } from './step.js';
import { treeChecksum } from './tree-checksum.js';

const copy = (line: string) => buildInstruction(parseDockerfile(line).nodes[0]!) as CopyInstruction;
const F_TXT = 'sha256:c24a47b576469b52903dd7e5045a62fee5855b447dee1771d67b829458d2c08e'; // content record of f.txt ("hello\n", 0644)

function context(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-bk-fileop-'));
  for (const d of ['src/sub', 'src/keep']) mkdirSync(path.join(dir, d), { recursive: true });
  const files: [string, string][] = [['f.txt', 'hello\n'], ['src/a.txt', 'aaa\n'], ['src/x.log', 'x\n'], ['src/sub/b.txt', 'bbb\n'], ['src/keep/k.txt', 'k\n']];
  for (const [f, text] of files) {
    writeFileSync(path.join(dir, f), text);
    chmodSync(path.join(dir, f), 0o644);
  }
  for (const d of ['', 'src', 'src/sub', 'src/keep']) chmodSync(path.join(dir, d), 0o755);
  return dir;
}

test('llb.WithUser owners: by name, by id, root, user:group; none for what llb would read otherwise', () => {
  assert.deepEqual(chownOf('nobody'), { user: { User: { byName: { name: 'nobody' } } } });
  assert.deepEqual(chownOf('1000:1000'), { user: { User: { byId: 1000 } }, group: { User: { byId: 1000 } } });
  assert.deepEqual(chownOf('root:0'), { user: { User: {} }, group: { User: {} } });
  assert.equal(chownOf('-1'), undefined);
  assert.equal(chownOf('a:'), undefined);
});

test('WORKDIR under USER: the mkdir with its owner (by name, by id), its record on the state before (no selector)', () => {
  assert.equal(mkdirOpDigest('/app', chownOf('nobody'), false), 'sha256:63c8e17addff39e1249c6b14307c56b9b4a9e47c266cb4d4f078efa9278e4775');
  assert.equal(rootKey(mkdirOpDigest('/app', chownOf('nobody'), false), 0), 'sha256:8db556458e73b2c12ecf2b561c7350b2aa5b3ba34cffcc7bc0a623bb0ea05d62');
  assert.equal(workdirOpAs('/b', '1000:1000', false)?.op?.record, 'sha256:b4055f04abb4cb7a3425aca5b3cfcd6285bf7ca5c99b1ab022ce89c534c2c5a2');
  assert.equal(mkdirOpDigest('/b', chownOf('1000:1000'), false), 'sha256:06cf12d2cda7fa259ee3ca32aa1483251f3a28c5296f890e9cc183ad14876a65');
  // USER, ENV and LABEL are no ops: the RUN after them holds E=1 in its env and "nobody" as its user, nothing else.
  const run = execDigest({ args: ['/bin/sh', '-c', 'echo hi > /tmp/y'], env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'E=1'], cwd: '/app', user: 'nobody' }, { os: 'linux', architecture: 'amd64' });
  assert.equal(run, 'sha256:ec6746169242587ead4719c7ee3c1d97464ee9b1e7dbfc0e9cabf2c3df2c9db4');
  // A name on scratch (BuildKit rejects it), or "/" (no op).
  assert.equal(workdirOpAs('/w', 'nobody', true), undefined);
  assert.deepEqual(workdirOpAs('/', 'nobody', false), {});
});

test('ADD of a local file, with --chmod, with --chown; COPY of a directory under a .dockerignore: BuildKit records', async () => {
  const dir = context();
  try {
    const ignore = parseIgnore('src/sub\n**/*.log\n');
    assert.deepEqual(await copyOp(copy('ADD f.txt ./'), dir, '/b'), { record: 'sha256:72265817048436cb6353cac2970a4c78f15364ec57cb024e9dc08f656c406f30', content: F_TXT });
    assert.equal(copyOpDigest({ src: 'f.txt', dest: '/b/', unpack: true }, false), 'sha256:b595218a68f8a2982fb2f2ac570a97fb54990d950aa2bd92e0ae35ac01796634');
    assert.equal((await copyOp(copy('ADD --chmod=600 f.txt /c/'), dir, '/b'))?.record, 'sha256:bc2dc43057100a1f673ac2c499b23272bf5b222b7785eac9bf9cb67b68c09b92');
    assert.equal((await copyOp(copy('ADD --chown=1:2 f.txt /o/'), dir, '/b'))?.record, 'sha256:281e0db6ece0955a9af01b1e476e487bff9f190f0912c94058ea73d7764267da');
    // ADD of an archive: the same action (BuildKit unpacks it in the op), a.tar's bytes in the content record.
    assert.equal(rootKey(copyOpDigest({ src: 'a.tar', dest: '/t/', unpack: true }, false), 0), 'sha256:7bab2f8fcea85bd3518794935bee1c464d440614cba4048d6d24b1236d43b3f2');
    // The directory as the client sent it: src/a.txt and src/keep/k.txt, not src/sub nor src/x.log.
    assert.equal(await treeChecksum(path.join(dir, 'src'), false, { rel: 'src', excludes: (r) => ignore.excludes(r) }), 'sha256:6936a3a55c3dee47075dac14454076cfe3b2b817997459ddf88e058f25736407');
    assert.deepEqual(await copyOp(copy('COPY src/ ./src/'), dir, '/b', { ignore }), {
      record: 'sha256:88f8a6d94ee88f9a4f5f38c74d411af428ba15e0e4f1f0233a8c7d3c1346896e',
      content: 'sha256:255702812fb0a6219cc4ff0fd20b51ee8bb12041b792975cf757e49ae986e12f',
    });
    // A symbolic --chmod as COPY's (`modeStr`; both ways in buildkit-last-forms-hit.test.ts), the same key but for unpacking.
    const sym = await copyOp(copy('ADD --chmod=u+x f.txt /'), dir, '/');
    assert.equal(sym?.record, rootKey(copyOpDigest({ src: 'f.txt', dest: '/', unpack: true, chmod: { modeStr: 'u+x' } }, false), 0));
    // Not named: an excluded source, a URL.
    assert.equal(await copyOp(copy('COPY src/x.log /'), dir, '/', { ignore }), undefined);
    assert.equal(await copyOp(copy('ADD http://127.0.0.1:1/f.txt /'), dir, '/'), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('FROM scratch: the first file op carries its indexes and links no state before; the ops after it are as on an image', async () => {
  const dir = context();
  try {
    const first = await copyOp(copy('COPY f.txt /'), dir, '/', { onScratch: true });
    assert.deepEqual(first, { record: 'sha256:7784e7c2ef6315d1e0c64d59cb63eddd1d69174a26117b74ade16b5c2f37f7df', content: F_TXT });
    assert.equal(copyOpDigest({ src: 'f.txt', dest: '/' }, true), 'sha256:15d417b801b2a8253871943170f9c5ca002fda6f7d51c7fd8bdb14bd397ed51f');
    // Its chain: the record linked from its content alone (BuildKit's config: inputs [[{link: content}]]).
    const c1 = opChain(SCRATCH_CHAIN, first!);
    assert.equal(c1, chainName(first!.record, [{ chain: F_TXT }]));
    const wd = workdirOpAs('/x', '', false)!.op!;
    assert.equal(wd.record, 'sha256:de6025a72f6b4cb3e925e92f8f3305ce5fb1d33f3d092407f4b3276b378bb86a');
    const next = await copyOp(copy('COPY f.txt ./'), dir, '/x', {});
    assert.equal(next?.record, 'sha256:6f3e0a524bc51f8043f94f1c740962664c17022749305aa1a8e9a04beb3394d5');
    // WORKDIR as a stage's first op: a mkdir with indexes [[-1,-1,0]], a root record.
    assert.equal(mkdirOpDigest('/w', undefined, true), 'sha256:63c55b71ee378e67c45f9fadfcbe595769a77df886ae8378db01c426fb3022f2');
    const w = workdirOpAs('/w', '', true)!.op!;
    assert.deepEqual(w, { record: 'sha256:9585ca0fc87096d919ecf6e19cc9a6d34ab8642cd0e6355c7d7f285fe57d6f9f', noParent: true });
    assert.equal(opChain(SCRATCH_CHAIN, w), w.record);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ADD of a context directory, and ADD --chown=<name>: BuildKit records (the owner by name, no selector)', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-bk-adddir-'));
  try {
    mkdirSync(path.join(dir, 'src', 'sub'), { recursive: true });
    writeFileSync(path.join(dir, 'f.txt'), 'hello\n');
    writeFileSync(path.join(dir, 'src', 'a.txt'), 'aaa\n');
    writeFileSync(path.join(dir, 'src', 'sub', 'b.txt'), 'bbb\n');
    for (const f of ['f.txt', 'src/a.txt', 'src/sub/b.txt']) chmodSync(path.join(dir, f), 0o644);
    for (const d of ['src', 'src/sub']) chmodSync(path.join(dir, d), 0o755);
    assert.deepEqual(await copyOp(copy('ADD src/ /s/'), dir, '/'), {
      record: 'sha256:a6315e390085aa84ad44c9ee0a9fd12631e368e98c9e8dccb95a2f7e22804054',
      content: 'sha256:7c73a8a2a9834fce1e3aac4295786d5984f736cb4501fa3e154e8e6c21c59229',
    });
    assert.deepEqual(await copyOp(copy('ADD --chown=nobody f.txt /n/'), dir, '/'), { record: 'sha256:ce7e5d0bb0fdd774d987a01f7d8a37a876fd89b77fcd289260c6d302f71ef990', content: F_TXT });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a .dockerignore with exceptions: an excluded directory holding a re-included path is sent with its own header and only that path", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-bk-except-'));
  try {
    for (const d of ['src/sub/deep', 'src/other']) mkdirSync(path.join(dir, d), { recursive: true });
    const files: [string, string][] = [['src/a.txt', 'aaa\n'], ['src/x.log', 'x\n'], ['src/sub/b.txt', 'bbb\n'], ['src/sub/c.txt', 'ccc\n'], ['src/other/d.txt', 'ddd\n'], ['src/sub/deep/e.txt', 'eee\n']];
    for (const [f, text] of files) {
      writeFileSync(path.join(dir, f), text);
      chmodSync(path.join(dir, f), 0o644);
    }
    for (const d of ['src', 'src/sub/deep', 'src/other']) chmodSync(path.join(dir, d), 0o755);
    chmodSync(path.join(dir, 'src', 'sub'), 0o700);
    const ignore = parseIgnore('src/sub\n!src/sub/b.txt\n!src/sub/deep/e.txt\nsrc/other\n**/*.log\n');
    // Sent: src/a.txt, src/sub (0700) with b.txt and deep/e.txt; not src/sub/c.txt, src/other, src/x.log.
    assert.equal(await treeChecksum(path.join(dir, 'src'), false, { rel: 'src', excludes: (r) => ignore.excludes(r), exceptions: true }), 'sha256:51fca8835674f4cef0ca7df52766fb0c00979ded1d12b62e76fe6776757f8db6');
    assert.equal((await copyOp(copy('COPY src/ /s/'), dir, '/', { ignore, onScratch: true }))?.content, 'sha256:2e94cc039ea4f172a37ffd395a9327777ced7731a86c4ba50333a72dfee9e8d6');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
