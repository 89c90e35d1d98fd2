/**
 * Runs one stage of a plan: its base (image, scratch or an earlier stage),
 * the base's ONBUILD triggers, then each instruction expanded in the stage's
 * scope. Layer steps (RUN, COPY, ADD, WORKDIR) look their key up in the
 * cache first and only run on a miss; config steps are pure.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { invalidArgument } from '../errors.js';
import {
  buildInstruction,
  expandInstruction,
  parseDockerfile,
  runScript,
  StageScope,
  type BuildPlan,
  type Instruction,
  type RunInstruction,
  type Stage,
} from '../dockerfile/index.js';
import { chainIds, newConfig } from '../oci/config.js';
import { formatPlatform, normalizePlatform } from '../oci/platform.js';
import { sha256Digest } from '../oci/digest.js';
import { DEFAULT_PATH } from '../runtime/defaults.js';
import { readUserDb, resolveUser } from '../runtime/user.js';
import { applyConfigInstruction, argvOf, createdBy, shellOf, type StageFlags } from './config-step.js';
import { mkdirsOwned, type Owner } from './copy.js';
import { prepareMounts } from './mounts.js';
import { executeRun } from './run-step.js';
import { cloneConfig, nextKey, unpackState, type ImageState } from './state.js';
import type { BuildSession } from './session.js';
import type { CommittedLayer } from './layer-commit.js';
import type { StepInfo } from './types.js';
import { copySources, doCopy, hashAhead, startAhead, type CopySources } from './copy-step.js';
import { linkBase, linkedKey } from './link-step.js';
import { baseLocated, stepError } from './step-error.js';
import { EPOCH_ARG } from './epoch.js';
import { skipsRule, tracking, undefinedVarWarnings } from '../dockerfile/undefined-var.js';
import { warningLine } from '../dockerfile/checks.js';
import { baseImageChain, buildkitStepOn, nextChain, scratchChain, type ChainContext } from './buildkit-keys/stage-chain.js';

const HISTORY_COMMENT = 'kiln.dockerfile.v0';
const LAYER_KINDS = new Set(['run', 'copy', 'add', 'workdir']);

export async function runStage(s: BuildSession, plan: BuildPlan, stage: Stage): Promise<ImageState> {
  // A multi-platform build names the platform too, as BuildKit: `[linux/arm64 build 2/3]`.
  const platform = s.opts.partOfIndex ? `${formatPlatform(s.platform)} ` : '';
  const label = platform + (plan.stages.length === 1 && plan.stageCount === 1 ? '' : `${stage.name ?? `stage-${stage.index}`} `);
  let k = 1;
  const fromStep = s.step(`[${label}1/${1 + stage.instructions.filter((i) => LAYER_KINDS.has(i.kind)).length}] FROM ${describeBase(stage)}`);
  let state: ImageState;
  const t0 = performance.now();
  s.progress.emit({ kind: 'start', step: fromStep });
  try {
    state = await baseState(s, plan, stage);
  } catch (e) {
    s.progress.emit({ kind: 'error', step: fromStep, seconds: (performance.now() - t0) / 1000, message: (e as Error).message });
    throw stage.base.kind === 'image' ? baseLocated(e, stage.from, stage.base.ref) : e;
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
  const all = [...triggers, ...stage.instructions];
  const lastLayer = finalStage(s, plan, stage) ? lastIndex(all, (i) => LAYER_KINDS.has(i.kind)) : -1;
  for (const [n, raw] of all.entries()) {
    s.signal?.throwIfAborted();
    const missing = new Set<string>();
    const inst = expandInstruction(raw, tracking(scope.get, missing), { escape });
    if (missing.size > 0 && !skipsRule(plan.directives.check, 'UndefinedVar')) {
      for (const w of undefinedVarWarnings(missing, (n) => scope.declared(n), scope.names(), raw.loc.startLine)) s.progress.emit({ kind: 'warning', message: warningLine(w) });
    }
    if (inst.kind === 'arg') scope.declare(inst);
    if (inst.kind === 'env') scope.setEnv(inst);
    const isLayer = LAYER_KINDS.has(inst.kind);
    if (isLayer) k++;
    const step = isLayer ? s.step(`[${label}${k}/${total}] ${createdBy(inst, shellOf(state.config.config)).replace(/^RUN \S+ -c /, 'RUN ')}`) : undefined;
    if (inst.kind === 'run') hashNextCopy(s, all[n + 1], scope, escape);
    state = await runStep(s, plan, stage, state, inst, scope, flags, step, n === lastLayer);
  }
  return state;
}

/** A COPY right after a RUN: its context sources are hashed while the RUN's container runs (a RUN changes no ARG or ENV, so it expands the same now). */
function hashNextCopy(s: BuildSession, next: Instruction | undefined, scope: StageScope, escape: string | undefined): void {
  if (next?.kind !== 'copy') return;
  try {
    const inst = expandInstruction(next, scope.get, { escape });
    if (inst.kind === 'copy') hashAhead(s, inst);
  } catch {
    // its own step expands it again and says what is wrong
  }
}

