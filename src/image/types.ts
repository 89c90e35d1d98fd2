/**
 * What the image operations take and answer, the same on every store and
 * backend (the Engine contract re-exports them).
 */
import type { Descriptor, ImageConfig, Manifest, Platform } from '../oci/types.js';
import type { ProgressSink } from './progress.js';

export interface ImageSummary {
  /** The image ID: the config digest, like Docker's. */
  id: string;
  /** Full normalized names: `docker.io/library/busybox:latest`. */
  repoTags: string[];
  /** `name@sha256:…` as the registry knows the image. */
  repoDigests: string[];
  manifestDigest: string;
  created?: string;
  /** Sum of the compressed layer sizes plus config and manifest. */
  size: number;
}

export interface ImageDetail extends ImageSummary {
  manifest: Manifest;
  manifestDescriptor: Descriptor;
  config: ImageConfig;
  /** A multi-platform image: the index its names point at, and its platforms stored here (`manifest` is one of them). */
  index?: { descriptor: Descriptor; platforms: { platform: Platform; digest: string }[] };
}

export interface HistoryRow {
  id: string;
  created?: string;
  createdBy: string;
  size: number;
  comment: string;
  emptyLayer: boolean;
}

export interface PullOptions {
  platform?: Platform;
  progress?: ProgressSink;
  signal?: AbortSignal;
}

export interface PullResult {
  /** Full normalized reference pulled. */
  reference: string;
  /** The digest the registry served (index or manifest). */
  digest: string;
  id: string;
  /** True when nothing had to be downloaded. */
  upToDate: boolean;
}

export interface PushOptions {
  /** Of an index: push only this platform's manifest (under the tag). */
  platform?: Platform;
  progress?: ProgressSink;
  chunkSize?: number;
  signal?: AbortSignal;
}

export interface PushResult {
  reference: string;
  tag?: string;
  digest: string;
  size: number;
}

export interface RemoveResult {
  untagged: string[];
  deleted: string[];
}

export interface ImportOptions {
  reference?: string;
  changes?: string[];
  message?: string;
  platform?: Platform;
  source?: string;
}

export interface LoadedImage {
  name?: string;
  id: string;
}
