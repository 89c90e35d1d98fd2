/** Digests as the store uses them: `sha256:<64 hex>`, mapped to `blobs/sha256/<hex>`. */
import { join } from 'node:path';
import { invalidArgument } from '../errors.js';

const sha256Re = /^sha256:[a-f0-9]{64}$/;

export const isSha256Digest = (d: string): boolean => sha256Re.test(d);

/** Throws INVALID_ARGUMENT unless `digest` is a sha256 digest (the only algorithm the store keeps). */
export function checkDigest(digest: string): string {
  if (!sha256Re.test(digest)) {
    throw invalidArgument(`invalid digest "${digest}": the store keeps sha256:<64 lower-case hex> digests only`, {
      hint: 'pass a digest such as sha256:e3b0c442…',
    });
  }
  return digest;
}

/** Where a blob lives under the store root. */
export const blobPath = (root: string, digest: string): string => join(root, 'blobs', 'sha256', checkDigest(digest).slice(7));
