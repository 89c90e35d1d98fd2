/**
 * Layer blobs of `--cache-from` hits still streaming into the store. A cached
 * step needs only its record to go on (its key, its layer's descriptor and
 * diff ID), so its blob is downloaded in the background, PARALLEL_FETCHES at
 * once, while the build computes the next keys. Whatever reads a blob waits for
 * it first: the unpack of a layer a missed step builds on (`reader`, one layer
 * at a time: the first is unpacked while the next still downloads), and the
 * build before it writes its image (`settled`). A failed download fails there.
 */
import type { ContentStore } from '../content/store.js';

/** Downloads at once: as the pull's parallel layers, plus one. */
export const PARALLEL_FETCHES = 4;

export class PendingBlobs {
  private readonly fetches = new Map<string, Promise<void>>();
  private readonly queue: (() => void)[] = [];
  private active = 0;
  private failure: { error: unknown } | undefined;

  /** Starts `fetch` of `digest` (once: a digest already fetching or fetched is not fetched again). */
  start(digest: string, fetch: () => Promise<void>): void {
    if (this.fetches.has(digest)) return;
    const run = async (): Promise<void> => {
      if (this.active < PARALLEL_FETCHES) this.active++;
      else await new Promise<void>((resolve) => this.queue.push(resolve)); // handed the slot of one that ended
      try {
        await fetch();
      } finally {
        const next = this.queue.shift();
        if (next) next();
        else this.active--;
      }
    };
    const p = run();
    // Kept for whoever waits; a failure nobody waited for yet is the build's (settled()).
    p.catch((error: unknown) => {
      this.failure ??= { error };
    });
    this.fetches.set(digest, p);
  }

  /** A download of `digest` was started by this build (it may still be running). */
  has(digest: string): boolean {
    return this.fetches.has(digest);
  }

  /** Until `digest` is stored, when this build fetches it (its failure thrown). */
  async wait(digest: string): Promise<void> {
    await this.fetches.get(digest);
  }

  /** Until every download ended; throws the first failure. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.fetches.values()]);
    if (this.failure) throw this.failure.error;
  }

  /** The store's reader, waiting for a pending download of the blob first. */
  reader(content: Pick<ContentStore, 'reader'>): Pick<ContentStore, 'reader'> {
    return {
      reader: async (digest: string) => {
        await this.wait(digest);
        return content.reader(digest);
      },
    };
  }
}
