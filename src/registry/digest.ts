/** Content digests (`sha256:hex`, `sha512:hex`) computed while bytes pass by. */
import { createHash, type Hash } from 'node:crypto';
import { invalidArgument } from '../errors.js';

export function digestAlgorithm(digest: string): 'sha256' | 'sha512' {
  const algo = digest.slice(0, digest.indexOf(':'));
  if (algo === 'sha256' || algo === 'sha512') return algo;
  throw invalidArgument(`unsupported digest ${digest}`, { hint: 'use a sha256: or sha512: digest' });
}

export const isDigest = (ref: string): boolean => /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(ref) && ref.includes(':');

export function digestBytes(bytes: Buffer, algo: 'sha256' | 'sha512' = 'sha256'): string {
  return `${algo}:${createHash(algo).update(bytes).digest('hex')}`;
}

/** A running hash for `algo` that tells its digest at the end. */
export class Digester {
  private readonly hash: Hash;
  size = 0;
  constructor(readonly algo: 'sha256' | 'sha512' = 'sha256') {
    this.hash = createHash(algo);
  }
  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.size += chunk.length;
  }
  digest(): string {
    return `${this.algo}:${this.hash.digest('hex')}`;
  }
}
