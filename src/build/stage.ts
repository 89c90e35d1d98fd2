/**
 * Runs one stage of a plan: its base (image, scratch or an earlier stage),
 * the base's ONBUILD triggers, then each instruction expanded in the stage's
 * scope. Layer steps (RUN, COPY, ADD, WORKDIR) look their key up in the
 * cache first and only run on a miss; config steps are pure.
 */
import { randomBytes } from 'node:crypto';
import { lstatSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { invalidArgument, isKilnError, KilnError, notFound } from '../errors.js';
import {
  buildInstruction,
  DockerfileError,
  expandInstruction,
  parseDockerfile,
  parseIgnore,
  runScript,
  StageScope,
  type BuildPlan,
  type CopyInstruction,
  type Instruction,
  type RunInstruction,
  type Stage,
} from '../dockerfile/index.js';
import { newConfig } from '../oci/config.js';
import { hostPlatform } from '../oci/platform.js';
import { sha256Digest } from '../oci/digest.js';
import { resolveInRoot } from '../layer/tar.js';
import { DEFAULT_PATH } from '../runtime/defaults.js';
import { parseGroup, parsePasswd, readUserDb, resolveUser } from '../runtime/user.js';
import { applyConfigInstruction, argvOf, createdBy, resolveWorkdir, shellOf, type StageFlags } from './config-step.js';
import { copyInto, mkdirsOwned, type Owner } from './copy.js';
import { prepareMounts } from './mounts.js';
import { executeRun, RunFailed } from './run-step.js';
import { matchSources, type Match, type SourceRoot } from './sources.js';
import { download, isUrl, type Downloaded } from './remote.js';
import { rm } from 'node:fs/promises';
import { cloneConfig, nextKey, unpackState, type ImageState } from './state.js';
import type { BuildSession } from './session.js';
import type { CommittedLayer } from './layer-commit.js';
import type { StepInfo } from './types.js';

const HISTORY_COMMENT = 'kiln.dockerfile.v0';
const LAYER_KINDS = new Set(['run', 'copy', 'add', 'workdir']);

export async function runStage(s: BuildSession, plan: BuildPlan, stage: Stage): Promise<ImageState> {
  const label = plan.stages.length === 1 && plan.stageCount === 1 ? '' : `${stage.name ?? `stage-${stage.index}`} `;
  let k = 1;
  const fromStep = s.step(`[${label}1/${1 + stage.instructions.filter((i) => LAYER_KINDS.has(i.kind)).length}] FROM ${describeBase(stage)}`);
  let state: ImageState;
  const t0 = performance.now();
  s.progress.emit({ kind: 'start', step: fromStep });
  try {
    state = await baseState(s, stage);
  } catch (e) {
    s.progress.emit({ kind: 'error', step: fromStep, seconds: (performance.now() - t0) / 1000, message: (e as Error).message });
    throw e;
  }
  s.progress.emit({ kind: 'done', step: fromStep, seconds: (performance.now() - t0) / 1000 });

  const scope = new StageScope(plan, state.config.config?.Env ?? []);
  const flags: StageFlags = { cmdSet: false };
  const triggers = (state.config.config?.OnBuild ?? []).map((t) => onbuildInstruction(t, stage));
  if (state.config.config?.OnBuild) {
    state.config.config.OnBuild = null;
  }
  const escape = plan.directives.escape;
  const total = 1 + [...triggers, ...stage.instructions].filter((i) => LAYER_KINDS.has(i.kind)).length;
  for (const raw of [...triggers, ...stage.instructions]) {
    s.signal?.throwIfAborted();
    const inst = expandInstruction(raw, scope.get, { escape });
    if (inst.kind === 'arg') scope.declare(inst);
    if (inst.kind === 'env') scope.setEnv(inst);
    const isLayer = LAYER_KINDS.has(inst.kind);
    if (isLayer) k++;
    const step = isLayer ? s.step(`[${label}${k}/${total}] ${createdBy(inst, shellOf(state.config.config)).replace(/^RUN \S+ -c /, 'RUN ')}`) : undefined;
    state = await runStep(s, plan, stage, state, inst, scope, flags, step);
  }
  return state;
}

function describeBase(stage: Stage): string {
  if (stage.base.kind === 'image') return stage.base.ref;
  if (stage.base.kind === 'scratch') return 'scratch';
  return stage.from.image;
}

function onbuildInstruction(trigger: string, stage: Stage): Instruction {
  const parsed = parseDockerfile(trigger + '\n', { file: `ONBUILD of ${describeBase(stage)}` });
  const node = parsed.nodes[0];
  if (!node) throw invalidArgument(`empty ONBUILD trigger in ${describeBase(stage)}`);
  const inst = buildInstruction(node, stage.from.loc.file);
  return { ...inst, loc: { ...inst.loc, startLine: stage.from.loc.startLine } };
}

async function baseState(s: BuildSession, stage: Stage): Promise<ImageState> {
  let state: ImageState;
  if (stage.base.kind === 'stage') {
    const prev = s.stageResults.get(stage.base.index);
    if (!prev) throw invalidArgument(`stage ${stage.base.index} was not built before ${stage.name ?? stage.index}`);
    state = { config: cloneConfig(prev.config), layers: [...prev.layers], key: prev.key, steps: [...(prev.steps ?? [])] };
  } else if (stage.base.kind === 'scratch') {
    const config = newConfig(stage.platform ?? hostPlatform());
    state = { config, layers: [], key: sha256Digest('scratch') };
  } else {
    const img = await s.deps.image(stage.base.ref);
    const config = cloneConfig(img.config);
    config.history ??= [];
    state = { config, layers: [...img.manifest.layers], key: nextKey('image', img.id) };
  }
  const c = (state.config.config ??= {});
  if (!(c.Env ?? []).some((kv) => kv.startsWith('PATH='))) c.Env = [...(c.Env ?? []), `PATH=${DEFAULT_PATH}`];
  return state;
}

async function runStep(
  s: BuildSession,
  plan: BuildPlan,
  stage: Stage,
  prev: ImageState,
  inst: Instruction,
  scope: StageScope,
  flags: StageFlags,
  step: StepInfo | undefined,
): Promise<ImageState> {
  const state: ImageState = { config: cloneConfig(prev.config), layers: [...prev.layers], key: prev.key, steps: prev.steps ?? [] };
  const shell = shellOf(prev.config.config);
  const { loc, ...body } = inst;
  void loc;
  const t0 = performance.now();

  // Config-only instructions.
  if (inst.kind !== 'run' && inst.kind !== 'copy' && inst.kind !== 'add' && inst.kind !== 'workdir') {
    applyConfigInstruction(state.config, inst, flags);
    state.key = nextKey(prev.key, JSON.stringify(body));
    state.steps = [...state.steps!, state.key];
    await addHistory(s, state, createdBy(inst, shell), undefined);
    return state;
  }

  let extra = '';
  if (inst.kind === 'run') extra = JSON.stringify({ env: scope.runEnv(), mounts: inst.mounts.filter((m) => m.type !== 'secret'), net: s.network(inst), hosts: s.opts.addHosts ?? [] });
  let sources: CopySources | undefined;
  if (inst.kind === 'copy' || inst.kind === 'add') {
    sources = await copySources(s, plan, stage, inst);
    extra = sources.hash;
  }
  const stepKey = nextKey(prev.key, JSON.stringify(body), extra);
  if (inst.kind === 'workdir') applyConfigInstruction(state.config, inst, flags);

  s.progress.emit({ kind: 'start', step: step! });
  const hit = await s.cache.get(stepKey);
  if (hit) {
    s.progress.emit({ kind: 'cached', step: step! });
    s.cachedSteps++;
    state.key = stepKey;
    state.steps = [...state.steps!, stepKey];
    appendLayer(state, hit.layer);
    await addHistory(s, state, createdBy(inst, shell), hit.layer, hit.created);
    return state;
  }
  let layer: CommittedLayer | undefined;
  try {
    s.signal?.throwIfAborted();
    if (inst.kind === 'run') layer = await doRun(s, prev, inst, scope, step!);
    else if (inst.kind === 'workdir') layer = await doWorkdir(s, prev, state.config.config?.WorkingDir ?? '/');
    else layer = await doCopy(s, prev, inst, sources!);
  } catch (e) {
    const seconds = (performance.now() - t0) / 1000;
    if (s.signal?.aborted && e === s.signal.reason) {
      // Stopped because the build was cancelled or another stage failed: that error is the one to report.
      s.progress.emit({ kind: 'error', step: step!, seconds, message: 'CANCELED' });
      throw e;
    }
    const err = stepError(e, inst, step!);
    s.progress.emit({ kind: 'error', step: step!, seconds, message: err.message });
    throw err;
  }
  s.ranSteps++;
  const created = s.now();
  await s.cache.put(stepKey, { created, ...(layer ? { layer } : {}) });
  state.key = stepKey;
  state.steps = [...state.steps!, stepKey];
  appendLayer(state, layer);
  await addHistory(s, state, createdBy(inst, shell), layer, created);
  s.progress.emit({ kind: 'done', step: step!, seconds: (performance.now() - t0) / 1000 });
  return state;
}

function appendLayer(state: ImageState, layer: CommittedLayer | undefined): void {
  if (!layer) return;
  state.layers.push(layer.descriptor);
  state.config.rootfs = { type: 'layers', diff_ids: [...state.config.rootfs.diff_ids, layer.diffId] };
}

async function addHistory(s: BuildSession, state: ImageState, by: string, layer: CommittedLayer | undefined, created?: string): Promise<void> {
  let when = created;
  if (when === undefined) {
    // Config steps have no layer to cache, but their time is cached too, so a rebuild gives the same image ID.
    const rec = await s.cache.get(state.key);
    when = rec?.created ?? s.now();
    if (!rec) await s.cache.put(state.key, { created: when });
  }
  state.config.history = [...(state.config.history ?? []), { created: when, created_by: by, comment: HISTORY_COMMENT, ...(layer ? {} : { empty_layer: true }) }];
  state.config.created = when;
}

function stepLocated(e: unknown, inst: Instruction): unknown {
  if (isKilnError(e) && !(e instanceof DockerfileError)) return new KilnError(e.code, `${inst.loc.file}:${inst.loc.startLine}: ${e.message}`, { hint: e.hint, cause: e, exitCode: e.exitCode });
  return e;
}

function stepError(e: unknown, inst: Instruction, step: StepInfo): KilnError {
  const where = `${inst.loc.file}:${inst.loc.startLine}`;
  if (e instanceof RunFailed) {
    const cmd = inst.kind === 'run' ? inst.loc.original.replace(/\s+/g, ' ').trim() : '';
    const tail = e.tail.length > 0 ? `\n  last output:\n${e.tail.map((l) => `    ${l}`).join('\n')}` : '';
    const what = e.startError ? e.startError.message : `exit code ${e.exitCode}`;
    return new KilnError('FAILED_PRECONDITION', `${where}: step ${step.name.split(']')[0]}] failed: \`${cmd}\`: ${what}${tail}`, {
      exitCode: 1,
      cause: e,
    });
  }
  if (e instanceof DockerfileError || isKilnError(e, 'CANCELLED')) return e as KilnError;
  if (isKilnError(e)) return new KilnError(e.code, `${where}: ${e.message}`, { hint: e.hint, cause: e, exitCode: e.exitCode });
  return new KilnError('INTERNAL', `${where}: ${(e as Error).message}`, { cause: e });
}

async function doRun(s: BuildSession, prev: ImageState, inst: RunInstruction, scope: StageScope, step: StepInfo): Promise<CommittedLayer> {
  const chainDir = await unpackState(s.deps.snapshotter, s.deps.content, prev);
  const c = prev.config.config ?? {};
  const workdir = c.WorkingDir || '/';
  const scratch = path.join(s.stateDir, 'scratch', randomBytes(6).toString('hex'));
  const views: (() => Promise<void>)[] = [];
  const fromDir = async (f: string) => {
    const v = await s.fromView(f);
    views.push(v.release);
    return v.dir;
  };
  let prepared;
  try {
    prepared = await prepareMounts({ root: s.deps.root, scratch, contextDir: s.contextDir, secrets: s.opts.secrets ?? [], ssh: s.opts.ssh ?? [], workdir, fromDir }, inst.mounts);
  } catch (e) {
    for (const release of views) await release();
    throw e;
  }
  try {
    let args: string[];
    const script = runScript(inst);
    const mounts = [...prepared.mounts];
    if (script?.shebang) {
      const file = path.join(scratch, 'heredoc');
      writeFileSync(file, script.script, { mode: 0o755 });
      mounts.push({ destination: '/dev/pipes/heredoc', type: 'bind', source: file, options: ['rbind', 'ro'] });
      args = ['/dev/pipes/heredoc'];
    } else if (script) {
      args = [...shellOf(c), script.script];
    } else {
      args = argvOf(inst.command, shellOf(c));
    }
    const t0 = performance.now();
    return await executeRun(s.runDeps, {
      chainDir,
      diffIds: prev.config.rootfs.diff_ids,
      config: { Env: scope.runEnv(), User: c.User, WorkingDir: workdir },
      args,
      network: s.network(inst),
      addHosts: s.opts.addHosts,
      mounts,
      env: prepared.env,
      signal: s.signal,
      onOutput: (stream, text) => s.progress.emit({ kind: 'log', step, stream, text, seconds: (performance.now() - t0) / 1000 }),
    });
  } finally {
    await prepared.cleanup();
    for (const release of views) await release();
  }
}

async function doWorkdir(s: BuildSession, prev: ImageState, dir: string): Promise<CommittedLayer | undefined> {
  const comps = dir.split('/').filter(Boolean);
  const user = prev.config.config?.User;
  // An existing directory changes nothing, so the step has no layer. BuildKit makes a new one owned by the USER.
  return s.withOverlay(prev, async (rootfs) => {
    let owner: Owner | undefined;
    if (user) {
      const u = resolveUser(user, await readUserDb(rootfs));
      owner = { uid: u.uid, gid: u.gid };
    }
    mkdirsOwned(rootfs, comps, owner);
  });
}

interface CopySources {
  root: SourceRoot;
  resetOwners: boolean;
  hash: string;
  /** ADD URL sources, downloaded into `scratch` (removed after the step). */
  downloads: Map<string, Downloaded>;
  scratch?: string;
}

async function copySources(s: BuildSession, plan: BuildPlan, stage: Stage, inst: CopyInstruction): Promise<CopySources> {
  const downloads = new Map<string, Downloaded>();
  let scratch: string | undefined;
  const urls = inst.kind === 'add' ? inst.sources.flatMap((x) => (x.kind === 'path' && isUrl(x.path) ? [x.path] : [])) : [];
  if (urls.length > 0) {
    scratch = path.join(s.stateDir, 'scratch', randomBytes(6).toString('hex'));
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
    const root: SourceRoot = { dir: s.contextDir, ignore: s.ignore, what: 'build context', ...(exclude ? { exclude } : {}) };
    const hash = await s.hasher.hashSources(root, patterns);
    return { root, resetOwners: true, hash: sha256Digest(hash + '\n' + heredocs.join('\n') + '\n' + remote), downloads, ...(scratch ? { scratch } : {}) };
  }
  const from = await s.resolveFrom(inst.from, stage);
  return { root: { dir: '', what: from.what, ...(exclude ? { exclude } : {}) }, resetOwners: false, hash: sha256Digest(`${from.key}\n${patterns.join('\n')}`), downloads };
}

async function doCopy(s: BuildSession, prev: ImageState, inst: CopyInstruction, src: CopySources): Promise<CommittedLayer | undefined> {
  if (inst.from === undefined) {
    try {
      return await copyFrom(s, prev, inst, src.root, src.resetOwners, src.downloads);
    } finally {
      if (src.scratch) await rm(src.scratch, { recursive: true, force: true });
    }
  }
  const view = await s.fromView(inst.from);
  try {
    return await copyFrom(s, prev, inst, { ...src.root, dir: view.dir }, src.resetOwners);
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
    matches.push(...found);
  }
  const heredocs = inst.sources.flatMap((x) => (x.kind === 'heredoc' ? [{ name: x.heredoc.name, content: x.heredoc.content }] : []));
  if (matches.length === 0 && heredocs.length === 0) throw notFound(`${inst.kind.toUpperCase()}: no source files were specified (no file matches ${patterns.join(' ')})`);
  const workdir = prev.config.config?.WorkingDir || '/';
  const dest = inst.dest.startsWith('/') ? inst.dest : path.posix.join(workdir, inst.dest) + (inst.dest.endsWith('/') || inst.dest === '.' ? '/' : '');
  const many = matches.length + heredocs.length > 1 || patterns.some((p) => /[*?[]/.test(p)) && matches.length > 1;
  if (many && !dest.endsWith('/')) {
    throw invalidArgument(`${inst.kind.toUpperCase()} with more than one source file: the destination must be a directory and end with a /`, { hint: `write ${inst.dest}/` });
  }
  const chmod = inst.chmod === undefined ? undefined : parseChmod(inst.chmod);
  return s.withOverlay(prev, async (rootfs) => {
    const owner = inst.chown === undefined ? undefined : await resolveChown(rootfs, inst.chown);
    await copyInto(rootfs, { root, resetOwners, matches, heredocs, dest, destIsDir: dest.endsWith('/'), owner, chmod, extract: inst.kind === 'add', parents: inst.parents });
  });
}

function parseChmod(v: string): number {
  if (!/^[0-7]{3,4}$/.test(v)) throw invalidArgument(`invalid --chmod=${v}: expected an octal mode like 0755`);
  return parseInt(v, 8);
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
