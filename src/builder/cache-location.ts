/**
 * Where a remote build cache lives, as the cache reader and writer see it: a
 * root document (the cache manifest, or an image whose config carries an
 * inline cache) and blobs. Two kinds, as BuildKit's `type=registry` and
 * `type=local`: a registry repository and tag (./cache-registry.ts), an OCI
 * layout directory and a tag in its index.json (./cache-local.ts).
 */
import type { Descriptor } from '../oci/types.js';
import type { Repository } from '../registry/repository.js';

export interface CacheLocation {
  /** How messages name it: the ref, or the directory. */
  readonly name: string;
  /** The root document under the location's tag (NOT_FOUND when there is none). */
  readRoot(): Promise<{ descriptor: Descriptor; bytes: Buffer }>;
  /** A small blob (config), read whole. */
  readBytes(desc: Descriptor): Promise<Buffer>;
  /** A manifest an index root lists (a multi-platform image's, for its inline cache); default readBytes. */
  readManifest?(desc: Descriptor): Promise<Buffer>;
  /** A layer blob streamed into the build's store (a no-op when stored). */
  fetch(desc: Descriptor, signal?: AbortSignal): Promise<void>;
  /** A stored blob written to the location unless it has it. */
  push(desc: Descriptor): Promise<void>;
  /** Small bytes (config) written unless present. */
  putBytes(desc: Descriptor, bytes: Buffer): Promise<void>;
  /** The root document written under the location's tag; answers its digest. */
  putRoot(bytes: Buffer, mediaType: string): Promise<string>;
  /** A registry location's repository (blobs can be mounted from it on the same registry). */
  readonly repository?: Repository;
  /** Entries created before this time (ms since the epoch) are ignored (`kiln executor --cache-ttl`). */
  readonly notBefore?: number;
  /** How warnings name where it came from (default `--cache-from`; kiln executor: `--cache-repo`). */
  readonly flag?: string;
}

/** What a spec names, for messages. */
export const cacheName = (c: { ref?: string; src?: string; dest?: string }): string => c.ref ?? c.src ?? c.dest ?? '';
