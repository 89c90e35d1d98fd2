/**
 * The content store contract: blobs addressed by digest, written through an
 * ingest that verifies before anything becomes visible (containerd's
 * Provider + Ingester + Manager), and named references to descriptors.
 */
import type { Readable } from 'node:stream';
import type { Descriptor } from '../oci/types.js';

export interface BlobInfo {
  digest: string;
  size: number;
}

export interface Expected {
  digest?: string;
  size?: number;
  /** What the bytes are (their descriptor's media type), for a store that labels what it keeps (containerd: an uncompressed layer's diff ID). */
  mediaType?: string;
}

/** An in-progress write. Bytes from an interrupted earlier write under the same key are kept. */
export interface IngestWriter {
  /** Bytes already written (resume a download from here with a Range request). */
  readonly offset: number;
  /** Appends a stream, hashing as it goes. */
  write(source: Readable | AsyncIterable<Uint8Array>): Promise<void>;
  /** Verifies digest and size, fsyncs and renames into place; the blob is visible only after this. */
  commit(expected: Expected): Promise<BlobInfo>;
  /** Drops the partial data. */
  abort(): Promise<void>;
  /**
   * Lets the ingest go, keeping the bytes written for a later resume (a
   * long-lived process — the agent — must not keep the ingest locked after a
   * failed or cancelled download).
   */
  close?(): Promise<void>;
}

export interface ContentStore {
  /** Size of a stored blob, or undefined when absent. */
  stat(digest: string): Promise<BlobInfo | undefined>;
  /** A stream of a stored blob (NOT_FOUND otherwise). */
  reader(digest: string): Promise<Readable>;
  /** A small blob (manifest, config) in memory. */
  readBytes(digest: string): Promise<Buffer>;
  /** Opens (or resumes) an ingest under a key, e.g. the expected digest. */
  writer(key: string): Promise<IngestWriter>;
  /** Writes a whole stream and commits it; returns the digest and size. */
  ingest(source: Readable | AsyncIterable<Uint8Array>, expected?: Expected): Promise<BlobInfo>;
  /** Writes bytes (manifests, configs) and commits them; a blob stored already under `expected.digest` is not written again. */
  writeBytes(data: Buffer | string, expected?: Expected): Promise<BlobInfo>;
  delete(digest: string): Promise<void>;
  list(): AsyncIterable<BlobInfo>;
}

/** A named reference (a tag) and the descriptor it points at. */
export interface NamedRef {
  name: string;
  descriptor: Descriptor;
}

/** Tags, kept atomically (in the OCI layout: index.json with ref.name annotations). */
export interface RefStore {
  list(): Promise<NamedRef[]>;
  get(name: string): Promise<Descriptor | undefined>;
  set(name: string, descriptor: Descriptor): Promise<void>;
  /** Returns false when the name did not exist. */
  delete(name: string): Promise<boolean>;
  /**
   * Images kept without a name (Docker's dangling `<none>:<none>`: a build
   * without -t, an import or load without a name). Setting a name on one
   * makes it named; `forget` drops it.
   */
  unnamed?(): Promise<Descriptor[]>;
  keep?(descriptor: Descriptor): Promise<void>;
  /** Returns false when no unnamed image had that manifest digest. */
  forget?(digest: string): Promise<boolean>;
}
