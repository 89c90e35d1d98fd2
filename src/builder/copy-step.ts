/**
 * COPY and ADD as build steps: their sources (context, another stage or
 * image, downloaded URLs) with the content hash the cache key needs, and the
 * copy into the step's overlay with Docker's path, --chown and --chmod rules.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { invalidArgument, notFound } from '../errors.js';
import { parseIgnore, type BuildPlan, type CopyInstruction, type IgnoreMatcher, type Stage } from '../dockerfile/index.js';
import { sha256Digest } from '../oci/digest.js';
import { parseGroup, parsePasswd, readUserDb } from '../runtime/user.js';
import { copyInto, type Owner } from './copy.js';
import { parseChmod } from './chmod.js';
import { matchSources, type Match, type SourceRoot } from './sources.js';
import { download, isUrl, type Downloaded } from './remote.js';
import { stepLocated } from './step-error.js';
import { checkoutGitAdd, gitAddSource, type GitAdd } from './git-add.js';
import type { ImageState } from './state.js';
import type { BuildSession } from './session.js';
import type { CommittedLayer } from './layer-commit.js';
import { DeferredFiles } from './deferred-files.js';

export interface CopySources {
  root: SourceRoot;
  resetOwners: boolean;
  hash: string;
  /** ADD URL sources, downloaded into `scratch` (removed after the step). */
  downloads: Map<string, Downloaded>;
  scratch?: string;
  /** ADD of a git repository: checked out on a cache miss (./git-add.ts). */
  git?: GitAdd;
}

export async function copySources(s: BuildSession, plan: BuildPlan, stage: Stage, inst: CopyInstruction): Promise<CopySources> {
  const git = await gitAddSource(inst, s.signal);
  if (git) return { root: { dir: '', what: `git repository ${git.url}` }, resetOwners: true, hash: git.hash, downloads: new Map(), git };
  const downloads = new Map<string, Downloaded>();
  let scratch: string | undefined;
  const urls = inst.kind === 'add' ? inst.sources.flatMap((x) => (x.kind === 'path' && isUrl(x.path) ? [x.path] : [])) : [];
  if (urls.length > 0) {
    scratch = await s.stepScratch();
    try {
      for (const u of urls) downloads.set(u, await download(u, scratch, inst.checksum, s.signal));
    } catch (e) {
      await rm(scratch, { recursive: true, force: true });
      throw stepLocated(e, inst);
    }
  }
  const remote = [...downloads.entries()].map(([u, d]) => `${u} ${d.name} ${d.digest}`).join('\n');
  const patterns = inst.sources.flatMap((x) => (x.kind === 'path' && !downloads.has(x.path) ? [x.path] : []));
  const heredocs = inst.sources.flatMap((x) => (x.kind === 'heredoc' ? [`${x.heredoc.name}\n${x.heredoc.content}`] : []));
  const exclude = inst.exclude.length > 0 ? parseIgnore(inst.exclude.join('\n'), '--exclude') : undefined;
  if (inst.from === undefined) {
    // The root the hash ahead walked, when there was one: the copy takes that walk (sources.ts takeWalk), not a second.
    const early = takeAhead(s, patterns, inst.exclude);
    const root = early?.root ?? contextRoot(s, exclude);
    const hash = await (early?.hash ?? hashContext(s, root, patterns, inst.exclude));
    return { root, resetOwners: true, hash: sha256Digest(hash + '\n' + heredocs.join('\n') + '\n' + remote), downloads, ...(scratch ? { scratch } : {}) };
  }
  const from = await s.resolveFrom(inst.from, stage);
  return { root: { dir: '', what: from.what, ...(exclude ? { exclude } : {}) }, resetOwners: false, hash: sha256Digest(`${from.key}\n${patterns.join('\n')}` + (heredocs.length ? `\n${heredocs.join('\n')}` : '')), downloads };
}

const contextRoot = (s: BuildSession, exclude: IgnoreMatcher | undefined): SourceRoot => ({ dir: s.contextDir, ignore: s.ignore, what: 'build context', ...(exclude ? { exclude } : {}) });

function hashContext(s: BuildSession, root: SourceRoot, patterns: string[], exclude: string[]): Promise<string> {
  // An agent's synced context: its manifest digest names every byte and mode, so an unchanged one is not walked again.
  const known = s.opts.contextDigest === undefined ? undefined : JSON.stringify([s.opts.contextDigest, exclude]);
  return s.hasher.hashSources(root, patterns, known);
}

