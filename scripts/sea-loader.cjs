// The main script of the packaged executable (scripts/package.mjs): compiles
// kiln's bundle (the asset kiln.js) and runs it. Large dependencies are
// bundles of their own (modules.json: module id → asset and export), compiled
// on their first require. Every bundle is compiled with the V8 code cache the
// training runs made at package time (the asset NAME.cache: the functions
// `--version`, `images`, `ps`, `pull` and `push` compiled, not only the top
// level as Node's own useCodeCache has). A cache V8 rejects (another V8, other
// flags, another source) only costs the compile time.
// The executable is made with a V8 startup snapshot ("useSnapshot"): this
// script runs once at package time (v8.startupSnapshot.isBuildingSnapshot()),
// compiles kiln.js from the files KILN_SEA_BUNDLE names with its code cache,
// initialises the commands' modules (packaged.ts preload; KILN_SEA_PRELOAD_EXCEPT
// names those left to run time) and
// leaves `start` as what the executable runs: it reads this process's
// environment and command line and dispatches. Nothing of the build's process
// (environment, argv, cwd, pid, time, fds) is read before `start`.
// Under plain node with KILN_SEA_TRAIN=DIR it runs the bundle KILN_SEA_BUNDLE
// (the split bundles beside it), starting from the caches already in DIR, and
// at exit writes DIR/NAME.cache for every bundle it compiled: training runs
// one after another add up what each compiled. There node:sea is the
// executable's as the bundle sees it (isSea true, the assets the files beside
// the bundle), so the training runs take the executable's paths.
'use strict';
// Built-in modules by process.getBuiltinModule (node >= 20.16), not the snapshot builder's require, which
// warns at every first use of a module it does not list as supported, at run time too.
const builtin = (id) => process.getBuiltinModule(id);
const { existsSync, readFileSync, writeFileSync } = builtin('node:fs');
const path = builtin('node:path');
const vm = builtin('node:vm');
const v8 = builtin('node:v8');

