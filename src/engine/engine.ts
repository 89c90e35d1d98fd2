/**
 * The Engine contract: the one interface every image command uses. The local
 * backend implements it first; containerd and remote backends implement the
 * same contract (and run the same conformance suite).
 */
import type { Readable, Writable } from 'node:stream';
import type { HistoryRow, ImageDetail, ImageSummary, ImportOptions, LoadedImage, PullOptions, PullResult, PushOptions, PushResult, RemoveResult } from '../image/types.js';
import type { BuildOptions, BuildResult } from '../builder/types.js';
import type { CommitInput } from '../image/commit.js';

export type { BuildOptions, BuildResult } from '../builder/types.js';
export type { CommitInput } from '../image/commit.js';
export type { HistoryRow, ImageDetail, ImageSummary, ImportOptions, LoadedImage, PullOptions, PullResult, PushOptions, PushResult, RemoveResult } from '../image/types.js';
import type { ContainerEngine } from './containers.js';
import type { EventQuery, KilnEvent } from './events.js';

export interface PruneResult {
  deletedImages: string[];
  blobsRemoved: number;
  bytesFreed: number;
  /** local: what builds killed earlier had left (RUN containers, mounts), now cleared. */
  buildLeftovers?: string[];
  /** local: unpacked layers given back (their bytes are in bytesFreed). */
  layersRemoved?: number;
  /** Build-cache entries removed (`system prune`: the dangling ones; with all, every one). */
  buildCacheRemoved?: string[];
}

export interface BuildCachePruneResult {
  /** The entries removed: step records by id, cache mounts as `mount:NAME`. */
  removed: string[];
  bytesFreed: number;
}

/** `kiln system df`: one row per kind, as Docker's. */
export interface DiskUsageRow {
  type: 'Images' | 'Containers' | 'Local Volumes' | 'Build Cache';
  total: number;
  active: number;
  size: number;
  reclaimable: number;
}

/** `kiln system df -v`: what each row is made of. */
export interface DiskUsageItem {
  type: DiskUsageRow['type'];
  /** Image ID, container ID, volume name or cache entry id. */
  id: string;
  /** Names (tags, container name) where there are some. */
  names: string[];
  size: number;
  /** Containers using it (images, volumes); running or not (containers). */
  active: boolean;
  created?: string;
}

export interface DiskUsage {
  rows: DiskUsageRow[];
  items: DiskUsageItem[];
}

export interface CheckProblem {
  kind: string;
  subject: string;
  message: string;
  /** Information, not damage (a resumable partial download): `system check` still exits 0. */
  info?: boolean;
}

export interface EngineInfo {
  backend: string;
  /** The store directory (local) or the socket (containerd). */
  root: string;
  /** containerd: its namespace, version and the snapshotter images are unpacked into. */
  namespace?: string;
  serverVersion?: string;
  snapshotter?: string;
  images: number;
  blobs: number;
  bytes: number;
  /** remote: the agent's own info (its backend and store) and its kiln version. */
  agent?: EngineInfo & { version?: string };
}

/** Which backend an engine is; `remote`: a kiln agent's (--host), the work done there, not in this process. */
export type EngineKind = 'local' | 'containerd' | 'remote' | 'kube';

export interface Engine {
  /** Stated by each implementation; the same name `info()` reports as its backend. */
  readonly kind: EngineKind;
  info(): Promise<EngineInfo>;
  pull(reference: string, opts?: PullOptions): Promise<PullResult>;
  push(reference: string, opts?: PushOptions): Promise<PushResult>;
  tag(source: string, target: string): Promise<void>;
  /**
   * `kiln image pin|unpin`: keeps (or stops keeping) the named images from the
   * kubelet's image GC — containerd's CRI label `io.cri-containerd.pinned=pinned`
   * on each of the image's name records; a rebuild or retag of a pinned name
   * keeps the pin. Resolves to the names changed. Backends without a kubelet refuse.
   */
  pin(references: string[], pinned: boolean): Promise<string[]>;
  listImages(opts?: { reference?: string }): Promise<ImageSummary[]>;
  inspectImage(reference: string): Promise<ImageDetail>;
  history(reference: string): Promise<HistoryRow[]>;
  removeImages(references: string[], opts?: { force?: boolean }): Promise<RemoveResult>;
  save(references: string[], out: Writable, opts?: { format?: 'docker' | 'oci' }): Promise<void>;
  load(input: Readable): Promise<LoadedImage[]>;
  importRootfs(input: Readable, opts?: ImportOptions): Promise<string>;
  /** `kiln commit`'s image half: the base image plus a container's changes as one layer; resolves to the new image's id. */
  commitImage?(input: CommitInput): Promise<string>;
  /** Builds a Dockerfile (`kiln build`); the image is stored and tagged, other outputs written. */
  build(opts: BuildOptions): Promise<BuildResult>;
  /** `system prune`: dangling images (all unused with `all`), unused blobs and layers, build leftovers, dangling (or all) build cache. */
  prune(opts?: { all?: boolean }): Promise<PruneResult>;
  /** `image prune [-a]`: dangling images (with `all`, every image no container uses), then what they held. */
  pruneImages?(opts?: { all?: boolean }): Promise<PruneResult>;
  /** `builder prune [-a]`: dangling build cache (with `all`, all of it), then what it held. */
  pruneBuildCache?(opts?: { all?: boolean }): Promise<BuildCachePruneResult>;
  /** `system df`: images, containers, local volumes and build cache, their sizes and what a prune would give back. */
  diskUsage?(): Promise<DiskUsage>;
  /**
   * `kiln events`: the backend's events matching the query, in time order;
   * with `follow`, new ones until `until` or the signal, then the iterable ends.
   */
  events(query: EventQuery): AsyncIterable<KilnEvent>;
  check(): Promise<CheckProblem[]>;
  close(): Promise<void>;
  /** Containers (see containers.ts), where the backend runs them. */
  readonly containers?: ContainerEngine;
}
