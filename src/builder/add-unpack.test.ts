/**
 * ADD's archive rules through the CLI, on busybox imported into a temp store: local archives unpacked,
 * downloads kept, and `--unpack` (Dockerfile 1.17) turning either way.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startFileServer } from '../testing/file-server.js';
import { buildFixture, type BuildFixture } from './test-support.js';

let fx: BuildFixture;
before(async () => {
  fx = await buildFixture('kiln-add-unpack-');
});
after(async () => {
  await fx.assertNoLeftovers();
  await fx.cleanup();
});

test('ADD --unpack: a downloaded archive unpacked with --unpack, kept without; --unpack=false keeps a local one; a bad value at Dockerfile:N', async () => {
  const dir = path.join(fx.tmp, 'unpack-src');
  execFileSync('sh', ['-c', `mkdir -p ${dir}/t && echo intar > ${dir}/t/f && tar -czf ${dir}/a.tgz -C ${dir}/t f`]);
  const tgz = readFileSync(path.join(dir, 'a.tgz'));
  const server = await startFileServer({ '/a.tgz': tgz });
  try {
    const ctx = fx.context({
      Dockerfile: [
        'FROM busybox',
        `ADD --unpack ${server.url}/a.tgz /url-unpacked/`,
        `ADD ${server.url}/a.tgz /url-kept/`,
        'ADD --unpack=false local.tgz /local-kept/',
        'ADD local.tgz /local-unpacked/',
        '',
      ].join('\n'),
    });
    writeFileSync(path.join(ctx, 'local.tgz'), tgz);
    const out = path.join(fx.tmp, 'out-unpack');
    await fx.buildOk(['-q', '-o', `type=local,dest=${out}`, ctx]);
    assert.equal(readFileSync(path.join(out, 'url-unpacked/f'), 'utf8'), 'intar\n');
    assert.deepEqual(readdirSync(path.join(out, 'url-kept')), ['a.tgz']);
    assert.ok(readFileSync(path.join(out, 'url-kept/a.tgz')).equals(tgz));
    assert.ok(readFileSync(path.join(out, 'local-kept/local.tgz')).equals(tgz));
    assert.equal(readFileSync(path.join(out, 'local-unpacked/f'), 'utf8'), 'intar\n');
    const bad = await fx.build(['-q', fx.context({ Dockerfile: 'FROM busybox\nADD --unpack=maybe local.tgz /x/\n' })]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^kiln: Dockerfile:2:5: expecting boolean value for flag --unpack, not: maybe/);
    const onCopy = await fx.build(['-q', fx.context({ Dockerfile: 'FROM busybox\nCOPY --unpack local.tgz /x/\n' })]);
    assert.match(onCopy.stderr, /^kiln: Dockerfile:2:6: unknown flag --unpack for COPY/);
  } finally {
    await server.stop();
  }
});
