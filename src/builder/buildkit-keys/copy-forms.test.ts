/**
 * kiln's ops for the COPY forms beyond a single context path, against the
 * records a real buildkitd v0.34.2 wrote. Origin: `buildkitd --save-cache-debug`
 * (cache-debug.db: each record's "<op digest>@<output>", the op's JSON with
 * its copy actions, the "digest-list", "file-list" and "string-list"
 * plaintexts) and its `--export-cache type=local,mode=max` records, for
 * `buildctl build --frontend dockerfile.v0` of
 *   FROM <busybox> AS other
 *   RUN echo other > /o.txt && echo p > /p.txt
 *   FROM <busybox>
 *   WORKDIR /app
 *   COPY a.txt b.txt /dst/                    COPY --chown=1000 a.txt /c3/
 *   COPY a.txt src /two/                      COPY --chown=nobody a.txt /c4/
 *   COPY b.txt a.txt src/x.txt /three/        COPY --chown=root:root a.txt /r/
 *   COPY *.txt /w/                            COPY --chown=nobody a.txt b.txt /cn/
 *   COPY s* /wd/                              COPY --chmod=0755 a.txt /m1/
 *   COPY src/*.txt /wx/                       COPY --chmod=u+x,g-r a.txt /m2/
 *   COPY --chown=1000:1000 a.txt /c1/         COPY --chown=1000:1000 --chmod=600 a.txt /cm/
 *   COPY --chown=nobody:nogroup a.txt /c2/    COPY --from=other /o.txt /f1/
 *   COPY --from=<busybox> /etc/passwd /f2/    COPY --from=other /o.txt /p.txt /f3/
 * on the context formsContext() makes (root-owned, files 0644, directories 0755).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildInstruction, parseDockerfile, parseIgnore, type CopyInstruction } from '../../dockerfile/index.js';
import { copyOp } from './copy-chain.js';
import { isDefaultIndexes, parseChmodKey, parseOwner } from './copy-action.js';
import { opChain } from './step.js';
import { chainName, contentRecord } from './keys.js';

const copy = (line: string) => buildInstruction(parseDockerfile(line).nodes[0]!) as CopyInstruction;

function formsContext(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-bk-forms-'));
  mkdirSync(path.join(dir, 'src', 'sub'), { recursive: true });
  const files: Record<string, string> = { 'a.txt': 'aaa\n', 'b.txt': 'bbb\n', 'c.md': 'ccc\n', 'src/x.txt': 'x\n', 'src/sub/b.txt': 'sb\n' };
  for (const [f, text] of Object.entries(files)) {
    writeFileSync(path.join(dir, f), text);
    chmodSync(path.join(dir, f), 0o644);
  }
  for (const d of ['', 'src', 'src/sub']) chmodSync(path.join(dir, d), 0o755);
  return dir;
}

const A_TXT = 'sha256:82e823db4af9e25283fd37e08c59e6bbaf184b62509ce0f811697b2ddfbe8d58';

test("several sources: an action each, the checksums in path order, BuildKit's indexes from 3 actions on", async () => {
  const dir = formsContext();
  try {
    assert.deepEqual(await copyOp(copy('COPY a.txt b.txt /dst/'), dir, '/app'), {
      record: 'sha256:74eb334254aec6add5ff50bc553b84c95941cd990853a9580dc14804ae7ff988',
      content: 'sha256:a568e2fa919f0e0bd942ac7641c646e3a88f7c707e97aa33d2c1faf630728af0',
    });
    assert.deepEqual(await copyOp(copy('COPY a.txt src /two/'), dir, '/app'), {
      record: 'sha256:f67023fa18a97c64bc4b26594deffed2b4ab6f5f36013df21fd5aff8ba4b2ea7',
      content: 'sha256:3daa9795de1c1bdf312980f85e2f5a6a891c88dda6f4e5357b9d94c28eab7d87',
    });
    // Three actions: BuildKit writes indexes [[0,1,-1],[2,1,-1],[3,1,0]] (its default test counts actions, not inputs).
    assert.deepEqual(await copyOp(copy('COPY b.txt a.txt src/x.txt /three/'), dir, '/app'), {
      record: 'sha256:70268aa92fdf59f048d91b444c4ea7999a9d4e8ee8c0976b974ba3a9e066afb3',
      content: 'sha256:7b7b74331e98199ce72d81c885939212dcba8901ad7703513be254a11b56cacf',
    });
    assert.equal(isDefaultIndexes([[0, 1, -1], [2, 1, 0]]), true);
    assert.equal(isDefaultIndexes([[0, 1, -1], [2, 1, -1], [3, 1, 0]]), false);
    // A path under another source is one selector (BuildKit's dedupe): the content is src's alone.
    assert.equal((await copyOp(copy('COPY src src/x.txt /d/'), dir, '/'))?.content, (await copyOp(copy('COPY src /d/'), dir, '/'))?.content);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("wildcards: the matches' file list (a matched directory flattened), relative to the pattern's directory", async () => {
  const dir = formsContext();
  try {
    assert.deepEqual(await copyOp(copy('COPY *.txt /w/'), dir, '/app'), {
      record: 'sha256:3a95a46c39a3959f4a22a5cad30aa60d6b85d6c98102bd0bb620d29d7803a1fc',
      content: 'sha256:4414008f6b6986bdeb60bdc69493fb06da4848e7b2d17b47ebd32afa31cc3b67',
    });
    assert.deepEqual(await copyOp(copy('COPY s* /wd/'), dir, '/app'), {
      record: 'sha256:df6a59573858c2e1583347df95197daaedd926b0a4bb86ffaba1d23a83d9751a',
      content: 'sha256:05e8a8e0f6aa61e5c33bef56376396389446765a74a6023ba05204f63942e90e',
    });
    assert.deepEqual(await copyOp(copy('COPY src/*.txt /wx/'), dir, '/app'), {
      record: 'sha256:aeb99492d9cee04001e54e3b33a84617c668a5decfafb31abb67ab6832a6d9ac',
      content: 'sha256:57657119568c2235a8cc54a98a190df50a7b8f923fe2a6b590b6042865daadab',
    });
    // Every wildcard matching nothing: BuildKit copies nothing, the content an empty match's per selector (buildkit-copy-empty-hit.test.ts).
    const empty = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    assert.equal((await copyOp(copy('COPY *.none /w/'), dir, '/'))?.content, contentRecord([empty]));
    assert.equal((await copyOp(copy('COPY *.none */none /w/'), dir, '/'))?.content, contentRecord([empty, empty]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--chown (IDs, names, root, user alone) and --chmod (octal, symbolic): the action fields BuildKit hashes', async () => {
  const dir = formsContext();
  try {
    const cases: [string, string][] = [
      ['COPY --chown=1000:1000 a.txt /c1/', 'sha256:0e23f44f894c4871c1e5d6d251f240c365b524845aa2fbfd6916471dbd5a1688'],
      ['COPY --chown=nobody:nogroup a.txt /c2/', 'sha256:12c3acc857d40e2a446584280fe13df98586bc3743c5e501183cf00794e3cf24'],
      ['COPY --chown=1000 a.txt /c3/', 'sha256:1fe5b7544daea039568832eceab3f4f06e77c7d6ca9a48edc09cce4857cc75e9'],
      ['COPY --chown=nobody a.txt /c4/', 'sha256:fed0b85d4596b80869414cdfaea88d7bef4f007ddbc1bdcdba169467584581aa'],
      ['COPY --chown=root:root a.txt /r/', 'sha256:a7c287e2ddca02f3fe7a1270bcd3341f92a5be3d41060243ee0f7af496c6dc35'],
      ['COPY --chmod=0755 a.txt /m1/', 'sha256:63b47ce1704a36e6d24eef0beb6dc0283267b614a459ae0e4c452f775662e282'],
      ['COPY --chmod=u+x,g-r a.txt /m2/', 'sha256:dabaca62d37a069ff105d656d3292fad4020e213f927e9d48d2563bb75e25028'],
      ['COPY --chown=1000:1000 --chmod=600 a.txt /cm/', 'sha256:dfbca5904646ec178161c3ebbadd97c315f36e83325b13c1cab48717160c4667'],
    ];
    for (const [line, record] of cases) assert.deepEqual(await copyOp(copy(line), dir, '/app'), { record, content: A_TXT }, line);
    assert.deepEqual(await copyOp(copy('COPY --chown=nobody a.txt b.txt /cn/'), dir, '/app'), {
      record: 'sha256:f5d3f9195c68b8e397ba6311416838794c4266528b756196314e3a10aea66aa1',
      content: 'sha256:a568e2fa919f0e0bd942ac7641c646e3a88f7c707e97aa33d2c1faf630728af0',
    });
    assert.deepEqual(parseOwner('0:www'), { user: { byId: 0 }, group: { byName: 'www' } });
    assert.equal(parseOwner(':1'), undefined);
    assert.deepEqual(parseChmodKey('0'), { mode: 0 });
    assert.equal(parseChmodKey('17777'), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--from a stage or an image: the other chain linked with the sources' selector; none when that chain is unknown", async () => {
  const other = chainName('sha256:d7af5a1efe57f14be87f698c0e16cfd4b5d473efec7a081ddff19cc70c63505a', [{ chain: 'sha256:f45a3809d1bbe0cfb3888dd05f1d67b4bf9705158cb15c22eba8a37a4b371e8d' }]);
  const f1 = await copyOp(copy('COPY --from=other /o.txt /f1/'), '/nonexistent', '/app', { from: { chain: other, root: false } });
  assert.deepEqual(f1, {
    record: 'sha256:916509b596199d4e90a695961186ebeed8a036ee235939761ad92b2cf3b1670c',
    from: { chain: other, root: false, selector: 'sha256:d9ea59b9ed2cd430b8abd72e4469162d74e7c0f850eedbb98f598a4a8376ffc2' },
  });
  const f3 = await copyOp(copy('COPY --from=other /o.txt /p.txt /f3/'), '/nonexistent', '/app', { from: { chain: other, root: false } });
  assert.equal(f3?.record, 'sha256:c83496d48da8dac3c9e6a8549e4d7ff4001e55c37396e0256dbe6685fc6bbfca');
  assert.equal(f3?.from?.selector, 'sha256:d648af5bf19021dfeb12820991df7a37cebe25a5228d9e44920e83141e9f73d4');
  const image = 'sha256:f45a3809d1bbe0cfb3888dd05f1d67b4bf9705158cb15c22eba8a37a4b371e8d';
  const f2 = await copyOp(copy('COPY --from=busybox /etc/passwd /f2/'), '/nonexistent', '/app', { from: { chain: image, root: true } });
  assert.equal(f2?.record, 'sha256:1d4e052b7f1973e7a9e9f5020fe44eac6a3f8382930c09aaddb86feda62640eb');
  assert.equal(f2?.from?.selector, 'sha256:74acf31844532670be412c65b8251ee55d072549080b1cffdbea6b1a192230a0');
  // The chain: the state before, then the other chain with its selector (as BuildKit links input 1).
  assert.equal(opChain('sha256:prev', f2!), chainName(f2!.record, [{ chain: 'sha256:prev' }, { chain: image, selector: f2!.from!.selector }]));
  assert.equal(await copyOp(copy('COPY --from=other /o.txt /f1/'), '/nonexistent', '/app'), undefined);
});

test('--link: the copy onto scratch (indexes [[-1,0,0]], its content its only input) under the merge op; with --chmod a plain copy', async () => {
  const dir = formsContext();
  try {
    // Measured: COPY --link a.txt /l1/ and COPY --link --chown=1000:1000 src/ /l2/, each merged (merge record 5dbfbafe…) onto the state before.
    const merge = 'sha256:5dbfbafede47210a7bd7363461bc885ec7310febe761daffdf666bfdae5970ff';
    assert.deepEqual(await copyOp(copy('COPY --link a.txt /l1/'), dir, '/app'), {
      record: merge,
      onScratch: { record: 'sha256:d671b05bc9f628216ffc8b6d4ad7af7d027821fd62f27c01339439f1238e819f', content: A_TXT },
    });
    const l2 = await copyOp(copy('COPY --link --chown=1000:1000 src/ /l2/'), dir, '/app');
    assert.deepEqual(l2, {
      record: merge,
      onScratch: { record: 'sha256:ce7c4c4dee1366704f8ff902f558ca076b7cf0e95c82bfd7828b0bb78acb23ba', content: 'sha256:b8a0d80a2c193f5b6eead7c8e72188c5e570a06f6282b3b2caba21a6f39b1e31' },
    });
    // The merge's inputs: the state before, then the copy's record in its own chain (linked from its content alone).
    assert.equal(opChain('sha256:prev', l2!), chainName(merge, [{ chain: 'sha256:prev' }, { chain: chainName(l2!.onScratch!.record, [{ chain: l2!.onScratch!.content! }]) }]));
    assert.deepEqual(await copyOp(copy('COPY --link --chmod=0755 a.txt /m1/'), dir, '/app'), await copyOp(copy('COPY --chmod=0755 a.txt /m1/'), dir, '/app'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--exclude and --parents: the patterns in each action, the filtered file list as content (measured: a second build on the same context)', async () => {
  // FROM <busybox>, then each line below; the records and content records buildkitd v0.34.2 wrote.
  const dir = formsContext();
  try {
    const cases: [string, string, string][] = [
      ['COPY --exclude=*.md --exclude=Dockerfile . /e/', 'sha256:50d7fb6af6f55a7906c18d245cddb19c2055ed63f1d6415c650898545ba0d884', 'sha256:f2e5f30391e75e9ddd3036e63a9fcd49c5b5cfbe2cd798b01df166e7c82e79da'],
      ['COPY --exclude=sub src /e2/', 'sha256:555eec4bf769bb349bad825f6d35d61b70d56d4b3bc5728754f7e11425c22018', 'sha256:cb0122f3c9f270e53093610246275a6bd80cdabc91073e54fa760e88035baa95'],
      // A file source is not filtered by the pattern (its own candidate is the empty path).
      ['COPY --exclude=*.txt a.txt src /e3/', 'sha256:a3cd56b2c7c52e609a625740c91696f02cdccfe27ae8393ec9d20497852141ac', 'sha256:5a262d95c4b9cf127a0f3baa204f1c0a10c1164db1ac9700f02c39f3077a12de'],
      ['COPY --exclude=x.txt src/ /e4/', 'sha256:bcfdd46c7ce384c94adcb205149c43638f3f8ccf88ccd7d4b948d6bb8c0e8578', 'sha256:1856c4d02384a0b21bb3bbf82e89ef414b850da66890ebe3d857fd1435955422'],
      ['COPY --parents src/./sub/b.txt /p/', 'sha256:74a93d4f3374ef2a600be2d4a3ca169c96facf98348cbeec21f4ccb23cf3face', 'sha256:1856c4d02384a0b21bb3bbf82e89ef414b850da66890ebe3d857fd1435955422'],
      ['COPY --parents src/x.txt src/sub /p2/', 'sha256:a768e9d36905aa8105220cddeb71b007144815907d3a0cb3de84d17448abab0e', 'sha256:5d6456fe1a43f50b3112fab7083500d81c799edf44f4a20256fa6954554cc37b'],
      ['COPY --parents src/./sub /p3/', 'sha256:5d32ff52270a6ecc8ac3ccf11da695dc8d1ad60e559e95dc7ad142cbda77f3ae', 'sha256:1856c4d02384a0b21bb3bbf82e89ef414b850da66890ebe3d857fd1435955422'],
    ];
    for (const [line, record, content] of cases) assert.deepEqual(await copyOp(copy(line), dir, '/'), { record, content }, line);
    // Not named: an exception in the patterns, a .dockerignore.
    assert.equal(await copyOp(copy('COPY --exclude=src --exclude=!src/x.txt . /e/'), dir, '/'), undefined);
    assert.equal(await copyOp(copy('COPY --exclude=sub src /e2/'), dir, '/', { ignore: parseIgnore('x\n') }), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
