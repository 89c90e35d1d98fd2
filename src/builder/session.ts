/**
 * One build's shared state: the stores it writes to, the cache, the context
 * and its .dockerignore, the stages built so far, step numbering, and the
 * helpers steps share (an overlay whose upper dir becomes a layer; the
 * filesystem of a stage or image named by --from).
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { failedPrecondition, invalidArgument } from '../errors.js';
import type { ContentStore, RefStore } from '../content/store.js';
import type { Descriptor, ImageConfig, Manifest, Platform } from '../oci/types.js';
import { hostPlatform } from '../oci/platform.js';
import type { LayeredSnapshotter } from '../snapshot/overlay.js';
import type { Mounted } from '../snapshot/snapshotter.js';
import { chainIds } from '../oci/config.js';
import type { BuildPlan, IgnoreMatcher, RunInstruction, Stage } from '../dockerfile/index.js';
import { BuildCache } from './cache.js';
import type { CacheRegistry } from './cache-registry.js';
import { SourceHasher } from './hasher.js';
import { commitMounted, whileDetaching, type CommittedLayer } from './layer-commit.js';
import type { RunDeps, RunInput } from './run-step.js';
import { builderStateDir, claimScratch, dropScratch, scratchDir } from './owned.js';
import { nextKey, unpackState, type ImageState } from './state.js';
import { epochTime } from './epoch.js';
import { noBuildProgress, type BuildOptions, type BuildProgress, type StepInfo } from './types.js';
import type { DeferredFiles } from './deferred-files.js';
import type { StepOp } from './buildkit-keys/stage-chain.js';
import { sharedSignal } from '../util/shared-signal.js';

export interface LocalImageView {
  /** Config digest. */
  id: string;
  manifest: Manifest;
  config: ImageConfig;
  /** The digest the reference resolved to in its registry (an index's or a manifest's), when known: BuildKit's cache key of the base. */
  repoDigest?: string;
}

/** What the builder needs from an engine (injected; build/ never imports engines). */
export interface BuilderDeps {
  root: string;
  content: ContentStore;
  refs: RefStore;
  snapshotter: LayeredSnapshotter;
  /** A local image by reference (of an index: the platform's manifest), pulled first when it is missing. */
  image(ref: string, platform?: Platform): Promise<LocalImageView>;
  setRef(name: string, descriptor: Descriptor): Promise<void>;
  /** Keeps an image built without -t (Docker's dangling image), so its ID can be run, tagged or pushed. */
  keepUnnamed?(descriptor: Descriptor): Promise<unknown>;
  withLease<T>(fn: () => Promise<T>): Promise<T>;
  /** Registry access for --cache-from/--cache-to; absent where the engine has none. */
  cacheRegistry?(): Promise<CacheRegistry>;
  /** How a RUN step executes (default: a runc container on an overlay, ./run-step.ts; `kiln executor`: in place). */
  runStep?(deps: RunDeps, input: RunInput): Promise<CommittedLayer>;
  /** Stages one after the other (an in-place root holds one filesystem at a time). */
  sequentialStages?: boolean;
}

export class BuildSession {
  readonly stageResults = new Map<number, ImageState>();
  readonly progress: BuildProgress;
  readonly cache: BuildCache;
  readonly hasher: SourceHasher;
  readonly stateDir: string;
  readonly runDeps: RunDeps;
  /** Blobs as unpacks read them: a layer of a --cache-from hit once its download ended (./pending-blobs.ts). */
  readonly blobs: Pick<ContentStore, 'reader'>;
  /** The platform built for (TARGETPLATFORM): stages without FROM --platform, COPY --from images. */
  readonly platform: Platform;
  signal?: AbortSignal;
  ranSteps = 0;
  cachedSteps = 0;
  /** BuildKit's op of each step key (and base key) of this build, for `--cache-to` (buildkit-keys/export.ts). */
  readonly bkOps = new Map<string, StepOp>();
  private steps = 0;
  private scratchName?: Promise<string>;
  /** Images named by --from / from=, resolved once a build (a step's key, its BuildKit name and its view ask again). */
  private readonly fromImages = new Map<string, Promise<LocalImageView>>();

