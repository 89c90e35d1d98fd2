/**
 * A commit refused because the bytes did not verify (DATA_LOSS), carrying
 * what the store actually hashed, so a caller that knows where the bytes
 * came from (a pull names the registry) can say so without hashing them a
 * second time on the way in.
 */
import { dataLoss, type ErrorOptions, type KilnError } from '../errors.js';
import type { BlobInfo } from './store.js';

const actuals = new WeakMap<KilnError, BlobInfo>();

/** The DATA_LOSS error of a failed verification; `actual` is what was written. */
export function verificationFailed(message: string, actual: BlobInfo, opts?: ErrorOptions): KilnError {
  const e = dataLoss(message, opts);
  actuals.set(e, actual);
  return e;
}

/** What a store hashed when `e` is its failed verification; undefined for any other error. */
export function actualOf(e: unknown): BlobInfo | undefined {
  return typeof e === 'object' && e !== null ? actuals.get(e as KilnError) : undefined;
}
