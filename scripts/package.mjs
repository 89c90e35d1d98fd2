// Packages kiln as one executable, dist/kiln (`npm run package`): esbuild
// bundles src/cli/packaged.ts and its dependencies into one CommonJS script,
// Node's single-executable-application support turns it into a blob (with a
// V8 code cache, and the split bundles as assets), and postject injects the
// blob into a copy of this node binary. The loader (scripts/sea-loader.cjs)
// reads assets in place with node:sea's getRawAsset; helper processes re-run
// the executable (src/self.ts).
// Idempotent and fast when nothing changed: the inputs' hash is kept in
// dist/sea/inputs.sha256 and the work is skipped while it matches.
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(repo);
const out = 'dist/sea';
const exe = 'dist/kiln';
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/** Every file the executable is made from: sources, lockfile, the generated protobuf code, this script, the node binary. */
function inputsHash() {
  const h = createHash('sha256');
  const files = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) files.push(p);
    }
  };
  walk('src');
  files.sort();
  files.push('package.json', 'package-lock.json', 'proto/agent-api.cjs', 'proto/containerd-api.cjs', 'scripts/package.mjs', 'scripts/sea-loader.cjs', 'scripts/sea-train.mjs', 'scripts/sea-extra-ca.cjs', 'scripts/lib/lazy-extra-ca.mjs');
  for (const f of files) h.update(`${f}\0`).update(readFileSync(f)).update('\0');
  const node = statSync(process.execPath);
  h.update(`${process.execPath}\0${process.version}\0${node.size}\0${node.mtimeMs}\0${process.env.KILN_PACKAGE_SNAPSHOT ?? ''}`);
  return h.digest('hex');
}

