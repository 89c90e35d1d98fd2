/** sha256 digests: of bytes, of a stream while it passes through, and their validation. */
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { internal, invalidArgument } from '../errors.js';

const SHA256_RE = /^sha256:[a-f0-9]{64}$/;
const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** `sha256:<hex>` of the given bytes (a string is hashed as UTF-8). */
export function sha256Digest(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** True for a well-formed digest; sha256/sha512 must have their exact hex length. */
export function isDigest(s: string): boolean {
  if (!DIGEST_RE.test(s)) return false;
  const [alg, hex] = s.split(':') as [string, string];
  if (alg === 'sha256') return SHA256_RE.test(s);
  if (alg === 'sha512') return /^[a-f0-9]{128}$/.test(hex);
  return true;
}

/**
 * Checks a digest string and returns it. `what` names where it came from
 * (e.g. `manifest layers[2].digest`) for the error message.
 */
export function validateDigest(digest: unknown, what = 'digest'): string {
  if (typeof digest !== 'string' || !isDigest(digest)) {
    throw invalidArgument(`${what}: invalid digest ${JSON.stringify(digest)}`, {
      hint: 'a digest looks like sha256:<64 lower-case hex digits>',
    });
  }
  return digest;
}

/** Docker's short image id: the first 12 hex characters after `sha256:`. */
export function shortId(digest: string): string {
  const i = digest.indexOf(':');
  return digest.slice(i + 1, i + 13);
}

/** The hex part of a digest, `sha256:abc…` → `abc…`. */
export const digestHex = (digest: string): string => digest.slice(digest.indexOf(':') + 1);

/**
 * A PassThrough that hashes what flows through it. `digest` and `size` are
 * valid once the stream has ended; `result` resolves then.
 */
export class Digester extends Transform {
  private readonly hash = createHash('sha256');
  private bytes = 0;
  private final_?: string;
  readonly result: Promise<{ digest: string; size: number }>;
  private resolveResult!: (r: { digest: string; size: number }) => void;

  constructor() {
    super();
    this.result = new Promise((resolve) => (this.resolveResult = resolve));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.final_ = `sha256:${this.hash.digest('hex')}`;
    this.resolveResult({ digest: this.final_, size: this.bytes });
    cb();
  }

  /** The digest of everything that passed; throws before the end of the stream. */
  get digest(): string {
    if (this.final_ === undefined) throw internal('Digester: digest read before the stream ended');
    return this.final_;
  }

  get size(): number {
    return this.bytes;
  }
}

export const createDigester = (): Digester => new Digester();
