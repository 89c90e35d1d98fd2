/**
 * An ingest another writer holds (containerd: its ref is `locked`; kiln's
 * store: its `.lock` names a live process), in one shape for both stores, and
 * the wait for it. The wait is bounded by the holder's progress, not by time:
 * a big layer on a slow link may take minutes and is waited for while its
 * ingest grows; a holder that is alive but writes nothing fails the wait once
 * nothing has moved for the stall limit. Only this condition is waited for:
 * every other failure (containerd gone, a disk error) is thrown at once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { KilnError, unavailable, type ErrorOptions } from '../errors.js';

/** How long a held ingest may show no progress before the wait for it fails. */
export const HELD_STALL_MS = 60_000;

/** Tests set a shorter stall limit through this (read at each wait); not a user setting. */
export const STALL_ENV = 'KILN_TEST_INGEST_STALL_MS';

/** How often a waiter looks again (the holder may commit, let go, or move). */
const POLL_MS = 100;

/** What a waiter sees of the holder's ingest: a change in any field, from one look to the next, is progress. */
export interface IngestProgress {
  /** bytes written */
  offset: number;
  /** when they were last written, as the store keeps it (ms since the epoch) */
  updatedAt?: number;
}

export interface HeldIngest {
  /** The ingest's name in its store (containerd's ref, kiln's ingest key). */
  readonly ref: string;
  /** Where it is: `containerd at SOCK (namespace NS)`, `kiln store ROOT`. */
  readonly store: string;
  /** Who holds it, when known: `process 1234`. */
  readonly holder?: string;
  /** What to do once the holder has stalled. */
  readonly hint: string;
  /** The holder's ingest now; undefined once it is gone (committed, aborted). */
  progress(): Promise<IngestProgress | undefined>;
}

/** A writer() refused because another writer holds the same ingest: UNAVAILABLE, and the one failure worth waiting on. */
export class IngestHeldError extends KilnError {
  constructor(
    readonly held: HeldIngest,
    message: string,
    opts: ErrorOptions = {},
  ) {
    super('UNAVAILABLE', message, opts);
  }
}

export const isIngestHeld = (e: unknown): e is IngestHeldError => e instanceof IngestHeldError;

export interface HeldWaitOptions {
  /** Fail once the holder has shown no progress this long (default HELD_STALL_MS). */
  stallMs?: number;
  signal?: AbortSignal;
  /** Called once, when the first attempt finds the ingest held (a progress line: "Waiting"). */
  onWait?: (held: HeldIngest) => void;
}

function stallLimit(opts: HeldWaitOptions): number {
  if (opts.stallMs !== undefined) return opts.stallMs;
  const env = Number(process.env[STALL_ENV]);
  return Number.isFinite(env) && env > 0 ? env : HELD_STALL_MS;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

const mark = (p: IngestProgress | undefined): string => (p ? `${p.offset}@${p.updatedAt ?? ''}` : 'gone');

/**
 * Runs `attempt` (typically: the blob stored already? else open its writer) again while it fails with
 * IngestHeldError, looking at the holder's progress between tries; any other failure is thrown at once.
 * Throws UNAVAILABLE, naming the ingest, its store and how long nothing moved, once the holder has stalled.
 */
export async function whileHeld<T>(attempt: () => Promise<T>, opts: HeldWaitOptions = {}): Promise<T> {
  const limit = stallLimit(opts);
  let seen: string | undefined;
  let movedAt = 0;
  let told = false;
  for (;;) {
    try {
      return await attempt();
    } catch (e) {
      if (!isIngestHeld(e)) throw e;
      const { held } = e;
      if (!told) opts.onWait?.(held);
      told = true;
      const now = performance.now();
      const at = mark(await held.progress());
      if (at !== seen) {
        seen = at;
        movedAt = now;
      } else if (now - movedAt >= limit) {
        throw unavailable(`ingest ${held.ref} in ${held.store} is held by ${held.holder ?? 'another writer'}, which has written nothing for ${seconds(now - movedAt)}`, {
          cause: e,
          hint: held.hint,
        });
      }
    }
    await sleep(POLL_MS, undefined, opts.signal ? { signal: opts.signal } : undefined);
  }
}
