/**
 * `kiln executor`: a Dockerfile built inside an unprivileged container, as
 * kaniko does — the builder of `kiln build` (same frontend, step cache, COPY/ADD,
 * config steps, layer writer) over the in-place snapshotter (the container's
 * own root, changes found by snapshot walks) with RUN steps run in place
 * (./run.ts). Credentials are read and their file removed before anything
 * runs; the image is kept in a store under the state dir, then written where
 * asked (registries, docker archive, OCI layout, digest files).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { failedPrecondition, invalidArgument } from '../errors.js';
import { openStore } from '../content/layout.js';
import { buildWith } from '../engine/store/build.js';
import type { ImageStore } from '../image/store.js';
import { layoutImageStore } from '../image/layout-store.js';
import { pushImage } from '../image/push.js';
import { saveArchive } from '../image/archive/save.js';
import { extractLayer } from '../layer/extract.js';
import { formatReference, parseNormalizedNamed } from '../name/reference.js';
import { createRegistryClient, type RegistryClient } from '../registry/client.js';
import { inPlaceSnapshotter } from '../snapshot/inplace.js';
import type { BuildProgress, OutputSpec } from '../builder/types.js';
import type { Codec } from '../layer/compress.js';
import { writeOutputFile } from '../user-files.js';
import { packaged } from '../self.js';
import { dockerConfigPath, takeCredentials } from './credentials.js';
import { keptPaths } from './kept.js';
import { cacheOptions, type CacheFlags } from './cache.js';
import type { SnapshotMode } from '../snapshot/walk.js';
import { inPlaceRun } from './run.js';
import { copyOwnLoader } from './own-loader.js';

export interface ExecutorOptions {
  /** The directory that plays `/` (default `/`: the container's own root). */
  root: string;
  /** kiln's own files: the store, scratch, the default docker config (default `/kiln`). */
  stateDir: string;
  /** `dir://PATH` → a directory; `tar://stdin` → the stream; a URL → fetched once the scratch dir is set (../cli/commands/executor-context.ts). */
  context: ExecutorContext;
  /** Dockerfile path: relative to the context, or absolute. */
  dockerfile?: string;
  destinations: string[];
  noPush: boolean;
  tarPath?: string;
  ociLayoutPath?: string;
  digestFile?: string;
  imageNameWithDigestFile?: string;
  buildArgs: Record<string, string>;
  target?: string;
  labels: Record<string, string>;
  ignorePaths: string[];
  insecureRegistries: string[];
  skipTlsVerify: boolean;
  compression?: Codec;
  /** Run every step, whatever the step cache under the state dir holds. */
  noCache?: boolean;
  /** `--cache`: kaniko's remote layer cache in a registry repository (./cache.ts). */
  cache?: CacheFlags;
  /** `--reproducible`: SOURCE_DATE_EPOCH=0 (times in configs and layers are the epoch): the same digest on every run. */
  reproducible?: boolean;
  /** `--single-snapshot`: the final stage's own layers as one. */
  singleSnapshot?: boolean;
  /** `--snapshot-mode`: what the snapshot walk compares (snapshot/walk.ts). */
  snapshotMode?: SnapshotMode;
  /** `--registry-mirror HOST[/PATH]`: Docker Hub's images pulled from these first. */
  registryMirrors?: string[];
  /** `--dockerfile-name`: how messages name the Dockerfile (a build Job passes the user's -f). */
  dockerfileName?: string;
  /** Allow root `/` outside a container. */
  force?: boolean;
  progress?: BuildProgress;
  signal?: AbortSignal;
}

/** A directory, a tar stream, or a remote context (http(s) tar, git) opened when the executor asks. */
export type ExecutorContext = { dir: string } | { tar: Readable } | { open: () => Promise<{ dir: string } | { tar: Readable }> };

export interface ExecutorResult {
  /** The image's manifest digest. */
  digest: string;
  /** Its config digest (image ID). */
  id: string;
  /** `NAME@DIGEST` of every destination pushed. */
  pushed: string[];
}

/**
 * Whether this process looks like the build container's main process (kaniko's
 * guard against emptying a machine's `/`): PID 1 or a child of it (an init such
 * as tini), or a Kubernetes pod. A shell in a development container is not.
 */
function buildContainer(): boolean {
  return process.pid === 1 || process.ppid === 1 || Boolean(process.env.KUBERNETES_SERVICE_HOST);
}

