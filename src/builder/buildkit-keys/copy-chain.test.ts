/**
 * The COPY op kiln names for a directory of the context, against the records
 * a real buildkitd v0.34.2 wrote for `COPY . /app` (origin: tree-checksum.test.ts,
 * same context, same debug db), and the cases where kiln names none.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { buildInstruction, parseDockerfile, type CopyInstruction } from '../../dockerfile/index.js';
import { copyOp } from './copy-chain.js';
import { measuredContext } from './measured-context.js';

const copy = (line: string) => buildInstruction(parseDockerfile(line).nodes[0]!) as CopyInstruction;

test("COPY . /app and COPY src/ … (on scratch): BuildKit's record and content record; none for a file named with a trailing slash", async () => {
  const dir = measuredContext('kiln-bk-copy-');
  try {
    assert.deepEqual(await copyOp(copy('COPY . /app'), dir, '/'), {
      record: 'sha256:d773579a84f0550bbc66497c90e917950ba20a9bdbb6e22ae20365fced0b8254',
      content: 'sha256:6df56abc3f090b32ea50d26b2ccbc0ca447e85807c738f38d9c27e62f409cea6',
    });
    // The content record of COPY src/.
    assert.equal((await copyOp(copy('COPY src/ /app/src/'), dir, '/'))?.content, 'sha256:de14f66143807931a1aabb48f5692dc67d12578b249b2750d8fd0ff16157efd0');
    assert.equal((await copyOp(copy('COPY src /app/src/'), dir, '/'))?.content, 'sha256:de14f66143807931a1aabb48f5692dc67d12578b249b2750d8fd0ff16157efd0');
    // That record, on scratch (FROM scratch: indexes [[-1,0,0]], the content its only input).
    assert.deepEqual(await copyOp(copy('COPY src/ /app/src/'), dir, '/', { onScratch: true }), {
      record: 'sha256:6bfae2516dca7f434d243c2291cd717ef93fd5e8eaf9386365e1e8c8908e47e5',
      content: 'sha256:de14f66143807931a1aabb48f5692dc67d12578b249b2750d8fd0ff16157efd0',
    });
    assert.equal(await copyOp(copy('COPY f.txt/ /app/'), dir, '/'), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
