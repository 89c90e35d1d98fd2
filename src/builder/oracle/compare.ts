/**
 * What the oracle compares: a summary of each image's config and its flattened
 * filesystem. Differences are listed one per line; allowances (the intentional
 * differences, each with its reason, defined by the test) normalise both sides
 * first.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ImageConfig } from './image.js';
import type { FsEntry, FsTree } from './flatten.js';

export type Side = 'kiln' | 'buildah';

export interface ConfigSummary {
  Env?: string[];
  Cmd?: string[];
  Entrypoint?: string[];
  WorkingDir?: string;
  User?: string;
  Labels?: Record<string, string>;
  ExposedPorts?: string[];
  Volumes?: string[];
  StopSignal?: string;
  Healthcheck?: Record<string, unknown>;
  OnBuild?: string[];
  Shell?: string[];
  historyCount: number;
}

export function summarize(image: ImageConfig): ConfigSummary {
  const c = image.config ?? {};
  const keys = (o: Record<string, unknown> | null | undefined): string[] | undefined => (o ? Object.keys(o).sort() : undefined);
  const hc = c.Healthcheck ? Object.fromEntries(Object.entries(c.Healthcheck).filter(([, v]) => v !== undefined)) : undefined;
  return {
    Env: c.Env ?? undefined,
    Cmd: c.Cmd ?? undefined,
    Entrypoint: c.Entrypoint ?? undefined,
    WorkingDir: c.WorkingDir,
    User: c.User,
    Labels: c.Labels ?? undefined,
    ExposedPorts: keys(c.ExposedPorts),
    Volumes: keys(c.Volumes),
    StopSignal: c.StopSignal,
    Healthcheck: hc,
    OnBuild: c.OnBuild ?? undefined,
    Shell: c.Shell ?? undefined,
    historyCount: image.history?.length ?? 0,
  };
}

/** One intentional difference between the builders, applied to both sides before comparing. */
export interface Allowance {
  name: string;
  why: string;
  /** Only for these cases (default: every case). */
  cases?: string[];
  config?: (summary: ConfigSummary, side: Side) => void;
  fs?: (trees: Record<Side, FsTree>, configs: Record<Side, ConfigSummary>) => void;
}

export interface Built {
  config: ConfigSummary;
  tree: FsTree;
}

const show = (v: unknown): string => (v === undefined ? '(unset)' : JSON.stringify(v));

function describeEntry(e: FsEntry): string {
  const parts = [e.type, e.mode, `${e.uid}:${e.gid}`];
  if (e.size !== undefined && e.type === 'file') parts.push(`${e.size}B`, e.sha256!.slice(0, 12));
  if (e.target !== undefined) parts.push(`-> ${e.target}`);
  if (e.hardlinkGroup !== undefined) parts.push(`link-group ${e.hardlinkGroup}`);
  return parts.join(' ');
}

/** Every difference between kiln's and buildah's result, after the allowances; empty when they match. */
export function compareBuilds(kiln: Built, buildah: Built, allowances: Allowance[], caseName: string): string[] {
  const configs: Record<Side, ConfigSummary> = { kiln: structuredClone(kiln.config), buildah: structuredClone(buildah.config) };
  const trees: Record<Side, FsTree> = { kiln: new Map(kiln.tree), buildah: new Map(buildah.tree) };
  for (const a of allowances) {
    if (a.cases && !a.cases.includes(caseName)) continue;
    if (a.config) for (const side of ['kiln', 'buildah'] as const) a.config(configs[side], side);
    a.fs?.(trees, configs);
  }
  const diffs: string[] = [];
  const fields = new Set([...Object.keys(configs.kiln), ...Object.keys(configs.buildah)]) as Set<keyof ConfigSummary>;
  for (const f of fields) {
    const k = configs.kiln[f];
    const b = configs.buildah[f];
    if (!isDeepStrictEqual(k, b)) diffs.push(`config ${f}: kiln ${show(k)}, buildah ${show(b)}`);
  }
  const paths = [...new Set([...trees.kiln.keys(), ...trees.buildah.keys()])].sort();
  for (const p of paths) {
    const k = trees.kiln.get(p);
    const b = trees.buildah.get(p);
    if (!k) diffs.push(`fs ${p}: only in buildah (${describeEntry(b!)})`);
    else if (!b) diffs.push(`fs ${p}: only in kiln (${describeEntry(k)})`);
    else if (!isDeepStrictEqual(k, b)) diffs.push(`fs ${p}: kiln ${describeEntry(k)}, buildah ${describeEntry(b)}`);
  }
  return diffs;
}

/** Drops `path` from a tree when it is an empty placeholder there: an empty file, or a directory with nothing in it. */
export function dropIfPlaceholder(tree: FsTree, p: string): boolean {
  const e = tree.get(p);
  if (!e) return false;
  if ((e.type === 'file' && e.size === 0) || (e.type === 'dir' && ![...tree.keys()].some((k) => k.startsWith(p + '/')))) {
    tree.delete(p);
    return true;
  }
  return false;
}

/** `/a/b/c` → [`/a/b/c`, `/a/b`, `/a`]: a path and its parents, deepest first. */
export function withParents(p: string): string[] {
  const out: string[] = [];
  for (let q = p.replace(/\/+$/, ''); q && q !== '/'; q = q.slice(0, q.lastIndexOf('/'))) out.push(q);
  return out;
}

/** Drops a directory that exists only on `side` and is empty there, then its parents as they become so. */
export function dropOneSidedEmptyDirs(trees: Record<Side, FsTree>, side: Side, p: string): void {
  const other = side === 'kiln' ? trees.buildah : trees.kiln;
  for (const q of withParents(p)) {
    if (!trees[side].has(q)) continue;
    if (other.has(q) || trees[side].get(q)!.type !== 'dir' || !dropIfPlaceholder(trees[side], q)) return;
  }
}
