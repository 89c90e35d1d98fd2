/**
 * The COPY forms of copy-heredoc.ts and copy-content.ts (a heredoc, a
 * symlink source, wildcards before the last component, matching nothing or
 * symlinks; under a .dockerignore with exceptions: several sources with a
 * directory, wildcards, --link), each value a record of the cache a real
 * buildkitd v0.34.2 exported (`buildctl build --export-cache
 * type=local,mode=max`, buildkitd --save-cache-debug) of these contexts, every
 * stage FROM scratch, the first COPY onto scratch (BuildKit's other records
 * are there too: kiln's chain names them in buildkit-copy-more-hit.test.ts and
 * buildkit-ignore-hit.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildInstruction, parseDockerfile, parseIgnore, type CopyInstruction } from '../../dockerfile/index.js';
import { copyOp } from './copy-chain.js';

const copies = (text: string) => parseDockerfile(text).nodes.map((n) => buildInstruction(n)).filter((i): i is CopyInstruction => i.kind === 'copy');
const copy = (line: string) => copies(line)[0]!;

function context(prefix: string, dirs: string[], files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  for (const d of dirs) mkdirSync(path.join(dir, d), { recursive: true });
  for (const d of ['', ...dirs]) chmodSync(path.join(dir, d), 0o755);
  for (const [f, text] of Object.entries(files)) {
    writeFileSync(path.join(dir, f), text);
    chmodSync(path.join(dir, f), 0o644);
  }
  return dir;
}

const A_TXT = 'sha256:d9bbc07d27ae5f69fef43f29e6b42b3cb97b88c514516b9e4166bf30bc1a355e'; // content record of a.txt ("a\n")

test('a heredoc (on scratch, with --chmod), a symlink source, wildcards before the last component, matching nothing, matching symlinks', async () => {
  const dir = context('kiln-bk-more-', ['src/sub', 'other'], { 'a.txt': 'a\n', 'src/x.txt': 'src x\n', 'src/sub/y.txt': 'y\n', 'other/x.txt': 'other x\n' });
  try {
    symlinkSync('a.txt', path.join(dir, 'flink'));
    symlinkSync('src', path.join(dir, 'dlink'));
    symlinkSync('/a.txt', path.join(dir, 'lf'));
    symlinkSync('other', path.join(dir, 'ld'));
    const [bare, hello, run] = copies('COPY <<EOF /bare.txt\nfirst on scratch\nEOF\nCOPY <<EOF /h/hello.txt\nhello from a heredoc\nEOF\nCOPY --chmod=0755 <<EOF /h/run.sh\n#!/bin/sh\necho hi\nEOF\n');
    assert.deepEqual(await copyOp(bare!, dir, '/', { onScratch: true }), {
      record: 'sha256:6ab8ae3b78578ab0c19eac1e9dfb9b9508543ca81a4bc1a638e9222eb8a570d7',
      content: 'sha256:42097965b54c1d632376d06b083232f4f21beef9e75ef50d505f6fc9ee499b80',
    });
    assert.deepEqual(await copyOp(copy('COPY a.txt /'), dir, '/', { onScratch: true }), { record: 'sha256:f3a558d739056fa38f45ada99819bccd2714e7847991333b5e6d1de73889bbee', content: A_TXT });
    const cases: [CopyInstruction, string, string][] = [
      [hello!, 'sha256:07b930df1c0c533c2208ebb65e3d577174ff5ff4be655378e31f49db67611c63', 'sha256:3cd6e22a8f1091f7d9ae8177aa651c5b34c583da8ea757ed9793de033c2654ee'],
      [run!, 'sha256:bca8e69e79926035126878e88883fd945a3b51739e9c360880696045fa6d221d', 'sha256:168511a28f4811007ef86d261a4b80f1761ffb6fcd7e346ff186eed603cbcb40'],
      // A symlink source: its target's checksum (a.txt's content record), the action's src the link's name.
      [copy('COPY flink /s1/'), 'sha256:6113894f2465c9681fb6acc2c378d54a9d9f40a4dcc50d02ad197baf7ed53261', A_TXT],
      [copy('COPY dlink /s2/'), 'sha256:e975805eed3055571be153f4e5721d66f61547f8fbdf8a41d843b242d014141f', 'sha256:7e501a309dd8ba5c05a83c51595d7b475642b3c189719612fa5170390c7e341e'],
      [copy('COPY [os]*/x.txt /w1/'), 'sha256:6c8a7c1cac90e91fe3883456c3de1c9b30876fc9aca345298846d86555567db8', 'sha256:472d6466b3fe1d7be5b7ce93da73dd1fd5c04af9b9c763baf73e14d8eaa7c6e9'],
      [copy('COPY a.txt *.none /w2/'), 'sha256:e98b368a1cf6b37dde5fb2728240835e16b6974eeeb81b70799be02d13e80b7c', 'sha256:71cf8e34798cd2bbad2b8d8a0cac3d872bc4d779de563f200fa3ae765ce756c7'],
      // lf → /a.txt (absolute: from the context's root), ld → other: each followed.
      [copy('COPY l* /w3/'), 'sha256:d3c39963ba24be950c90ae61e93b9f98a5c6963acff942b1730c7809d560ddce', 'sha256:439d31eaaa2ddc82c9a6d1d77d64583f1ddafeb091578257961a8dcea5e36d81'],
    ];
    for (const [inst, record, content] of cases) assert.deepEqual(await copyOp(inst, dir, '/'), { record, content }, JSON.stringify(inst.sources));
    // Not named: a wildcard whose earlier component matches a symlinked directory (BuildKit's walk does not enter it, kiln's COPY would).
    assert.equal(await copyOp(copy('COPY */x.txt /w1/'), dir, '/'), undefined);
    // Two heredocs, a heredoc with --link.
    assert.equal(await copyOp(copies('COPY <<A <<B /d/\na\nA\nb\nB\n')[0]!, dir, '/'), undefined);
    assert.equal(await copyOp(copies('COPY --link <<A /d/\na\nA\n')[0]!, dir, '/'), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('under a .dockerignore with exceptions: several sources with a directory, wildcards, --link of a directory, as the client sends them', async () => {
  const dir = context('kiln-bk-more-ign-', ['src/sub', 'src/keep', 'other', 'docs/keep'], {
    'f.txt': 'f\n', 'src/a.txt': 'aaa\n', 'src/x.log': 'log\n', 'src/sub/b.txt': 'bbb\n', 'src/sub/c.txt': 'ccc\n', 'src/keep/k.txt': 'k\n',
    'other/o.txt': 'o\n', 'other/p.txt': 'p\n', 'docs/d.md': 'd\n', 'docs/keep/k.md': 'kd\n',
  });
  try {
    chmodSync(path.join(dir, 'src', 'sub'), 0o700);
    const ignore = parseIgnore('src/sub\n!src/sub/b.txt\n**/*.log\nother/o.txt\n**/*.md\n!docs/keep/*.md\n');
    const cases: [string, string, string][] = [
      ['COPY src/ f.txt /m1/', 'sha256:fc9a3b003c64a0881a7495cbcc2e54b5ee9e48a44a0e35724e822f03e104eae0', 'sha256:794d9bd18696f8487b0bdc220360a3563e62ecee51afedb48a8708ea8634018d'],
      ['COPY src/* /m2/', 'sha256:7010dc41b2e267a928c39e1e4f915cd530db9cfabdd95b1032163a7a031b7332', 'sha256:3ec03b1709ee0c3f9c1e979461a7119393d08855e6d7ead62108bd5012bcc4d5'],
      ['COPY src/*.txt other/* /m3/', 'sha256:4361a27275082612db9c1a2579b91b359ffe9d5d0fea15ae7b7a3aafd6ffff3e', 'sha256:d5ec75009c6add54baba9a9729fb2fd38e630a2fd5435f6d37b70c545075769a'],
      ['COPY docs /m5/', 'sha256:c34b8a902489855ac6109d2a72203fef4a387181245bd545a2753540be4176fa', 'sha256:ebd28088e13440e0fd89330b155b8e1c0a108fb1535a12a0fc1e3eef957b9888'],
      ['COPY */k* /m6/', 'sha256:1b88e795cc686704bdb3a065a1e3054686d035d5fbedc78668ec152be2653e97', 'sha256:13f910a1a9d823fd77144ace721e6a7e73c1bd1da4956f5c63a8333322dae2eb'],
    ];
    for (const [line, record, content] of cases) assert.deepEqual(await copyOp(copy(line), dir, '/', { ignore }), { record, content }, line);
    // --link: BuildKit's merge record over the copy onto scratch, whose content is the directory as sent.
    const link = await copyOp(copy('COPY --link src/ /m4/'), dir, '/', { ignore });
    assert.equal(link?.record, 'sha256:5dbfbafede47210a7bd7363461bc885ec7310febe761daffdf666bfdae5970ff');
    assert.equal(link?.onScratch?.content, 'sha256:dd90e4d53ec75640ab36b7a9f1adf91f990a52a2b59df736f4b514e7c8266725');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