export async function runExecutor(opts: ExecutorOptions): Promise<ExecutorResult> {
  const root = path.resolve(opts.root);
  const stateDir = path.resolve(opts.stateDir);
  if (root === '/' && !opts.force && !buildContainer()) {
    throw failedPrecondition("kiln executor replaces the whole filesystem of / with the image being built, and this does not look like a build container's main process", {
      hint: 'run it as the container command (PID 1, or under an init), or pass --root DIR (or --force if / may be emptied)',
    });
  }
  if (opts.destinations.length === 0 && !opts.noPush) throw invalidArgument('no --destination given', { hint: 'pass --destination REGISTRY/NAME:TAG, or --no-push' });
  const destinations = opts.destinations.map((d) => formatReference(parseNormalizedNamed(d)));
  const cache = opts.cache ? cacheOptions(opts.cache, destinations, Boolean(opts.reproducible)) : {};

  // Before anything runs: the credentials into memory, their file gone.
  const configFile = dockerConfigPath(stateDir);
  const creds = await takeCredentials(configFile);

  // kiln's scratch files (a context tar, downloads) under the state dir, never in the image.
  process.env.TMPDIR = path.join(stateDir, 'tmp');
  await mkdir(process.env.TMPDIR, { recursive: true });
  const store = await openStore(path.join(stateDir, 'store'), { create: true });
  const context = 'open' in opts.context ? await opts.context.open() : opts.context;
  const contextDir = 'dir' in context ? path.resolve(context.dir) : undefined;
  // Run by node rather than packaged: the dist/ folder holding main.js is kiln's too.
  const dist = !packaged() && process.argv[1] ? path.dirname(path.dirname(path.resolve(process.argv[1]))) : undefined;
  const kept = keptPaths({
    root,
    own: [stateDir, process.execPath, path.dirname(configFile), ...(contextDir ? [contextDir] : []), ...(dist ? [dist] : [])],
    ignore: opts.ignorePaths,
  });
  // kiln's loader and libraries, for re-running itself once / is the image's (RUN as a user with supplementary groups).
  const own = root === '/' ? await copyOwnLoader(path.join(stateDir, 'loader')) : undefined;
  const snapshotter = inPlaceSnapshotter({ root, scratch: path.join(stateDir, 'scratch'), kept, ...(opts.snapshotMode ? { snapshotMode: opts.snapshotMode } : {}) });
  const stores: ImageStore = layoutImageStore(store, { snapshotter: () => snapshotter });
  const pushedTo = [...destinations, ...(cache.cacheTo ?? []).flatMap((c) => ('ref' in c ? [c.ref] : []))];
  const insecure = [...opts.insecureRegistries, ...(opts.skipTlsVerify ? pushedTo.map((d) => parseNormalizedNamed(d).domain) : [])];
  const mirrors = (opts.registryMirrors ?? []).length > 0 ? { 'docker.io': { endpoint: opts.registryMirrors! } } : undefined;
  let registry: RegistryClient | undefined;
  const client = async () => (registry ??= createRegistryClient({ credentials: creds.store, registries: { insecure, ...(mirrors ? { mirrors } : {}) } }));

  const outputs: OutputSpec[] = [{ type: 'image' }];
  if (opts.tarPath) outputs.push({ type: 'docker', dest: opts.tarPath });
  try {
    const built = await buildWith(
      stores,
      { root: stateDir, registry: client, steps: { runStep: inPlaceRun(root, own), sequentialStages: true } },
      {
        ...('dir' in context ? { context: context.dir } : { contextTar: context.tar }),
        ...(opts.dockerfile !== undefined ? { file: path.isAbsolute(opts.dockerfile) || !contextDir ? opts.dockerfile : path.join(contextDir, opts.dockerfile) } : {}),
        tags: destinations,
        buildArgs: opts.buildArgs,
        ...(opts.target ? { target: opts.target } : {}),
        labels: opts.labels,
        outputs,
        noCache: Boolean(opts.noCache),
        ...cache,
        ...(opts.reproducible ? { sourceDateEpoch: 0 } : {}),
        ...(opts.singleSnapshot ? { squash: true } : {}),
        ...(opts.dockerfileName ? { dockerfileName: opts.dockerfileName } : {}),
        // As kaniko: layers are made in their pushed form (gzip unless --compression), so the digest written,
        // the OCI layout and the registry's manifest are one and the same (the executor's store is throwaway).
        compression: opts.compression ?? 'gzip',
        ...(opts.progress ? { progress: opts.progress } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      },
    );
    const digest = built.manifestDigest;
    if (opts.ociLayoutPath) await writeOciLayout(stores, opts.ociLayoutPath, destinations[0], digest);
    const pushed: string[] = [];
    if (!opts.noPush) {
      for (const d of destinations) {
        const r = await pushImage(stores, await client(), d);
        pushed.push(`${d.replace(/:[^:/@]+$/, '')}@${r.digest}`);
      }
    }
    if (opts.digestFile) await writeOutputFile(opts.digestFile, digest, 'executor: --digest-file');
    if (opts.imageNameWithDigestFile) {
      const names = destinations.map((d) => `${d.replace(/:[^:/@]+$/, '')}@${digest}`);
      await writeOutputFile(opts.imageNameWithDigestFile, names.map((n) => `${n}\n`).join(''), 'executor: --image-name-with-digest-file');
    }
    return { digest, id: built.id, pushed };
  } finally {
    await registry?.close();
  }
}

/** `--oci-layout-path DIR`: the image as an OCI image layout directory (the OCI archive, unpacked as it is written). */
async function writeOciLayout(stores: ImageStore, dir: string, name: string | undefined, digest: string): Promise<void> {
  const size = (await stores.content.stat(digest))!.size;
  const pass = new PassThrough();
  const extracting = extractLayer(pass, dir, { whiteouts: 'none', sameOwner: false, xattrs: false });
  await Promise.all([
    saveArchive(stores.content, [{ ...(name ? { name } : {}), descriptor: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size } }], pass, { format: 'oci' }),
    extracting,
  ]);
}