/**
 * Context hashes of COPYs named ahead of their step (hashAhead), per build, by patterns and --exclude: each
 * started by startAhead (once the RUN before the COPY has spawned its runc), or else by its step.
 */
const ahead = new WeakMap<BuildSession, Map<string, { root: SourceRoot; start: () => Promise<string>; started?: Promise<string> }>>();

function takeAhead(s: BuildSession, patterns: string[], exclude: string[]): { root: SourceRoot; hash: Promise<string> } | undefined {
  const key = JSON.stringify([patterns, exclude]);
  const named = ahead.get(s)?.get(key);
  ahead.get(s)?.delete(key);
  return named && { root: named.root, hash: named.started ?? named.start() };
}

/**
 * Names what a COPY from the build context will read (./stage.ts calls it before the RUN before it), so its
 * cache key can be hashed while that RUN runs (startAhead); the step takes the result, or the error, as its own.
 */
export function hashAhead(s: BuildSession, inst: CopyInstruction): void {
  if (inst.kind !== 'copy' || inst.from !== undefined) return;
  const patterns = inst.sources.flatMap((x) => (x.kind === 'path' ? [x.path] : []));
  if (patterns.length === 0) return;
  const exclude = inst.exclude.length > 0 ? parseIgnore(inst.exclude.join('\n'), '--exclude') : undefined;
  let m = ahead.get(s);
  if (!m) ahead.set(s, (m = new Map()));
  const root = contextRoot(s, exclude);
  m.set(JSON.stringify([patterns, inst.exclude]), { root, start: () => hashContext(s, root, patterns, inst.exclude) });
}

/**
 * Starts the hashes hashAhead named (a RUN's runc is spawned, or its container has started): the walk runs on
 * this thread, so started before the spawn it would delay the container's start (mount, runc) by its length; now
 * it overlaps runc's and the container's own work.
 */
export function startAhead(s: BuildSession): void {
  for (const named of ahead.get(s)?.values() ?? []) {
    if (named.started) continue;
    named.started = named.start();
    named.started.catch(() => undefined); // the step awaits it
  }
}

/**
 * `final`: no later step reads this step's root (the final stage's last layer step): a COPY's files then go only
 * into its layer. A snapshotter that keeps every layer's root (containerd's) defers every COPY's files the same
 * way, and they are written to the root while the diff reads them (session.ts).
 */
