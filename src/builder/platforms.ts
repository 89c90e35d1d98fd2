/**
 * `kiln build --platform linux/amd64,linux/arm64`: the Dockerfile is built
 * once per platform (one after the other, so steps that do not depend on the
 * platform, e.g. a `FROM --platform=$BUILDPLATFORM` stage before its
 * `ARG TARGETARCH`, are answered from the cache the second time), and the
 * images become one OCI index with a manifest per platform. The index is
 * what the names are given, what the archive outputs hold and what a push
 * sends; one --cache-to holds every platform's steps (./cache-platforms.ts).
 * One platform (or none) is a plain build: its manifest, no index.
 */
import { invalidArgument } from '../errors.js';
import { MediaType } from '../oci/mediatypes.js';
import { sha256Digest } from '../oci/digest.js';
import { formatPlatform } from '../oci/platform.js';
import { formatReference, parseNormalizedNamed } from '../name/reference.js';
import type { Descriptor, Index, Platform } from '../oci/types.js';
import { buildImage, openContext, type BuilderDeps } from './builder.js';
import { writeArchiveOutput } from './outputs.js';
import { PlatformCaches } from './cache-platforms.js';
import type { BuildEvent, BuildOptions, BuildProgress, BuildResult } from './types.js';
import { rm } from 'node:fs/promises';

/** Each platform's steps numbered after the previous platforms' (one progress display), warnings said once. */
function sharedProgress(progress: BuildProgress | undefined): { forPlatform(): BuildProgress } {
  let next = 0;
  const warned = new Set<string>();
  return {
    forPlatform() {
      const numbers = new Map<number, number>();
      return {
        emit(e: BuildEvent) {
          if (e.kind === 'warning') {
            if (!warned.has(e.message)) progress?.emit(e);
            warned.add(e.message);
            return;
          }
          if (!numbers.has(e.step.n)) numbers.set(e.step.n, ++next);
          progress?.emit({ ...e, step: { ...e.step, n: numbers.get(e.step.n)! } });
        },
      };
    },
  };
}

/** The build: one platform's image, or an index of several. */
export async function buildPlatforms(deps: BuilderDeps, request: BuildOptions): Promise<BuildResult> {
  const platforms = request.platforms ?? [];
  if (platforms.length <= 1) return buildImage(deps, request);
  for (const o of request.outputs ?? []) {
    if (o.type === 'local' || o.type === 'tar') {
      throw invalidArgument(`-o type=${o.type} writes one filesystem: it cannot take ${platforms.length} platforms`, { hint: 'build one --platform for it, or use -o type=oci (the whole index)' });
    }
  }
  const caches = new PlatformCaches();
  const tags = (request.tags ?? []).map((t) => formatReference(parseNormalizedNamed(t)));
  const ctx = await openContext(request);
  try {
    // The context is read once (a tar on stdin cannot be read twice): every platform builds from the same directory.
    const inner: BuildOptions = {
      ...request,
      contextTar: undefined,
      context: ctx.dir,
      file: ctx.dockerfilePath,
      dockerfileText: ctx.dockerfilePath ? undefined : ctx.dockerfile,
      tags: [],
      outputs: (request.outputs ?? []).filter((o) => o.type === 'image'), // estargz layers are each platform's
      // Every --cache-to reaches a platform's build (its steps then get BuildKit's chain names); only the
      // index writes the registry and local ones (a part of an index writes no cache: ./builder.ts).
      cacheTo: request.cacheTo,
      partOfIndex: true,
    };
    const progress = sharedProgress(request.progress);
    return await deps.withLease(async () => {
      const built: { platform: Platform; result: BuildResult }[] = [];
      for (const platform of platforms) {
        const result = await buildImage(deps, { ...inner, platforms: [platform], progress: progress.forPlatform() }, caches);
        built.push({ platform, result });
      }
      const index: Index = {
        schemaVersion: 2,
        mediaType: MediaType.OciIndex,
        manifests: built.map(({ platform, result }) => ({ mediaType: MediaType.OciManifest, digest: result.manifestDigest, size: result.manifestSize!, platform })),
      };
      const text = JSON.stringify(index);
      const digest = sha256Digest(text);
      const blob = (await deps.content.stat(digest)) ?? (await deps.content.writeBytes(text, { digest }));
      const descriptor: Descriptor = { mediaType: MediaType.OciIndex, digest: blob.digest, size: blob.size };
      for (const t of tags) if ((await deps.refs.get(t))?.digest !== descriptor.digest) await deps.setRef(t, descriptor);
      const outputs = request.outputs ?? [];
      if (tags.length === 0 && (outputs.length === 0 || outputs.some((o) => o.type === 'image'))) await deps.keepUnnamed?.(descriptor);
      for (const o of outputs) if (o.type === 'oci' || o.type === 'docker') await writeArchiveOutput(deps.content, o, descriptor, tags);
      await caches.write(deps, request.cacheTo ?? [], progress.forPlatform());
      return {
        id: descriptor.digest,
        manifestDigest: descriptor.digest,
        manifestSize: descriptor.size,
        tags,
        steps: built.reduce((n, b) => n + b.result.steps, 0),
        cached: built.reduce((n, b) => n + b.result.cached, 0),
        platforms: built.map(({ platform, result }) => ({ platform: formatPlatform(platform), id: result.id, manifestDigest: result.manifestDigest, manifestSize: result.manifestSize! })),
      };
    });
  } finally {
    if (ctx.temporary) await rm(ctx.dir, { recursive: true, force: true });
  }
}
