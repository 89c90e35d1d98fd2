/** The manifest delta against its definitions: what diffManifest and applyDelta must give, whatever their shortcuts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDelta, canonicalEntry, comparePaths, diffManifest, manifestDigest, type ManifestEntry as E } from './manifest.js';

test('manifest delta: random changes to a sorted manifest give what the whole-manifest definitions give (sort, canonical lines)', async () => {
  // The definitions: a delta is every entry whose canonical line differs, every path gone; applying it is a sort.
  const refDiff = (a: E[], b: E[]) => {
    const old = new Map(a.map((e) => [e.path, JSON.stringify(canonicalEntry(e))]));
    const now = new Set(b.map((e) => e.path));
    return { entries: b.filter((e) => old.get(e.path) !== JSON.stringify(canonicalEntry(e))), remove: a.filter((e) => !now.has(e.path)).map((e) => e.path) };
  };
  const refApply = (a: E[], entries: E[], remove: string[]) => {
    const m = new Map(a.map((e) => [e.path, e]));
    for (const p of remove) m.delete(p);
    for (const e of entries) m.set(e.path, e);
    return [...m.values()].sort((x, y) => comparePaths(x.path, y.path));
  };
  let seed = 7;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const names = ['a', 'a-b', 'a.b', 'b', 'é', 'Z', 'z0', 'a_b'];
  const file = (p: string): E => ({ path: p, type: 'file', mode: 0o644, mtimeMs: 1000 + rnd(3), size: rnd(3), digest: `sha256:${String(rnd(3)).repeat(64)}` });
  const dirs = names.flatMap((a) => [a, ...names.slice(0, 4).map((b) => `${a}/${b}`)]);
  const all = [...dirs.map((p): E => ({ path: p, type: 'dir', mode: 0o755, mtimeMs: 1 })), ...dirs.flatMap((d) => names.map((n) => `${d}/f${n}`)).map(file)];
  const base = refApply([], all.filter(() => rnd(3) > 0), []);
  for (let round = 0; round < 200; round++) {
    const next = refApply([], [...base.filter(() => rnd(10) > 0).map((e) => (rnd(6) === 0 && e.type === 'file' ? file(e.path) : e)), ...all.filter(() => rnd(30) === 0)], []);
    const d = diffManifest({ entries: base }, { entries: next });
    assert.deepEqual(d, refDiff(base, next), `round ${round}: the delta`);
    const got = applyDelta({ entries: base }, d.entries, d.remove).entries;
    assert.deepEqual(got, refApply(base, d.entries, d.remove), `round ${round}: the manifest the delta makes`);
    assert.equal(manifestDigest({ entries: got }), manifestDigest({ entries: next }));
    // A delta in any order, with a path both removed and sent again, lands the same.
    const shuffled = [...d.entries].sort(() => rnd(3) - 1);
    const again = next[rnd(next.length)]!;
    assert.deepEqual(applyDelta({ entries: base }, [...shuffled, again], [...d.remove, again.path]).entries, refApply(base, [...shuffled, again], [...d.remove, again.path]));
  }
});
