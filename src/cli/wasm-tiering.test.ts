/**
 * ./wasm-tiering.ts raises V8's WebAssembly tiering budget only while a module
 * compiles: code caches made under V8's default flags (Node's for its built-in
 * modules, the packaged executable's for its bundles) are still taken after it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import vm from 'node:vm';
import './wasm-tiering.js';

// Without V8's in-memory compilation cache, a script compiled again consults its code cache
// (every cache below is made after this, under the same flags).
setFlagsFromString('--no-compilation-cache');

/** The smallest valid module: magic and version. */
const EMPTY_MODULE = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
const SOURCE = 'function kilnCacheProbe(a, b) { return [a, b].map((x) => x * 2); }\nkilnCacheProbe(1, 2);';

function cached(): Buffer {
  const script = new vm.Script(SOURCE, { filename: 'probe.js' });
  script.runInThisContext();
  return script.createCachedData();
}

const taken = (data: Buffer): boolean => !new vm.Script(SOURCE, { filename: 'probe.js', cachedData: data }).cachedDataRejected;

test('a code cache made before a WebAssembly compile is taken after it', async () => {
  const data = cached();
  assert.equal(taken(data), true);
  const module = await WebAssembly.compile(EMPTY_MODULE);
  assert.ok(module instanceof WebAssembly.Module);
  assert.equal(taken(data), true);
});

test('two compiles at once, and one that fails (a CompileError, as V8 rejects it), leave the flags as they were', async () => {
  const data = cached();
  const results = await Promise.allSettled([WebAssembly.compile(EMPTY_MODULE), WebAssembly.compile(new Uint8Array([1, 2, 3]))]);
  assert.equal(results[0].status, 'fulfilled');
  assert.equal(results[1].status, 'rejected');
  assert.ok((results[1] as PromiseRejectedResult).reason instanceof WebAssembly.CompileError);
  assert.equal(taken(data), true);
});
