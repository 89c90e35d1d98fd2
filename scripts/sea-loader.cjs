// The main script of the packaged executable (scripts/package.mjs): compiles
// kiln's bundle (the asset kiln.js) and runs it. Large dependencies are
// bundles of their own (modules.json: module id → asset and export), compiled
// on their first require. Every bundle is compiled with the V8 code cache the
// training runs made at package time (the asset NAME.cache: the functions
// `--version`, `images`, `ps`, `pull` and `push` compiled, not only the top
// level as Node's own useCodeCache has). A cache V8 rejects (another V8, other
// flags, another source) only costs the compile time.
// Under plain node with KILN_SEA_TRAIN=DIR it runs the bundle KILN_SEA_BUNDLE
// (the split bundles beside it), starting from the caches already in DIR, and
// at exit writes DIR/NAME.cache for every bundle it compiled: training runs
// one after another add up what each compiled. There node:sea is the
// executable's as the bundle sees it (isSea true, the assets the files beside
// the bundle), so the training runs take the executable's paths.
'use strict';
const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const sea = require('node:sea');
const vm = require('node:vm');

const packaged = sea.isSea();
const train = packaged ? undefined : process.env.KILN_SEA_TRAIN;
const file = packaged ? process.execPath : path.resolve(process.env.KILN_SEA_BUNDLE);
// An asset's bytes where the executable holds them (getRawAsset, read-only), not a copy as getAsset makes:
// ~0.7 ms saved for each of kiln.js, the undici split and their caches at every start.
const raw = (name) => Buffer.from(sea.getRawAsset ? sea.getRawAsset(name) : sea.getAsset(name));
const asset = (name) => (packaged ? raw(name).toString('utf8') : readFileSync(name === 'kiln.js' ? file : path.join(path.dirname(file), name), 'utf8'));
/** The code cache made for a bundle, if there is one. */
function cacheOf(name) {
  if (train) return existsSync(path.join(train, `${name}.cache`)) ? readFileSync(path.join(train, `${name}.cache`)) : undefined;
  if (!packaged) return undefined;
  try {
    return raw(`${name}.cache`);
  } catch {
    return undefined;
  }
}
function hasAsset(name) {
  try {
    raw(name);
    return true;
  } catch {
    return false;
  }
}
const compiled = new Map();
/** A bundle's function of (exports, require, module, __filename, __dirname), compiled with its code cache. */
function compile(name) {
  const cachedData = cacheOf(name);
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${asset(name)}\n})`, {
    filename: name,
    ...(cachedData ? { cachedData } : {}),
  });
  if (process.env.KILN_SEA_CACHE_REPORT) process.stderr.write(`kiln: code cache ${name}: ${cachedData ? (script.cachedDataRejected ? 'rejected' : 'accepted') : 'none'}\n`);
  compiled.set(name, script);
  return script.runInThisContext();
}
if (train) process.once('exit', () => compiled.forEach((script, name) => writeFileSync(path.join(train, `${name}.cache`), script.createCachedData())));
const modules = JSON.parse(asset('modules.json'));
const splits = new Map();
/** The exports of a split bundle (scripts/package.mjs), run once. */
function split(name) {
  if (!splits.has(name)) {
    const mod = { exports: {} };
    compile(name)(mod.exports, splitRequire, mod, file, path.dirname(file));
    splits.set(name, mod.exports);
  }
  return splits.get(name);
}
// NODE_EXTRA_CA_CERTS, when this executable's node leaves it to us (the asset sea-extra-ca.cjs is there
// then: scripts/lib/lazy-extra-ca.mjs): installed before anything first gets node:tls or calls fetch.
const TLS = new Set(['tls', 'https', 'http2']);
function extraCaInstaller() {
  const mod = { exports: {} };
  compile('sea-extra-ca.cjs')(mod.exports, require, mod, file, path.dirname(file));
  return mod.exports(require, process.env.NODE_EXTRA_CA_CERTS);
}
const extraCa = packaged && process.env.NODE_EXTRA_CA_CERTS && hasAsset('sea-extra-ca.cjs') ? extraCaInstaller() : undefined;
/** require() of the split bundles: node's, with the LAZY builtins loaded on first use. */
function splitRequire(id) {
  const name = id.startsWith('node:') ? id.slice(5) : id;
  if (LAZY.has(name)) return lazyBuiltin(name);
  if (extraCa && TLS.has(name)) extraCa();
  return require(id);
}
if (extraCa) {
  const fetch = globalThis.fetch;
  globalThis.fetch = function (...args) {
    extraCa();
    return fetch.apply(this, args);
  };
}
// node:child_process, node:crypto, node:dns, node:tls and node:zlib (plain objects of functions and classes)
// load on first use, in every bundle: commander and many of kiln's modules import them, and `ps`, `images`
// and `--version` never call them; a push or pull to a plain-HTTP registry never calls tls (the registry's
// agents import its root certificates for a ca_file) and a pull of gzip layers need not call zlib. With
// NODE_EXTRA_CA_CERTS set (many CI images set it), naming node:tls installed the extra certificates and
// loaded tls and crypto's internals: ~5 ms of every push's and pull's start, to a registry that may not even
// speak TLS. grpc-js requires dns (its DNS resolver) and zlib (message compression) as it loads, which a
// remote command to an IP address and containerd's unix socket, uncompressed, never call.
const LAZY = new Set(['child_process', 'crypto', 'dns', 'tls', 'zlib']);
const lazy = new Map();
// In training kiln.js runs as it does packaged (src/self.ts: helper processes re-run the executable).
const trainingSea = train && { isSea: () => true };
/** require() of kiln.js: the split bundles' modules from their bundles, the rest as splitRequire gives them. */
function lazyRequire(id) {
  if (trainingSea && id === 'node:sea') return trainingSea;
  if (Object.hasOwn(modules, id)) return split(modules[id][0])[modules[id][1]];
  return splitRequire(id);
}
/** Builtin NAME as an object that loads it on first use. */
function lazyBuiltin(name) {
  if (!lazy.has(name)) {
    // A lazy node:tls gets the extra certificates on its first use, not where a module names it.
    const real = () => (extraCa && TLS.has(name) && extraCa(), require(`node:${name}`));
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
compile('kiln.js')(exports, lazyRequire, module, file, path.dirname(file));
