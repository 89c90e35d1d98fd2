/**
 * The WebAssembly tiering budget (./wasm-tiering.ts) is V8's flag, set by the
 * CLI entry and, in the packaged executable, by its loader before it compiles
 * any bundle (a code cache is used only under the flags it was made with:
 * packaged-cache.test.ts sees the caches taken).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { repoRoot } from '../testing/kiln.js';
import { WASM_TIERING_FLAG } from './wasm-tiering.js';

test('the packaged loader sets the CLI entry\'s WebAssembly tiering flag before it compiles a bundle', async () => {
  const loader = await readFile(path.join(repoRoot(), 'scripts', 'sea-loader.cjs'), 'utf8');
  const set = loader.indexOf(`setFlagsFromString('${WASM_TIERING_FLAG}')`);
  assert.ok(set >= 0, `scripts/sea-loader.cjs does not set ${WASM_TIERING_FLAG}`);
  assert.ok(set < loader.indexOf('new vm.Script('), 'the flag is set after the first compile');
});

test('the CLI entry imports the flag before anything else', async () => {
  const main = await readFile(path.join(repoRoot(), 'src', 'cli', 'main.ts'), 'utf8');
  assert.match(main, /^(#![^\n]*\n)?(\/\*\*[\s\S]*?\*\/\n)?import '\.\/wasm-tiering\.js';\n/);
});
