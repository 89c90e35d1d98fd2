/**
 * A document as the store holds it: what names it, its bytes (handed on as they are — a push sends
 * them, never a re-serialisation, so the digest stays the descriptor's), and what they parse to.
 * Read once while resolving an image, then passed along.
 */
import type { Descriptor } from '../oci/types.js';

export interface StoredDocument<T> {
  descriptor: Descriptor;
  bytes: Buffer;
  parsed: T;
}