export async function doCopy(s: BuildSession, prev: ImageState, inst: CopyInstruction, src: CopySources, final = false): Promise<CommittedLayer | undefined> {
  const deferred = inst.kind === 'copy' && (final || s.deps.snapshotter.keepsEveryLayer === true) ? new DeferredFiles() : undefined;
  if (src.git) {
    const scratch = await s.stepScratch();
    try {
      const dir = await checkoutGitAdd(src.git, scratch, inst, s.signal);
      return await copyFrom(s, prev, { ...inst, sources: [{ kind: 'path', path: '.' }] }, { dir, what: src.root.what }, true, deferred);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
  if (inst.from === undefined) {
    try {
      return await copyFrom(s, prev, inst, src.root, src.resetOwners, deferred, src.downloads);
    } finally {
      if (src.scratch) await rm(src.scratch, { recursive: true, force: true });
    }
  }
  const view = await s.fromView(inst.from);
  try {
    return await copyFrom(s, prev, inst, { ...src.root, dir: view.dir }, src.resetOwners, deferred);
  } finally {
    await view.release();
  }
}

async function copyFrom(
  s: BuildSession,
  prev: ImageState,
  inst: CopyInstruction,
  root: SourceRoot,
  resetOwners: boolean,
  deferred: DeferredFiles | undefined,
  downloads = new Map<string, Downloaded>(),
): Promise<CommittedLayer | undefined> {
  const patterns = inst.sources.flatMap((x) => (x.kind === 'path' ? [x.path] : []));
  const matches: Match[] = [];
  for (const p of patterns) {
    const got = downloads.get(p);
    if (got) {
      matches.push({ rel: got.name, abs: got.abs, st: got.st, download: true });
      continue;
    }
    if (/^(https?|git):\/\//.test(p)) throw invalidArgument(`${inst.kind.toUpperCase()} ${p}: ${inst.kind === 'add' ? 'git sources are' : 'COPY does not take URLs; ADD does, and URLs are'} not supported here`, { hint: 'use ADD with an http(s) URL, or fetch it in a RUN step' });
    const found = matchSources(root, p);
    if (found === undefined) throw invalidArgument(`${inst.kind.toUpperCase()} ${p}: forbidden path outside the ${root.what}`, { hint: 'sources must be inside the build context' });
    if (found.length === 0 && !/[*?[]/.test(p)) {
      throw notFound(`${inst.kind.toUpperCase()} ${p}: not found in the ${root.what}${root.ignore ? ' (or excluded by .dockerignore)' : ''}`, { hint: 'check the path, it is relative to the context' });
    }
    matches.push(...(inst.parents ? belowPivot(p, found) : found));
  }
  const heredocs = inst.sources.flatMap((x) => (x.kind === 'heredoc' ? [{ name: x.heredoc.name, content: x.heredoc.content }] : []));
  // Every source a wildcard matching nothing: BuildKit's copy allows it (allowEmptyWildcard) and copies nothing, no layer.
  if (matches.length === 0 && heredocs.length === 0) return undefined;
  const workdir = prev.config.config?.WorkingDir || '/';
  const dest = inst.dest.startsWith('/') ? inst.dest : path.posix.join(workdir, inst.dest) + (inst.dest.endsWith('/') || inst.dest === '.' ? '/' : '');
  const many = matches.length + heredocs.length > 1 || patterns.some((p) => /[*?[]/.test(p)) && matches.length > 1;
  if (many && !dest.endsWith('/')) {
    throw invalidArgument(`${inst.kind.toUpperCase()} with more than one source file: the destination must be a directory and end with a /`, { hint: `write ${inst.dest}/` });
  }
  const chmod = inst.chmod === undefined ? undefined : parseChmod(inst.chmod);
  return s.withOverlay(prev, async (rootfs, mounted) => {
    const owner = inst.chown === undefined ? undefined : await resolveChown(rootfs, inst.chown);
    const guard = mounted.guard ? { guard: mounted.guard } : {};
    const defer = deferred && mounted.kind === 'overlay' && !mounted.guard ? { deferred } : {};
    await copyInto(rootfs, { root, resetOwners, matches, heredocs, dest, destIsDir: dest.endsWith('/'), owner, chmod, extract: inst.kind === 'add' && inst.unpack !== false, extractDownloads: inst.unpack === true, parents: inst.parents, ...guard, ...defer });
  }, { deferred, dirXattrsOnly: inst.kind === 'copy' }); // a COPY makes new files without xattrs; ADD may extract some
}

/** `--chown=user[:group]` with names looked up in the image's /etc/passwd and /etc/group. */
async function resolveChown(rootfs: string, spec: string): Promise<Owner> {
  const db = await readUserDb(rootfs);
  const [u = '', g] = spec.split(':', 2) as [string?, string?];
  const num = (x: string) => /^\d+$/.test(x);
  let uid: number;
  if (num(u)) uid = Number(u);
  else {
    const e = parsePasswd(db.passwd ?? '').find((p) => p.name === u);
    if (!e) throw invalidArgument(`--chown=${spec}: unable to find user ${u}: no matching entries in passwd file`);
    uid = e.uid;
  }
  let gid = uid;
  if (g !== undefined && g !== '') {
    if (num(g)) gid = Number(g);
    else {
      const e = parseGroup(db.group ?? '').find((p) => p.name === g);
      if (!e) throw invalidArgument(`--chown=${spec}: unable to find group ${g}: no matching entries in group file`);
      gid = e.gid;
    }
  }
  return { uid, gid };
}

/**
 * COPY --parents `dir/./pattern`: the paths kept under the destination are those below the pivot `dir` (BuildKit's
 * frontend copies `pattern` of `dir`), not the whole path from the context's root.
 */
function belowPivot(source: string, found: Match[]): Match[] {
  const at = source.indexOf('/./');
  if (at < 0) return found;
  const pivot = path.posix.normalize(`/${source.slice(0, at)}`).slice(1);
  if (pivot === '') return found;
  return found.map((m) => (m.rel.startsWith(`${pivot}/`) ? { ...m, rel: m.rel.slice(pivot.length + 1), real: m.real ?? m.rel } : m));
}