const hash = inputsHash();
const stamp = `${out}/inputs.sha256`;
if (existsSync(exe) && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) process.exit(0);
const started = Date.now();
rmSync(stamp, { force: true });
mkdirSync(out, { recursive: true });

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
// Optional native helpers that dependencies try to require (ws, node-fetch, debug): not installed, so
// bundled as modules that fail to load, as a missing package would — otherwise the executable's
// require() is reached and Node warns that it loads only built-in modules.
const absentOptional = {
  name: 'absent-optional',
  setup(b) {
    // long.js too: protobuf.js takes it when it is there and otherwise decodes 64-bit fields to numbers, which
    // is what kiln asks for (longs: Number); loading it compiles a WebAssembly module on every gRPC command's
    // start. (grpc-js's channelz and ORCA load proto-loader, which needs it; kiln uses neither.)
    b.onResolve({ filter: /^(bufferutil|utf-8-validate|encoding|supports-color|long)$/ }, (a) => ({ path: a.path, namespace: 'absent' }));
    b.onLoad({ filter: /.*/, namespace: 'absent' }, (a) => ({ contents: `throw Object.assign(new Error("Cannot find module '${a.path}'"), { code: 'MODULE_NOT_FOUND' });`, loader: 'js' }));
  },
};
// The startup snapshot holds the modules of every command initialised but these: `system` and `info` call
// node:child_process as they load (a built-in the loader keeps for run time).
const PRELOAD_EXCEPT = ['system', 'info'];
const esbuild = await import('esbuild');
// Large dependencies that only some commands use are bundled apart, each an asset the loader compiles
// on the first require of one of its module ids (modules.json maps id → asset and export): `images`,
// `ps` and `--version` then neither decode nor deserialize them. A package and what it alone uses go
// into one split, so no module is in two bundles.
// An ES module package gets only the names kiln imports (tree-shaken as in one bundle); a CommonJS one
// (require) its whole module.exports, which is what bundling it inline gives, each package run on its
// first require only (a getter). The generated protobuf code (#proto/…, scripts/protos-static.mjs) goes with
// grpc-js for the agent API, and apart for containerd's (~0.5 MB that the remote client never reads); each
// bundles protobufjs/minimal (no kiln module imports it), whose two copies share no state kiln relies on.
const SPLITS = {
  'kube.cjs': { ids: ['@kubernetes/client-node', '@kubernetes/client-node/dist/web-socket-handler.js'], by: 'names' },
  // The port-forward alone (and ws), for the kube backend's everyday command, which makes no other
  // call through the library (src/kube/lite-config.ts): kube.cjs, the API groups, stays unloaded.
  // Its few modules are also inside kube.cjs; they hold no state that the two copies would share.
  'kube-forward.cjs': { ids: ['@kubernetes/client-node/dist/portforward.js'], by: 'names' },
  'grpc.cjs': { ids: ['@grpc/grpc-js', '#proto/agent-api'], by: 'require' },
  'containerd-api.cjs': { ids: ['#proto/containerd-api'], by: 'require' },
  'tar.cjs': { ids: ['tar-stream'], by: 'require' },
  'yaml.cjs': { ids: ['yaml'], by: 'require' },
};
/** The names kiln's sources import from a module id (its value imports: type-only ones need nothing at run time). */
function importedNames(id) {
  const names = new Set();
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) {
        const text = readFileSync(p, 'utf8');
        const from = `from '${id}'`;
        if (!text.includes(from)) continue;
        for (const m of text.matchAll(/import\s+(type\s+)?([^;]*?)\s+from\s+'([^']+)'/g)) {
          if (m[3] !== id || m[1]) continue;
          const braces = /^\{([^}]*)\}$/.exec(m[2].trim());
          if (!braces) throw new Error(`package: ${p} imports ${id} other than by name; list what it uses`);
          for (const n of braces[1].split(',').map((x) => x.trim()).filter(Boolean)) if (!n.startsWith('type ')) names.add(n.split(/\s+as\s+/)[0]);
        }
      }
    }
  };
  walk('src');
  return [...names].sort();
}
const modules = {};
for (const [asset, { ids, by }] of Object.entries(SPLITS)) {
  const entry =
    by === 'names'
      ? ids.map((id, i) => `import { ${importedNames(id).join(', ')} } from ${JSON.stringify(id)};\nexport const m${i} = { ${importedNames(id).join(', ')} };`).join('\n')
      : `module.exports = { ${ids.map((id, i) => `get m${i}() { return require(${JSON.stringify(id)}); }`).join(', ')} };`;
  await esbuild.build({
    stdin: { contents: entry, resolveDir: repo, loader: 'js' },
    outfile: `${out}/${asset}`,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [absentOptional],
  });
  ids.forEach((id, i) => (modules[id] = [asset, `m${i}`]));
}
writeFileSync(`${out}/modules.json`, JSON.stringify(modules));
await esbuild.build({
  entryPoints: ['src/cli/packaged.ts'],
  outfile: `${out}/kiln.cjs`,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  // import.meta.url of every module becomes the executable's own URL; no module reads files beside it once packaged.
  define: { 'import.meta.url': '__kilnMetaUrl', __KILN_VERSION__: JSON.stringify(version) },
  banner: { js: 'const __kilnMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
  plugins: [absentOptional],
  external: Object.keys(modules),
});

// Every bundle one-byte: one character past Latin-1 (esbuild escapes them in strings, not in regular expression
// literals) makes V8 hold the whole bundle's source as a two-byte string, twice its size in the heap and the snapshot.
for (const f of ['kiln.cjs', ...Object.keys(SPLITS)]) {
  const text = readFileSync(`${out}/${f}`, 'utf8');
  const at = text.search(/[^\u0000-\u00ff]/);
  if (at >= 0) throw new Error(`package: ${out}/${f} has ${JSON.stringify(text[at])} at ${at} (…${text.slice(Math.max(0, at - 60), at + 20)}…); escape it in the source`);
}
// The code caches: everyday commands run under the loader (scripts/sea-train.mjs), which keeps what V8
// compiled for each bundle in ${out}/cache/NAME.cache.
rmSync(`${out}/cache`, { recursive: true, force: true });
mkdirSync(`${out}/cache`);
await (await import('./sea-train.mjs')).train(`${out}/kiln.cjs`, `${out}/cache`);
const caches = Object.fromEntries(readdirSync(`${out}/cache`).map((f) => [f, `${out}/cache/${f}`]));
// The executable's node with NODE_EXTRA_CA_CERTS left to the loader (scripts/lib/lazy-extra-ca.mjs).
const { renameExtraCaVariable } = await import('./lib/lazy-extra-ca.mjs');
const nodeBinary = readFileSync(process.execPath);
const lazyExtraCa = renameExtraCaVariable(nodeBinary);
// The startup snapshot (KILN_PACKAGE_SNAPSHOT=0 leaves it out, to compare): the loader compiles kiln.js with
// its trained cache and initialises the commands' modules at package time; kiln.js and its cache are then in
// the snapshot, not assets.
const snapshot = process.env.KILN_PACKAGE_SNAPSHOT !== '0';
writeFileSync(
  `${out}/sea-config.json`,
  JSON.stringify({
    main: 'scripts/sea-loader.cjs',
    output: `${out}/kiln.blob`,
    disableExperimentalSEAWarning: true,
    ...(snapshot ? { useSnapshot: true } : {}),
    assets: {
      ...(snapshot ? {} : { 'kiln.js': `${out}/kiln.cjs` }),
      ...Object.fromEntries(Object.entries(caches).filter(([name]) => !snapshot || name !== 'kiln.js.cache')),
      'modules.json': `${out}/modules.json`,
      ...Object.fromEntries(Object.keys(SPLITS).map((a) => [a, `${out}/${a}`])),
      ...(lazyExtraCa ? { 'sea-extra-ca.cjs': 'scripts/sea-extra-ca.cjs' } : {}),
    },
  }),
);
// Its one line of output (the blob's name) is kept back; a failure throws with it.
execFileSync(process.execPath, ['--experimental-sea-config', `${out}/sea-config.json`], {
  stdio: ['ignore', 'pipe', 'pipe'],
  env: { ...process.env, KILN_SEA_BUNDLE: `${out}/kiln.cjs`, KILN_SEA_PRELOAD_EXCEPT: PRELOAD_EXCEPT.join(',') },
});

const tmp = `${exe}.tmp`;
writeFileSync(tmp, nodeBinary);
chmodSync(tmp, 0o755);
const { inject } = await import('postject');
// postject's ELF reader warns about the notes sections of node's binary; they are left as they are.
const warn = console.warn;
console.warn = () => undefined;
try {
  await inject(tmp, 'NODE_SEA_BLOB', readFileSync(`${out}/kiln.blob`), { sentinelFuse: FUSE });
} finally {
  console.warn = warn;
}
// Node itself warns at start about an extra-certificates file it cannot read: this one must not.
const started1 = spawnSync(tmp, ['--version'], { env: { ...process.env, NODE_EXTRA_CA_CERTS: '/nonexistent/kiln-package-check.pem' }, encoding: 'utf8' });
if (lazyExtraCa && (started1.status !== 0 || /extra certs/.test(started1.stderr))) {
  throw new Error(`package: ${tmp} still reads NODE_EXTRA_CA_CERTS at start (${started1.stderr.trim()})`);
}
renameSync(tmp, exe);
writeFileSync(stamp, hash);
process.stderr.write(`package: ${exe} (${(statSync(exe).size / 1048576).toFixed(1)} MiB) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
