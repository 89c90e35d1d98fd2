/**
 * A minor GC (a scavenge of V8's young generation) after every few MiB a
 * download has received. Each socket read (64 KiB) and node's HTTP parser's
 * copy of it are fresh ArrayBuffers, dead as soon as the store has copied
 * them; but V8 frees them only when it collects, and a download allocates
 * almost no JS objects, so no scavenge comes: V8 waits for ~64 MB of external
 * memory and then runs a mark-compact. Meanwhile every chunk lands on memory
 * not used before (page faults, cache misses in the parser's copy), the
 * process's RSS grows by tens of MB, and its exit tears that down again.
 * Scavenged every 2 MiB, the chunks' memory is a few MiB, reused while it is
 * still in the cache (93 MB pull: CPU 0.94×, peak RSS 98 → 72 MB).
 *
 * Node has no public call for a scavenge: `--expose-gc` is set at run time
 * and the `gc` function taken from a fresh context, once, at the first
 * download (never at start, nor in the packaged executable's startup
 * snapshot). Without it (a runtime that refuses), nothing is done.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Bytes received between two scavenges. */
export const SCAVENGE_BYTES = 2 << 20;

type GcFunction = (options: { type: 'minor' | 'major' }) => void;

let gc: GcFunction | undefined | null = null;
let received = 0;

function gcFunction(): GcFunction | undefined {
  if (gc === null) {
    try {
      setFlagsFromString('--expose-gc');
      const f: unknown = runInNewContext('typeof gc === "function" ? gc : undefined');
      gc = typeof f === 'function' ? (f as GcFunction) : undefined;
    } catch {
      gc = undefined;
    }
  }
  return gc;
}

/**
 * Counts `bytes` more received by a download (all downloads of the process together); scavenges once
 * SCAVENGE_BYTES have come since the last time. True when it scavenged.
 */
export function downloaded(bytes: number): boolean {
  received += bytes;
  if (received < SCAVENGE_BYTES) return false;
  received = 0;
  const f = gcFunction();
  if (!f) return false;
  f({ type: 'minor' });
  return true;
}
