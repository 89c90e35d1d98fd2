/** The contract of a remote repository: manifests and blobs, streams for blob data. */
import type { Readable } from 'node:stream';
import type { Descriptor } from '../oci/types.js';

export type Action = 'pull' | 'push';

export interface PushBlobOptions {
  /** Upload in PATCH chunks of this many bytes instead of one PUT. */
  chunkSize?: number;
  /** Called when the registry has opened the upload session (its POST answered), before the first byte goes. */
  onSession?: () => void;
}

/** How getBlob reads: see there. */
export interface GetBlobOptions {
  offset?: number;
  verify?: boolean;
  size?: number;
  /** Told the position in the blob after each chunk received (progress bars; called often: keep it cheap). */
  progress?: (position: number) => void;
}

export interface Repository {
  /** The registry as the user names it (`docker.io`, `127.0.0.1:5000`). */
  readonly domain: string;
  /** The repository path (`library/alpine`). */
  readonly path: string;
  /**
   * Starts what the first request needs (the endpoints, the registry's ping: its scheme and auth
   * challenge) without waiting for it, so a caller's own work overlaps it; a failure is the first request's to report.
   */
  prepare(): void;
  /** GET a manifest or index by tag or digest; the digest is verified when asked by digest. */
  getManifest(reference: string): Promise<{ descriptor: Descriptor; bytes: Buffer }>;
  /** HEAD a manifest; undefined when the registry does not have it. */
  headManifest(reference: string): Promise<Descriptor | undefined>;
  /** PUT a manifest under a tag or its digest; answers its digest. */
  putManifest(reference: string, bytes: Buffer, mediaType: string): Promise<string>;
  /** HEAD a blob: its size (-1 if the registry did not say), undefined when absent. */
  statBlob(digest: string): Promise<number | undefined>;
  /**
   * The blob's bytes from `offset`; dropped connections and stalls resume with Range; verified when read
   * from 0 unless `verify: false` (the caller hashes what it stores: the content writer does); with `size`
   * (the descriptor's), nothing past it is read and a longer answer is refused (DATA_LOSS).
   */
  getBlob(digest: string, opts?: GetBlobOptions): Promise<Readable>;
  /** Cross-repository mount from `fromPath` on the same registry; false when the registry did not mount. */
  mountBlob(digest: string, fromPath: string): Promise<boolean>;
  /** Uploads a blob read from `open()` (called again on retry); monolithic unless `chunkSize`. */
  pushBlob(blob: { digest: string; size: number }, open: () => Promise<Readable>, opts?: PushBlobOptions): Promise<void>;
}
