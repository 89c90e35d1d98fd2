/**
 * What a build is asked to do and what it answers: the options `kiln build`
 * takes (Docker's flags), the progress events it emits and its result.
 */
import type { Readable } from 'node:stream';
import type { Codec } from '../layer/compress.js';
import type { OutputCompression } from './output-compression.js';
import type { Platform } from '../oci/types.js';

/** `--ssh ID[=SOCKET]`: an ssh-agent socket on the host, offered to `RUN --mount=type=ssh,id=ID`. */
export interface SshSpec {
  id: string;
  socket: string;
}

export interface SecretSpec {
  id: string;
  /** A file on the host… */
  src?: string;
  /** …or an environment variable of the CLI… */
  env?: string;
  /** …or its bytes (the agent's: what a client sent, never written to a file). */
  value?: Buffer;
}

/**
 * `--cache-to`: where (a registry ref, a local OCI layout dir, or inline in the image's config), and which
 * steps (min: the target's chain; max: every stage's steps). `imageManifest` (BuildKit's `image-manifest`,
 * default true): the cache root is an image manifest, else an image index.
 */
export type CacheExport =
  | { type: 'registry'; ref: string; mode: 'min' | 'max'; imageManifest?: boolean }
  | { type: 'local'; dest: string; tag?: string; mode: 'min' | 'max'; imageManifest?: boolean }
  | { type: 'inline' };

/** `--cache-from`: a registry ref (a cache manifest, or an image with an inline cache) or a local OCI layout dir. */
export type CacheImport = ({ type: 'registry'; ref: string } | { type: 'local'; src: string; tag?: string }) & {
  /** Entries created before this time (ms since the epoch) are ignored (`kiln executor --cache-ttl`). */
  notBefore?: number;
  /** How warnings name it (default `--cache-from`). */
  flag?: string;
};

export type OutputSpec =
  /** The store; `compression` (estargz only): the image stored, tagged and pushed has its layers so. */
  | { type: 'image'; compression?: OutputCompression }
  | { type: 'local'; dest: string }
  /** The final filesystem as a tar (BuildKit's tar exporter); `-` is standard output. */
  | { type: 'tar'; dest: string }
  /** An image archive; `compression`: its layers in that codec (BuildKit's exporter keys). */
  | { type: 'oci' | 'docker'; dest: string; compression?: OutputCompression };

export interface BuildOptions {
  /** Context directory; ignored when `contextTar` is given. */
  context?: string;
  /** The context as a tar stream (`kiln build -`). */
  contextTar?: Readable;
  /** Dockerfile path (relative to the cwd), default `<context>/Dockerfile`. */
  file?: string;
  /** The Dockerfile's text (`-f -`, or a Dockerfile given on stdin as the context). */
  dockerfileText?: string;
  tags?: string[];
  buildArgs?: Record<string, string>;
  target?: string;
  noCache?: boolean;
  labels?: Record<string, string>;
  network?: 'host' | 'none';
  /** `--add-host name:ip` for RUN steps' /etc/hosts. */
  addHosts?: string[];
  /** `--pull`: fetch base images again even when they are stored. */
  pull?: boolean;
  secrets?: SecretSpec[];
  ssh?: SshSpec[];
  outputs?: OutputSpec[];
  /** How new layers are stored: none by default (push compresses them: image/push-compress.ts). */
  compression?: Codec;
  /** `--cache-from`: caches asked when the local cache misses. */
  cacheFrom?: CacheImport[];
  /** `--cache-to`: caches written after the build (inline: into the image's config). */
  cacheTo?: CacheExport[];
  /** Seconds since the epoch: clamps file times and `created` fields. */
  sourceDateEpoch?: number;
  /** `--platform`: what to build for (default this machine's); several make one index (./platforms.ts). */
  platforms?: Platform[];
  /** The layers the build adds on its base image written as one (`kiln executor --single-snapshot`: ./squash.ts). */
  squash?: boolean;
  /**
   * The context directory is known to hold exactly what this digest names and the build sees all of it
   * (a kiln agent's synced mirror: sync/manifest.ts manifestDigest, .dockerignore applied by the client,
   * so no ignore file is read).
   * COPY source hashes are then remembered by it in this process, so a rebuild of an unchanged context
   * hashes without walking it.
   */
  contextDigest?: string;
  /** How messages name the Dockerfile (default its file name): a build Job passes the path the user gave. */
  dockerfileName?: string;
  /** One platform of a multi-platform build (./platforms.ts): no tags or cache export, of the outputs only an image output's compression, in the caller's lease. */
  partOfIndex?: boolean;
  progress?: BuildProgress;
  signal?: AbortSignal;
}

export interface BuildResult {
  /** The image ID (config digest). */
  id: string;
  manifestDigest: string;
  /** The manifest's size in bytes (its descriptor in --metadata-file). */
  manifestSize?: number;
  tags: string[];
  /** Steps that ran and steps answered from the cache. */
  steps: number;
  cached: number;
  /** A multi-platform build (`id` and `manifestDigest` are then the index's digest): each platform's image. */
  platforms?: { platform: string; id: string; manifestDigest: string; manifestSize: number }[];
  /** Remote builds: what the client uploaded of the context (file bytes and files; the manifest aside). */
  contextUpload?: { files: number; bytes: number; manifestBytes: number };
}

/** One step of the build as the progress display sees it. */
export interface StepInfo {
  /** 1-based, in execution order (`#N`). */
  n: number;
  /** `[stage 1/2] RUN make` or `[internal] load build context`. */
  name: string;
}

export type BuildEvent =
  | { kind: 'start'; step: StepInfo }
  | { kind: 'cached'; step: StepInfo }
  | { kind: 'log'; step: StepInfo; stream: 'stdout' | 'stderr'; text: string; /** Since the step started. */ seconds: number }
  | { kind: 'done'; step: StepInfo; seconds: number }
  | { kind: 'error'; step: StepInfo; seconds: number; message: string }
  | { kind: 'warning'; message: string };

export interface BuildProgress {
  emit(e: BuildEvent): void;
}

export const noBuildProgress: BuildProgress = { emit: () => undefined };
