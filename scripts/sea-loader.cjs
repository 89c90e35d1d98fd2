// The main script of the packaged executable (scripts/package.mjs): compiles
// kiln's bundle (the asset kiln.js) with the V8 code cache a training run
// made at package time (the asset kiln.cache: the functions a `kiln images`
// compiled, not only the top level as Node's own useCodeCache has), then runs
// it. A cache V8 rejects only costs the compile time. Large dependencies are
// bundles of their own (modules.json: module id → asset and export), compiled
// on their first require. Under plain node with KILN_SEA_TRAIN=FILE it runs
// the bundle KILN_SEA_BUNDLE (the split bundles beside it) and writes the
// cache to FILE at exit.
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
const asset = (name) => (packaged ? sea.getAsset(name, 'utf8') : readFileSync(path.join(path.dirname(file), name), 'utf8'));
const modules = JSON.parse(asset('modules.json'));
const splits = new Map();
/** The exports of a split bundle (scripts/package.mjs), run once. */
function split(name) {
  if (!splits.has(name)) {
    const mod = { exports: {} };
    const fn = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${asset(name)}\n})`, { filename: name }).runInThisContext();
    fn(mod.exports, require, mod, file, path.dirname(file));
    splits.set(name, mod.exports);
  }
  return splits.get(name);
}
// node:child_process and node:crypto (plain objects of functions and classes) load on first use:
// commander and many of kiln's modules import them, and `ps`, `images` and `--version` never call them.
const LAZY = new Set(['child_process', 'crypto']);
const lazy = new Map();
function lazyRequire(id) {
  if (Object.hasOwn(modules, id)) return split(modules[id][0])[modules[id][1]];
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
