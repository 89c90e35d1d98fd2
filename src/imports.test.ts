/** scripts/imports.mjs holds the import graph to its shape: on kiln's own tree, and on small trees that break it. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from './testing/root.js';
import { withTempDir } from './testing/tempdir.js';

const run = promisify(execFile);
const script = path.join(repoRoot(), 'scripts', 'imports.mjs');

async function check(dir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [script, dir]);
    return { code: 0, ...r };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

async function tree(dir: string, files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
}

test('kiln\'s src/ has no backend importing another, no image/ → engine/ import and no import cycle', async () => {
  const r = await check(path.join(repoRoot(), 'src'));
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^imports: \d+ files, \d+ imports, 0 problem\(s\)\n$/);
});

test('the check names a backend importing another (a side-effect import too), image/ importing engine/, and a cycle (type-only and dynamic imports count)', () =>
  withTempDir(async (dir) => {
    await tree(dir, {
      'engine/engine.ts': 'export interface Engine {}\n',
      'engine/containerd/engine.ts': "import { pull } from '../local/pull.js';\nexport const x = pull;\n",
      'engine/local/pull.ts': "export const pull = 1;\n",
      'engine/local/pull.test.ts': "import '../containerd/engine.js';\n",
      'engine/kube/engine.ts': "import type { Engine } from '../engine.js';\nexport type E = Engine;\n",
      'engine/remote/engine.ts': "export const x = 1;\n",
      'engine/remote/server.ts': "import '../kube/engine.js';\n",
      'image/pull.ts': "import type { Engine } from '../engine/engine.js';\nexport type E = Engine;\n",
      'builder/a.ts': "import type { B } from './b.js';\nexport type A = B;\n",
      'builder/b.ts': "export const load = () => import('./a.js');\nexport type B = number;\n",
    });
    const r = await check(dir);
    assert.equal(r.code, 1);
    assert.deepEqual(r.stderr.trim().split('\n').sort(), [
      'engine/containerd/engine.ts → engine/local/pull.ts: one backend imports another; move what both need down (src/image, src/engine/store)',
      'engine/remote/server.ts → engine/kube/engine.ts: one backend imports another; move what both need down (src/image, src/engine/store)',
      'image/pull.ts → engine/engine.ts: image/ must not import from engine/',
      'import cycle: builder/a.ts → builder/b.ts → builder/a.ts',
    ]);
    assert.match(r.stdout, /^imports: 9 files, /);
  }));