/**
 * The image's stage, which no other stage builds on or copies from, and whose root no output or squash reads
 * (nor the store: a snapshotter that keeps every layer publishes the image from its roots).
 */
function finalStage(s: BuildSession, plan: BuildPlan, stage: Stage): boolean {
  const viewed = (s.opts.outputs ?? []).some((o) => o.type === 'local' || o.type === 'tar') || s.deps.snapshotter.keepsEveryLayer === true;
  return stage.index === plan.target.index && !plan.stages.some((st) => st.dependsOn.includes(stage.index)) && !s.opts.squash && !viewed;
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

/** What BuildKit's chain names of this stage's steps depend on beyond the steps (buildkit-keys/stage-chain.ts). */
const chainContext = (s: BuildSession, plan: BuildPlan, stage: Stage): ChainContext => ({
  platform: stage.platform ?? s.platform,
  buildArgs: plan.buildArgs,
  ...(s.opts.sourceDateEpoch !== undefined ? { sourceDateEpoch: s.opts.sourceDateEpoch } : {}),
  ...(s.opts.addHosts ? { addHosts: s.opts.addHosts } : {}),
  contextDir: s.contextDir,
  ignoring: s.ignore.patterns.length > 0,
  ...(s.ignore.patterns.length > 0 ? { ignore: s.ignore } : {}),
  wanted: s.cache.remote !== undefined || (s.opts.cacheTo ?? []).length > 0,
  fromChain: async (from) => {
    const r = await s.resolveFrom(from, stage);
    const chain = r.repoDigest === undefined ? r.state.bkChain : stage.platform === undefined ? baseImageChain(chainContext(s, plan, stage), r.repoDigest) : undefined;
    return chain ? { chain, root: r.repoDigest !== undefined } : undefined;
  },
});

async function baseState(s: BuildSession, plan: BuildPlan, stage: Stage): Promise<ImageState> {
  let state: ImageState;
  if (stage.base.kind === 'stage') {
    const prev = s.stageResults.get(stage.base.index);
    if (!prev) throw invalidArgument(`stage ${stage.base.index} was not built before ${stage.name ?? stage.index}`);
    state = { config: cloneConfig(prev.config), layers: [...prev.layers], key: prev.key, steps: [...(prev.steps ?? [])], ...(prev.baseKey ? { baseKey: prev.baseKey } : {}), ...(prev.bkChain ? { bkChain: prev.bkChain } : {}) };
  } else if (stage.base.kind === 'scratch') {
    const platform = stage.platform ?? s.platform;
    const config = newConfig(platform);
    // The platform is part of the key: the same steps on another platform's scratch run other binaries.
    state = { config, layers: [], key: nextKey(sha256Digest('scratch'), formatPlatform(normalizePlatform(platform))) };
    const bk = scratchChain(chainContext(s, plan, stage));
    if (bk) state.bkChain = bk;
  } else {
    const img = await s.deps.image(stage.base.ref, stage.platform ?? s.platform);
    const config = cloneConfig(img.config);
    config.history ??= [];
    state = { config, layers: [...img.manifest.layers], key: nextKey('image', img.id) };
    const bk = baseImageChain(chainContext(s, plan, stage), img.repoDigest);
    if (bk) state.bkChain = bk;
  }
  // Layers and times depend on the epoch: a step cached without it (or with another) must not answer.
  if (s.opts.sourceDateEpoch !== undefined && stage.base.kind !== 'stage') state.key = nextKey(state.key, `${EPOCH_ARG}=${s.opts.sourceDateEpoch}`);
  if (stage.base.kind !== 'stage') state.baseKey = state.key;
  if (stage.base.kind !== 'stage' && state.bkChain) s.bkOps.set(state.key, { record: state.bkChain });
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
  final = false,
): Promise<ImageState> {
  const state: ImageState = { ...prev, config: cloneConfig(prev.config), layers: [...prev.layers], steps: prev.steps ?? [] };
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
  let froms: MountFroms | undefined;
  if (inst.kind === 'run') {
    // A mount from another stage or image is an input: its result's key is part of the step's.
    froms = await resolveMountFroms(s, inst);
    const fromKeys = inst.mounts.map((m) => (m.from !== undefined && m.type !== 'secret' ? froms!.get(m.from)!.key : null));
    extra = JSON.stringify({ env: scope.runEnv(), mounts: inst.mounts.filter((m) => m.type !== 'secret'), net: s.network(inst), hosts: s.opts.addHosts ?? [], ...(fromKeys.some((k) => k !== null) ? { from: fromKeys } : {}) });
  }
  let sources: CopySources | undefined;
  if (inst.kind === 'copy' || inst.kind === 'add') {
    sources = await copySources(s, plan, stage, inst);
    extra = sources.hash;
  }
  // COPY --link: the layer is keyed without the parent state, so a changed base reuses it (rebased).
  const linkKey = linkedKey(s, inst, prev, JSON.stringify(body), extra);
  const stepKey = linkKey ? nextKey(prev.key, linkKey) : nextKey(prev.key, JSON.stringify(body), extra);
  if (inst.kind === 'workdir') applyConfigInstruction(state.config, inst, flags);
  // BuildKit's name for the state after this step: a --cache-from BuildKit wrote may hold it, --cache-to writes it.
  // Not once every --cache-from has answered kiln's own keys (kiln wrote them) and nothing is exported.
  const named = s.cache.remote?.answersOwnKeys !== true || (s.opts.cacheTo ?? []).length > 0;
  const bk = named ? await nextChain({ ...chainContext(s, plan, stage), ...(sources?.downloads.size ? { downloads: sources.downloads } : {}), ...(sources?.git ? { git: sources.git } : {}) }, prev, state, inst, scope) : { op: null };
  if (bk.chain) state.bkChain = bk.chain;
  else delete state.bkChain;
  s.bkOps.set(stepKey, bk.op);

  s.progress.emit({ kind: 'start', step: step! });
  let hit = (await s.cache.get(stepKey)) ?? (linkKey ? await s.cache.get(linkKey) : undefined);
  // Under SOURCE_DATE_EPOCH a BuildKit record is not taken: its layer keeps the times its RUN left (BuildKit clamps at
  // export, not in its cache) and BuildKit's RUN and COPY keys do not hold the epoch, so it could be another epoch's.
  if (!hit && state.bkChain && s.opts.sourceDateEpoch === undefined) {
    const bk = await s.cache.get(state.bkChain, true);
    hit = bk && buildkitStepOn(bk, prev.config.rootfs.diff_ids);
    if (hit) await s.cache.put(stepKey, hit);
  }
  if (hit && linkKey) await s.cache.put(stepKey, { created: hit.created, ...(hit.layer ? { layer: hit.layer } : {}) });
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
    if (inst.kind === 'run') layer = await doRun(s, prev, inst, scope, step!, froms!);
    else if (inst.kind === 'workdir') layer = await doWorkdir(s, prev, state.config.config?.WorkingDir ?? '/');
    else layer = await doCopy(s, linkKey ? linkBase(prev) : prev, inst, sources!, final);
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
  const chainId = layer ? chainIds([...(linkKey ? [] : state.config.rootfs.diff_ids), layer.diffId]).pop() : undefined;
  await s.cache.put(stepKey, { created, ...(layer ? { layer, chainId } : {}) });
  if (linkKey) await s.cache.put(linkKey, { created, ...(layer ? { layer } : {}) });
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

/** The stages and images a RUN's mounts name with from=, each resolved once for the step (its key, then its views). */
type MountFroms = Map<string, { key: string; state: ImageState }>;

async function resolveMountFroms(s: BuildSession, inst: RunInstruction): Promise<MountFroms> {
  const froms: MountFroms = new Map();
  for (const m of inst.mounts) {
    if (m.from !== undefined && m.type !== 'secret' && !froms.has(m.from)) {
      const { key, state } = await s.resolveFrom(m.from);
      froms.set(m.from, { key, state });
    }
  }
  return froms;
}

async function doRun(s: BuildSession, prev: ImageState, inst: RunInstruction, scope: StageScope, step: StepInfo, froms: MountFroms): Promise<CommittedLayer> {
  const chainDir = await unpackState(s.deps.snapshotter, s.blobs, prev);
  const c = prev.config.config ?? {};
  const workdir = c.WorkingDir || '/';
  const scratch = await s.stepScratch();
  // One read-only view per stage or image, however many mounts name it.
  const views = new Map<string, ReturnType<BuildSession['fromView']>>();
  const fromView = (f: string) => {
    let v = views.get(f);
    if (!v) views.set(f, (v = s.fromView(froms.get(f) ?? f)));
    return v;
  };
  const releaseViews = async () => {
    for (const v of views.values()) await v.then((x) => x.release(), () => undefined);
  };
  let prepared;
  try {
    prepared = await prepareMounts({ root: s.deps.root, scratch, contextDir: s.contextDir, contextIgnore: s.ignore, secrets: s.opts.secrets ?? [], ssh: s.opts.ssh ?? [], workdir, fromView }, inst.mounts);
  } catch (e) {
    await releaseViews();
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
    return await (s.deps.runStep ?? executeRun)(s.runDeps, {
      chainDir,
      diffIds: prev.config.rootfs.diff_ids,
      config: { Env: scope.runEnv(), User: c.User, WorkingDir: workdir },
      args,
      network: s.network(inst),
      addHosts: s.opts.addHosts,
      mounts,
      declaredMounts: inst.mounts.map((m) => m.type),
      env: prepared.env,
      // The next COPY's context hash (hashAhead) runs beside the container: from runc's spawn (its container's
      // create and start take ~40 ms of runc's own), not before it; an in-place step (no spawn hook) starts it at its end.
      onSpawned: () => startAhead(s),
      onStarted: () => {
        prepared.started();
        startAhead(s);
      },
      signal: s.signal,
      onOutput: (stream, text) => s.progress.emit({ kind: 'log', step, stream, text, seconds: (performance.now() - t0) / 1000 }),
    });
  } finally {
    await prepared.cleanup();
    await releaseViews();
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
  }, { dirXattrsOnly: true });
}

function lastIndex<T>(xs: T[], ok: (x: T) => boolean): number {
  for (let i = xs.length - 1; i >= 0; i--) if (ok(xs[i]!)) return i;
  return -1;
}
