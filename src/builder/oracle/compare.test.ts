/**
 * The oracle's own checks: flattening applies whiteouts and keeps hardlinks, and
 * the comparison reports every kind of difference it claims to (so a passing
 * oracle case means something), with allowances scoped to their cases.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { makeTar, type TarSpec } from '../../layer/testing.js';
import { compareBuilds, summarize, type Allowance, type Built } from './compare.js';
import { applyLayers, walkTree } from './flatten.js';
import type { ImageConfig } from './image.js';

const base: TarSpec = [
  { name: 'etc/', type: 'directory' },
  { name: 'etc/passwd', body: 'root:x:0:0::/root:/bin/sh\n' },
  { name: 'bin/', type: 'directory' },
  { name: 'bin/sh', body: 'shell', mode: 0o755 },
  { name: 'bin/ls', type: 'symlink', linkname: 'sh' },
  { name: 'old/', type: 'directory' },
  { name: 'old/gone', body: 'x' },
];

async function built(layers: TarSpec[], config: ImageConfig = {}): Promise<Built> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-oracle-unit-'));
  try {
    const files = [];
    for (const [i, spec] of layers.entries()) {
      const file = path.join(dir, `layer${i}.tar`);
      await pipeline(makeTar(spec), createWriteStream(file));
      files.push({ file, mediaType: 'application/vnd.oci.image.layer.v1.tar' });
    }
    const root = path.join(dir, 'root');
    await applyLayers({ config, layers: files }, root);
    return { config: summarize(config), tree: await walkTree(root) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('flattening applies whiteouts and opaque directories, and groups hardlinks', async () => {
  const b = await built([
    base,
    [
      { name: 'bin/.wh.ls' },
      { name: 'old/', type: 'directory' },
      { name: 'old/.wh..wh..opq' },
      { name: 'old/new', body: 'n' },
      { name: 'bin/sh2', type: 'link', linkname: 'bin/sh' },
    ],
  ]);
  assert.equal(b.tree.has('/bin/ls'), false);
  assert.equal(b.tree.has('/old/gone'), false);
  assert.equal(b.tree.get('/old/new')?.size, 1);
  assert.equal(b.tree.get('/bin/sh')?.hardlinkGroup, '/bin/sh');
  assert.equal(b.tree.get('/bin/sh2')?.hardlinkGroup, '/bin/sh');
  assert.equal(b.tree.get('/bin/sh')?.mode, '0755');
});

test('identical builds match; each kind of difference is reported on its path', async () => {
  const same = await built([base], { config: { Env: ['A=1'] }, history: [{}, {}] });
  assert.deepEqual(compareBuilds(same, await built([base], { config: { Env: ['A=1'] }, history: [{}, {}] }), [], 'x'), []);

  const other = await built(
    [
      base,
      [
        { name: 'etc/passwd', body: 'root:x:0:0::/root:/bin/ash\n' }, // content
        { name: 'bin/sh', body: 'shell', mode: 0o4755 }, // mode
        { name: 'bin/.wh.ls' },
        { name: 'bin/ls', type: 'symlink', linkname: 'busybox' }, // link target
        { name: 'old/gone', body: 'x', uid: 1000, gid: 1000 }, // owner
        { name: 'extra', body: '' }, // only on one side
      ],
    ],
    { config: { Env: ['A=2'], Cmd: ['sh'], Healthcheck: { Test: ['NONE'] } }, history: [{}] },
  );
  const diffs = compareBuilds(other, same, [], 'x');
  for (const expected of [
    /^config Env: kiln \["A=2"\], buildah \["A=1"\]$/,
    /^config Cmd: kiln \["sh"\], buildah \(unset\)$/,
    /^config Healthcheck:/,
    /^config historyCount: kiln 1, buildah 2$/,
    /^fs \/etc\/passwd: kiln file 0644 0:0 27B \w+, buildah file 0644 0:0 26B/,
    /^fs \/bin\/sh: kiln file 4755/,
    /^fs \/bin\/ls: kiln symlink .* -> busybox, buildah symlink .* -> sh$/,
    /^fs \/old\/gone: kiln file 0644 1000:1000/,
    /^fs \/extra: only in kiln/,
  ])
    assert.ok(diffs.some((d) => expected.test(d)), `no difference matching ${expected} in:\n${diffs.join('\n')}`);
  assert.equal(diffs.length, 9, diffs.join('\n'));
});

test('allowances normalise both sides, only in their cases', async () => {
  const kiln = await built([base, [{ name: 'etc/hosts', body: '' }]], { config: { Labels: { a: 'b' } } });
  const buildah = await built([base], { config: { Labels: { a: 'b', 'io.buildah.version': '1' }, Cmd: [] } });
  const allowances: Allowance[] = [
    { name: 'label', why: 't', config: (c, side) => side === 'buildah' && delete c.Labels?.['io.buildah.version'] },
    { name: 'empty', why: 't', config: (c) => c.Cmd?.length === 0 && delete c.Cmd },
    { name: 'hosts', why: 't', cases: ['only-here'], fs: (t) => t.kiln.delete('/etc/hosts') },
  ];
  assert.deepEqual(compareBuilds(kiln, buildah, allowances, 'only-here'), []);
  assert.deepEqual(compareBuilds(kiln, buildah, allowances, 'elsewhere'), ['fs /etc/hosts: only in kiln (file 0644 0:0 0B e3b0c44298fc)']);
});
