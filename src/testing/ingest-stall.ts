/** A held ingest's stall limit (content/held-ingest.ts), shortened for one test of this process. */
import { STALL_ENV } from '../content/held-ingest.js';

export async function withStallLimit<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  const before = process.env[STALL_ENV];
  process.env[STALL_ENV] = String(ms);
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env[STALL_ENV];
    else process.env[STALL_ENV] = before;
  }
}
