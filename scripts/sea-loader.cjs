// The main script of the packaged executable (scripts/package.mjs): compiles
// kiln's bundle (the asset kiln.js) with the V8 code cache a training run
// made at package time (the asset kiln.cache: the functions a `kiln images`
// compiled, not only the top level as Node's own useCodeCache has), then runs
// it. A cache V8 rejects only costs the compile time. Under plain node with
// KILN_SEA_TRAIN=FILE it runs the bundle KILN_SEA_BUNDLE and writes the cache
// to FILE at exit.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const sea = require('node:sea');
const vm = require('node:vm');

const packaged = sea.isSea();
const train = packaged ? undefined : process.env.KILN_SEA_TRAIN;
const source = packaged ? sea.getAsset('kiln.js', 'utf8') : readFileSync(process.env.KILN_SEA_BUNDLE, 'utf8');
const cachedData = packaged ? Buffer.from(sea.getAsset('kiln.cache')) : undefined;
const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
  filename: 'kiln.js',
  ...(cachedData ? { cachedData } : {}),
});
if (train) process.once('exit', () => writeFileSync(train, script.createCachedData()));
const file = packaged ? process.execPath : path.resolve(process.env.KILN_SEA_BUNDLE);
// node:child_process (a plain object of functions) loads on first use: commander and many of kiln's
// modules import it and most commands never call it. (node:crypto is loaded at start-up anyway.)
const LAZY = new Set(['child_process']);
const lazy = new Map();
function lazyRequire(id) {
  const name = id.startsWith('node:') ? id.slice(5) : id;
  if (!LAZY.has(name)) return require(id);
  if (!lazy.has(name)) {
    const real = () => require(`node:${name}`);
    lazy.set(
      name,
      new Proxy(
        {},
        {
          get: (_, key) => real()[key],
          has: (_, key) => key in real(),
          ownKeys: () => Reflect.ownKeys(real()),
          getOwnPropertyDescriptor: (_, key) => {
            const d = Reflect.getOwnPropertyDescriptor(real(), key);
            return d && { ...d, configurable: true };
          },
        },
      ),
    );
  }
  return lazy.get(name);
}
script.runInThisContext()(exports, lazyRequire, module, file, path.dirname(file));
