// The import graph of src/ (tests aside) must keep its shape: no backend imports another
// (engine/local, containerd, remote, kube; the kube backend is given the remote client by the CLI),
// image/ imports nothing from engine/, and no file reaches itself through imports (type-only ones
// count), and no module is imported dynamically by its package name: in the packaged executable's
// CommonJS bundle such an import() stays an ES import a single executable cannot resolve (import a
// local module that imports the package instead, as src/util/yaml-parse.ts). Prints each breach;
// exits 1 on any.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
const root = path.resolve(process.argv[2] ?? 'src');
const files = readdirSync(root, { recursive: true }).filter((f) => /\.ts$/.test(f) && !/\.test\.ts$|\.d\.ts$/.test(f)).map((f) => f.split(path.sep).join('/'));
const graph = new Map(files.map((f) => [f, [...readFileSync(path.join(root, f), 'utf8').matchAll(/(?:^|\s)(?:import|export)\s[^'";]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)|(?:^|\s)import\s*['"](\.[^'"]+)['"]/g)]
  .map((m) => path.posix.normalize(path.posix.join(path.posix.dirname(f), (m[1] ?? m[2] ?? m[3]).replace(/\.js$/, '.ts'))))]));
const backend = (f) => /^engine\/(local|containerd|remote|kube)\//.exec(f)?.[1];
const bad = [];
for (const [f, deps] of graph) for (const d of deps) {
  if (backend(f) && backend(d) && backend(f) !== backend(d)) bad.push(`${f} → ${d}: one backend imports another; move what both need down (src/image, src/engine/store)`);
  if (f.startsWith('image/') && d.startsWith('engine/')) bad.push(`${f} → ${d}: image/ must not import from engine/`);
}
for (const f of files) {
  for (const m of readFileSync(path.join(root, f), 'utf8').matchAll(/import\(\s*['"]([^.'"][^'"]*)['"]\s*\)/g)) {
    if (!m[1].startsWith('node:')) bad.push(`${f}: import('${m[1]}') by package name; the packaged executable cannot resolve it (import a local module that imports it)`);
  }
}
const state = new Map(); // 1 = on the path, 2 = done
const visit = (f, trail) => {
  if (state.get(f) === 2 || !graph.has(f)) return;
  if (state.get(f) === 1) return void bad.push(`import cycle: ${[...trail.slice(trail.indexOf(f)), f].join(' → ')}`);
  state.set(f, 1);
  for (const d of graph.get(f)) visit(d, [...trail, f]);
  state.set(f, 2);
};
for (const f of graph.keys()) visit(f, []);
for (const b of bad) console.error(b);
console.log(`imports: ${files.length} files, ${[...graph.values()].flat().length} imports, ${bad.length} problem(s)`);
process.exit(bad.length > 0 ? 1 : 0);