let building = v8.startupSnapshot.isBuildingSnapshot();
// What kiln.js sees as its file name when it is initialised in the snapshot: the executable, whatever its path.
const SELF = '/proc/self/exe';
// This process's, set by setup() (at build time: the build's files, for the build only).
let packaged = false;
let train;
let file;
let sea;
let extraCa;
// An asset's bytes where the executable holds them (getRawAsset, read-only), not a copy as getAsset makes:
// ~0.7 ms saved for each of kiln.js, a split bundle and their caches at every start.
const raw = (name) => Buffer.from(sea.getRawAsset ? sea.getRawAsset(name) : sea.getAsset(name));
const beside = (name) => path.join(path.dirname(file), name);
/** A bundle's source from the executable (packaged) or from the files beside KILN_SEA_BUNDLE. */
const asset = (name) => (packaged ? raw(name).toString('utf8') : readFileSync(name === 'kiln.js' ? file : beside(name), 'utf8'));
/** The code cache made for a bundle, if there is one (at build time: the trained one in cache/ beside the bundle). */
function cacheOf(name) {
  const dir = train ?? (building ? beside('cache') : undefined);
  if (dir) return existsSync(path.join(dir, `${name}.cache`)) ? readFileSync(path.join(dir, `${name}.cache`)) : undefined;
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
  if (!building && process.env.KILN_SEA_CACHE_REPORT) process.stderr.write(`kiln: code cache ${name}: ${cachedData ? (script.cachedDataRejected ? 'rejected' : 'accepted') : 'none'}\n`);
  if (building && cachedData && script.cachedDataRejected) throw new Error(`sea-loader: the code cache of ${name} was rejected at snapshot build`);
  if (train) compiled.set(name, script);
  return script.runInThisContext();
}
let modules;
const splits = new Map();
/** The exports of a split bundle (scripts/package.mjs), run once. */
function split(name) {
  if (building) throw new Error(`sea-loader: ${name} would be initialised in the startup snapshot; a preloaded module requires it at its top level`);
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
  compile('sea-extra-ca.cjs')(mod.exports, builtin, mod, file, path.dirname(file));
  return mod.exports(builtin, process.env.NODE_EXTRA_CA_CERTS);
}
/** require() of the split bundles: node's, with the LAZY builtins loaded on first use. */
function splitRequire(id) {
  const name = id.startsWith('node:') ? id.slice(5) : id;
  if (LAZY.has(name)) return lazyBuiltin(name);
  if (extraCa && TLS.has(name)) extraCa();
  const mod = builtin(id);
  if (mod === undefined) throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' });
  return mod;
}
// node:child_process, node:crypto, node:dns, node:https, node:tls and node:zlib (plain objects of functions and
// classes) load on first use, in every bundle: commander and many of kiln's modules import them, and `ps`, `images`
// and `--version` never call them; a push or pull to a plain-HTTP registry never calls https or tls (the registry's
// agents import https's Agent and request, and tls's root certificates for a ca_file; loading https loads tls and
// crypto's internals) and a pull of gzip layers need not call zlib. With
// NODE_EXTRA_CA_CERTS set (many CI images set it), naming node:tls installed the extra certificates and
// loaded tls and crypto's internals: ~5 ms of every push's and pull's start, to a registry that may not even
// speak TLS. grpc-js requires dns (its DNS resolver) and zlib (message compression) as it loads, which a
// remote command to an IP address and containerd's unix socket, uncompressed, never call.
// In the startup snapshot they stay proxies: none of them is loaded at build time.
const LAZY = new Set(['child_process', 'crypto', 'dns', 'https', 'tls', 'zlib']);
const lazy = new Map();
// In training kiln.js runs as it does packaged (src/self.ts: helper processes re-run the executable).
const trainingSea = { isSea: () => true };
/** require() of kiln.js: the split bundles' modules from their bundles, the rest as splitRequire gives them. */
function lazyRequire(id) {
  if (train && id === 'node:sea') return trainingSea;
  if (Object.hasOwn(modules, id)) return split(modules[id][0])[modules[id][1]];
  return splitRequire(id);
}
/** Builtin NAME as an object that loads it on first use. */
function lazyBuiltin(name) {
  if (!lazy.has(name)) {
    // A lazy node:tls gets the extra certificates on its first use, not where a module names it.
    const real = () => {
      if (building) throw new Error(`sea-loader: node:${name} used while the startup snapshot is built`);
      if (extraCa && TLS.has(name)) extraCa();
      return builtin(`node:${name}`);
    };
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
/** kiln.js's exports (src/cli/packaged.ts: dispatch, preload), compiled and initialised. */
function load() {
  modules = JSON.parse(asset('modules.json'));
  const mod = { exports: {} };
  compile('kiln.js')(mod.exports, lazyRequire, mod, building ? SELF : file, path.dirname(building ? SELF : file));
  return mod.exports;
}
/** This process's state: where the assets are, the training directory, the extra certificates. */
function setup() {
  sea = builtin('node:sea');
  packaged = sea.isSea();
  train = packaged ? undefined : process.env.KILN_SEA_TRAIN;
  file = packaged ? process.execPath : path.resolve(process.env.KILN_SEA_BUNDLE);
  extraCa = packaged && process.env.NODE_EXTRA_CA_CERTS && hasAsset('sea-extra-ca.cjs') ? extraCaInstaller() : undefined;
  if (extraCa) {
    const fetch = globalThis.fetch;
    globalThis.fetch = function (...args) {
      extraCa();
      return fetch.apply(this, args);
    };
  }
  if (train) process.once('exit', () => compiled.forEach((script, name) => writeFileSync(path.join(train, `${name}.cache`), script.createCachedData())));
}

/**
 * While the snapshot is built, what belongs to the process that will run it throws when read: the environment,
 * argv, cwd, pid, umask, ids, the time, random values, the home and temporary directories, the standard streams.
 * A module that reads one as it initialises fails the package step, naming it. Returns the undo.
 */
function guardProcess() {
  // Only kiln's own code is held to it, directly or through a built-in it calls (node's internals read
  // process.pid for a warning, for one). The position in kiln.js of the read, or undefined.
  const fromKiln = () => {
    const holder = {};
    const { prepareStackTrace, stackTraceLimit } = Error;
    Error.prepareStackTrace = (_, frames) => frames.find((f) => f.getFileName() === 'kiln.js');
    Error.stackTraceLimit = 12;
    Error.captureStackTrace(holder, fromKiln);
    const frame = holder.stack;
    Error.prepareStackTrace = prepareStackTrace;
    Error.stackTraceLimit = stackTraceLimit;
    return frame && `kiln.js:${frame.getLineNumber()}:${frame.getColumnNumber()} (${frame.getFunctionName() ?? 'top level'})`;
  };
  const read = (what, where) => {
    throw new Error(`sea-loader: ${what} read at ${where} while the startup snapshot is built: a module reads it as it loads; read it when called`);
  };
  const undo = [];
  const replace = (obj, key, what) => {
    const d = Object.getOwnPropertyDescriptor(obj, key);
    const real = () => (d.get ? d.get.call(obj) : d.value);
    const get = () => {
      const where = fromKiln();
      return where ? read(what, where) : real();
    };
    Object.defineProperty(obj, key, { configurable: true, get });
    undo.push(() => Object.defineProperty(obj, key, d));
  };
  const os = builtin('node:os');
  for (const key of ['env', 'argv', 'execArgv', 'pid', 'ppid', 'stdin', 'stdout', 'stderr', 'title']) replace(process, key, `process.${key}`);
  for (const key of ['cwd', 'umask', 'getuid', 'geteuid', 'getgid', 'getegid', 'hrtime', 'uptime', 'cpuUsage']) replace(process, key, `process.${key}()`);
  for (const key of ['homedir', 'tmpdir', 'hostname', 'userInfo', 'cpus', 'networkInterfaces']) replace(os, key, `os.${key}()`);
  replace(Date, 'now', 'Date.now()');
  replace(Math, 'random', 'Math.random()');
  const RealDate = Date;
  globalThis.Date = new Proxy(RealDate, {
    construct: (target, args, newTarget) => {
      const where = args.length === 0 && fromKiln();
      return where ? read('new Date()', where) : Reflect.construct(target, args, newTarget);
    },
    apply: (target, self, args) => {
      const where = fromKiln();
      return where ? read('Date()', where) : Reflect.apply(target, self, args);
    },
  });
  undo.push(() => (globalThis.Date = RealDate));
  return () => undo.reverse().forEach((f) => f());
}

if (building) {
  // The build's bundle and its trained caches (package.mjs sets KILN_SEA_BUNDLE for the build); setup() replaces them.
  file = path.resolve(process.env.KILN_SEA_BUNDLE);
  const except = (process.env.KILN_SEA_PRELOAD_EXCEPT ?? '').split(',').filter(Boolean);
  const unguard = guardProcess();
  let kiln;
  const preloaded = (async () => {
    try {
      kiln = load();
      await kiln.preload(except);
    } finally {
      unguard();
    }
  })();
  preloaded.catch((e) => {
    process.exitCode = 1;
    process._rawDebug(`sea-loader: preload failed: ${e?.stack ?? String(e)}`);
  });
  v8.startupSnapshot.setDeserializeMainFunction(() => {
    building = false;
    setup();
    // kiln.js was compiled with its code cache when the snapshot was built (a rejected cache fails the build).
    if (process.env.KILN_SEA_CACHE_REPORT) process.stderr.write('kiln: code cache kiln.js: in the startup snapshot\n');
    kiln.dispatch();
  });
} else {
  setup();
  load().dispatch();
}
