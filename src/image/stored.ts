/**
 * A document as the store holds it: what names it and its bytes (a `Fetched`, what the copy walk hands on: a push
 * sends these bytes, never a re-serialisation, so the digest stays the descriptor's), and what they parse to.
 * Read once while resolving an image, then passed along.
 */
import type { Fetched } from './copy.js';

export interface StoredDocument<T> extends Fetched {
  parsed: T;
}