  constructor(
    readonly deps: BuilderDeps,
    readonly opts: BuildOptions,
    readonly plan: BuildPlan,
    readonly contextDir: string,
    readonly ignore: IgnoreMatcher,
    persistHashes: boolean,
  ) {
    this.progress = opts.progress ?? noBuildProgress;
    this.cache = new BuildCache(deps.root, deps.content, opts.noCache);
    this.blobs = this.cache.fetching.reader(deps.content);
    this.hasher = new SourceHasher(persistHashes ? deps.root : undefined, contextDir);
    this.stateDir = builderStateDir(deps.root);
    this.runDeps = { stateDir: this.stateDir, snap: deps.snapshotter, content: deps.content, codec: opts.compression ?? 'none', sourceDateEpoch: opts.sourceDateEpoch };
    // Every step, stage and download of the build listens on it (and the caller's signal holds one listener).
    this.signal = sharedSignal(opts.signal);
    this.platform = opts.platforms?.[0] ?? hostPlatform();
  }

  /** A fresh path for one step's scratch files (secrets, heredocs, downloads), inside this build's recorded scratch dir. */
  async stepScratch(): Promise<string> {
    this.scratchName ??= (async () => {
      const name = randomBytes(6).toString('hex');
      await claimScratch(this.stateDir, name);
      return name;
    })();
    return path.join(scratchDir(this.stateDir, await this.scratchName), randomBytes(6).toString('hex'));
  }

  /** Removes the build's scratch dir (once the build is over). */
  async close(): Promise<void> {
    if (this.scratchName) await dropScratch(this.stateDir, await this.scratchName);
  }

  step(name: string): StepInfo {
    return { n: ++this.steps, name };
  }

  now(): string {
    return this.opts.sourceDateEpoch !== undefined ? epochTime(this.opts.sourceDateEpoch) : new Date().toISOString();
  }

  network(inst: RunInstruction): 'host' | 'none' {
    return inst.network === 'default' ? (this.opts.network ?? 'host') : inst.network;
  }

  /** A stage (by name or index) or an image, for COPY --from and RUN --mount from=. */
  async resolveFrom(from: string, _current?: Stage): Promise<{ key: string; what: string; state: ImageState; repoDigest?: string }> {
    const all = this.plan.stages;
    const byName = all.find((st) => st.name === from.toLowerCase()) ?? (/^\d+$/.test(from) ? all.find((st) => st.index === Number(from)) : undefined);
    if (byName) {
      const state = this.stageResults.get(byName.index);
      if (!state) throw invalidArgument(`stage ${from} is used before it is built`);
      return { key: state.key, what: `stage ${from}`, state };
    }
    let pending = this.fromImages.get(from);
    if (!pending) {
      pending = this.deps.image(from, this.platform);
      this.fromImages.set(from, pending);
      pending.catch(() => this.fromImages.delete(from));
    }
    const img = await pending;
    return { key: nextKey('image', img.id), what: `image ${from}`, state: { config: img.config, layers: img.manifest.layers, key: img.id }, ...(img.repoDigest ? { repoDigest: img.repoDigest } : {}) };
  }

  /** A read-only view of a state's filesystem; call release() when done. */
  async view(state: ImageState): Promise<{ dir: string; release: () => Promise<void> }> {
    const chainDir = await unpackState(this.deps.snapshotter, this.blobs, state);
    const key = `kiln-view-${randomBytes(6).toString('hex')}`;
    const m = await this.deps.snapshotter.view(key, chainDir);
    return { dir: m.rootfs, release: () => this.deps.snapshotter.remove(key) };
  }

  /** The filesystem of a stage or image named by --from / from= (or already resolved), read-only, and that state's cache key. */
  async fromView(from: string | { key: string; state: ImageState }): Promise<{ dir: string; key: string; release: () => Promise<void> }> {
    const { key, state } = typeof from === 'string' ? await this.resolveFrom(from) : from;
    return { ...(await this.view(state)), key };
  }

