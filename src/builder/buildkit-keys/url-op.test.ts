/**
 * ADD of an http URL: the values a real buildkitd v0.34.2 computed. Origin:
 * `buildkitd --save-cache-debug` and `buildctl build --frontend dockerfile.v0
 * --export-cache type=local,mode=max` of, on the busybox base of keys.test.ts,
 *   ADD http://127.0.0.1:<port>/dl/data.txt /d/
 *   ADD --checksum=sha256:eee71676… http://127.0.0.1:<port>/dl/data.txt /k/
 *   ADD --chmod=640 http://127.0.0.1:<port>/dl/data.txt /m
 * the file "remote data\n" served with Last-Modified (a loopback python3 -m
 * http.server). Each copy record's second input had two choices: the http
 * source's record with the selector sha256("/data.txt"), and the content
 * record below.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildInstruction, parseDockerfile, type CopyInstruction } from '../../dockerfile/index.js';
import type { Downloaded } from '../remote.js';
import { downloadChecksum, keyedFileName as urlFileName, urlFileOp } from './url-op.js';
import { contentRecord } from './keys.js';

const add = (line: string) => buildInstruction(parseDockerfile(line).nodes[0]!) as CopyInstruction;
const URL_ = 'http://127.0.0.1:27283/dl/data.txt';
const CONTENT = 'sha256:c29c85bcf618c86b7eafa6bea6ac6f481983382d866bdab6dc20ddfbcc6ab84a';

test("the download's name as the frontend gives it", () => {
  assert.deepEqual(
    [urlFileName('https://h/a/b.tar.gz?x=1'), urlFileName('https://h/'), urlFileName('https://h'), urlFileName('https://h/dir/'), urlFileName('https://h/a%20b')],
    ['b.tar.gz', '__unnamed__', '__unnamed__', 'dir', undefined],
  );
});

test("ADD <URL>, with --checksum, with --chmod: BuildKit's copy records and the content record of the download (0600, root)", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-bk-url-'));
  try {
    const abs = path.join(dir, 'download-1');
    writeFileSync(abs, 'remote data\n', { mode: 0o644 });
    const d: Downloaded = { name: 'data.txt', abs, st: lstatSync(abs), digest: 'sha256:eee71676fec85a0b943604d9336440dade24f82044e7e473558b8c6f13140a2c' };
    assert.equal(await downloadChecksum({ abs, size: 12 }), 'sha256:cccd22fbfc5b14150b9448aea55e077714336e99d415e64156ee3a96c266ef81');
    assert.equal(contentRecord(['sha256:cccd22fbfc5b14150b9448aea55e077714336e99d415e64156ee3a96c266ef81']), CONTENT);
    const downloads = new Map([[URL_, d]]);
    assert.deepEqual(await urlFileOp(add(`ADD ${URL_} /d/`), downloads, '/', false), { record: 'sha256:890d87f580dee028a3b74a9b17b0b76328c7f7adef314d4bfb38b048296cc5f8', content: CONTENT });
    assert.equal((await urlFileOp(add(`ADD --checksum=${d.digest} ${URL_} /k/`), downloads, '/', false))?.record, 'sha256:b4624e5d85e863162c1dac9e47dee65d529a4860f86f48429962ebad348f2498');
    assert.equal((await urlFileOp(add(`ADD --chmod=640 ${URL_} /m`), downloads, '/', false))?.record, 'sha256:21e47836f9bc1d43b1e3ff3d4edc8048054a037144ba0b00c0383eb09852905f');
    // A download kiln named otherwise (a redirect to another name) is not named.
    assert.equal(await urlFileOp(add(`ADD ${URL_} /d/`), new Map([[URL_, { ...d, name: 'other.txt' }]]), '/', false), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
