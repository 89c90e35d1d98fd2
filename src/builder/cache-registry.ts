/**
 * `type=registry,ref=HOST/REPO:TAG`: a cache location in a registry
 * repository. Layer blobs go up unless the registry has them (HEAD) or can
 * mount them from another repository of the same registry (a --cache-from
 * source); the root document goes under the ref's tag (or digest).
 */
import { Readable } from 'node:stream';
import { invalidArgument } from '../errors.js';
import { parseNormalizedNamed, identifier, type Reference } from '../name/reference.js';
import type { Descriptor } from '../oci/types.js';
import type { Repository } from '../registry/repository.js';
import type { CacheLocation } from './cache-location.js';

/** What an engine injects for registry caches: its registry client and its blob transfers. */
export interface CacheRegistry {
  repository(domain: string, path: string, actions: ('pull' | 'push')[]): Repository;
  /** Streams a blob of `repo` into the store (a no-op when it is stored). */
  fetchBlob(repo: Repository, desc: Descriptor, signal?: AbortSignal): Promise<unknown>;
  /** Uploads a stored blob unless the registry has it (HEAD) or can mount it from `mountFrom`. */
  pushBlob(repo: Repository, desc: Descriptor, mountFrom: string[]): Promise<unknown>;
}

export function parseCacheRef(ref: string, flag: string): Reference {
  try {
    return parseNormalizedNamed(ref);
  } catch (e) {
    throw invalidArgument(`${flag} ref=${ref}: not an image reference`, { cause: e, hint: 'use ref=HOST/REPO:TAG' });
  }
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** `mountFrom`: other cache repositories whose blobs the registry may mount instead of an upload. */
export function registryCacheLocation(registry: CacheRegistry, ref: string, flag: string, mountFrom: Repository[] = []): CacheLocation {
  const r = parseCacheRef(ref, flag);
  const repo = registry.repository(r.domain, r.path, flag === '--cache-to' ? ['pull', 'push'] : ['pull']);
  const from = () => mountFrom.filter((m) => m.domain === repo.domain && m.path !== repo.path).map((m) => m.path);
  return {
    name: ref,
    repository: repo,
    readRoot: () => repo.getManifest(identifier(r)),
    readBytes: async (desc) => readAll(await repo.getBlob(desc.digest, { size: desc.size })),
    readManifest: async (desc) => (await repo.getManifest(desc.digest)).bytes,
    fetch: async (desc, signal) => void (await registry.fetchBlob(repo, desc, signal)),
    push: async (desc) => void (await registry.pushBlob(repo, desc, from())),
    async putBytes(desc, bytes) {
      if ((await repo.statBlob(desc.digest)) === undefined) await repo.pushBlob({ digest: desc.digest, size: desc.size }, async () => Readable.from([bytes]));
    },
    putRoot: (bytes, mediaType) => repo.putManifest(identifier(r), bytes, mediaType),
  };
}