  /**
   * Runs fn on a writable overlay of the state; its changes become a layer, or
   * none when nothing changed. The upper dir is kept as the new layer's snapshot.
   */
  /**
   * `deferred`: files the step's layer has but its root does not (the last COPY's, ./deferred-files.ts): then no
   * snapshot is kept, unless the snapshotter keeps every layer (then they are written while the diff runs).
   * `dirXattrsOnly`: fn writes only new files, without extended attributes (COPY, WORKDIR).
   */
  async withOverlay(
    state: ImageState,
    fn: (rootfs: string, mounted: Mounted) => Promise<void> | void,
    opts: { deferred?: DeferredFiles | undefined; dirXattrsOnly?: boolean } = {},
  ): Promise<CommittedLayer | undefined> {
    const { deferred } = opts;
    const chainDir = await unpackState(this.deps.snapshotter, this.blobs, state);
    const key = `kiln-build-${randomBytes(6).toString('hex')}`;
    const mounted = await this.deps.snapshotter.prepare(key, chainDir);
    let committed = false;
    try {
      if (mounted.kind === 'copy') {
        throw failedPrecondition('the builder needs overlayfs and it could not be mounted here', { hint: 'run kiln as root on a kernel with overlayfs' });
      }
      await fn(mounted.rootfs, mounted);
      const extra = deferred && deferred.size > 0 ? { extra: deferred.extra(mounted.rootfs) } : undefined;
      const commitOpts = { codec: this.runDeps.codec, sourceDateEpoch: this.opts.sourceDateEpoch, ...extra, ...(opts.dirXattrsOnly ? { dirXattrsOnly: true } : {}) };
      // A root kept as the layer's snapshot (keepsEveryLayer) gets the deferred files too, written while the diff reads them from their sources.
      const writeToo = extra !== undefined && this.deps.snapshotter.keepsEveryLayer === true && mounted.upper !== undefined;
      const layer = writeToo
        ? await this.diffWhileWriting(key, mounted, deferred!, commitOpts)
        : // The diff reads the upper dir only: the root is unmounted (its sync) meanwhile.
          await whileDetaching(this.deps.snapshotter, key, mounted, () => commitMounted(this.deps.content, this.deps.snapshotter, key, mounted, commitOpts));
      if (!layer || (extra && !writeToo)) return layer;
      await this.deps.snapshotter.commit(key, chainIds([...state.config.rootfs.diff_ids, layer.diffId]).pop()!);
      committed = true;
      return layer;
    } finally {
      if (!committed) await this.deps.snapshotter.remove(key);
    }
  }

  /**
   * The layer of a root whose deferred files the diff reads from their sources and writes to the disk from the
   * bytes it read (into the upper dir of the detached root; the large ones after it); the directories they go into
   * keep, and the diff takes, the stats they had.
   */
  private async diffWhileWriting(key: string, mounted: Mounted, deferred: DeferredFiles, opts: Parameters<typeof commitMounted>[4]): Promise<CommittedLayer | undefined> {
    const snap = this.deps.snapshotter;
    const dirStats = deferred.dirStats(mounted.rootfs, mounted.upper!);
    // Unmounted first, the files go straight into the upper dir (no overlay in between: cheaper creates, and
    // copy_file_range works within one filesystem); a root that would not unmount gets them through its mount.
    const detached = snap.detach ? snap.detach(key).then(() => true, () => false) : Promise.resolve(false);
    const into = detached.then((off) => (off ? mounted.upper! : mounted.rootfs));
    try {
      const layer = await commitMounted(this.deps.content, snap, key, mounted, { ...opts, dirStats, onExtraData: deferred.writer(mounted.rootfs, into) });
      await deferred.writeAll(mounted.rootfs, dirStats, await into);
      return layer;
    } finally {
      await detached; // a failed diff still waits for the unmount it started
    }
  }
}

