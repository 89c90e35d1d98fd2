/**
 * A Repository over several endpoints: reads try the mirrors in order, then
 * the registry itself; writes go to the registry. When every endpoint fails
 * the registry's own error (the last) is the one the user sees.
 */
import type { Readable } from 'node:stream';
import type { Descriptor } from '../oci/types.js';
import type { EndpointRepository } from './remote.js';
import type { GetBlobOptions, PushBlobOptions, Repository } from './repository.js';

export class MirroredRepository implements Repository {
  private endpoints?: Promise<EndpointRepository[]>;

  constructor(
    readonly domain: string,
    readonly path: string,
    private readonly resolve: () => Promise<EndpointRepository[]>,
  ) {}

  private all(): Promise<EndpointRepository[]> {
    this.endpoints ??= this.resolve();
    return this.endpoints;
  }

  private async upstream(): Promise<EndpointRepository> {
    const all = await this.all();
    return all[all.length - 1];
  }

  /** Tries fn on each endpoint; `undefined` answers also fall through to the next. */
  private async first<T>(fn: (r: EndpointRepository) => Promise<T>): Promise<T> {
    const all = await this.all();
    let last: unknown;
    for (let i = 0; i < all.length; i++) {
      const isLast = i === all.length - 1;
      try {
        const v = await fn(all[i]);
        if (v !== undefined || isLast) return v;
      } catch (e) {
        if (isLast) throw e;
        last = e;
      }
    }
    throw last; // not reached: the last endpoint returns or throws
  }

  prepare(): void {
    this.all().then(
      (all) => all[0]?.prepare(),
      () => undefined, // the first request reports it
    );
  }

  getManifest(reference: string): Promise<{ descriptor: Descriptor; bytes: Buffer }> {
    return this.first((r) => r.getManifest(reference));
  }

  headManifest(reference: string): Promise<Descriptor | undefined> {
    return this.first((r) => r.headManifest(reference));
  }

  statBlob(digest: string): Promise<number | undefined> {
    return this.first((r) => r.statBlob(digest));
  }

  getBlob(digest: string, opts?: GetBlobOptions): Promise<Readable> {
    return this.first((r) => r.getBlob(digest, opts));
  }

  async putManifest(reference: string, bytes: Buffer, mediaType: string): Promise<string> {
    return (await this.upstream()).putManifest(reference, bytes, mediaType);
  }

  async mountBlob(digest: string, fromPath: string): Promise<boolean> {
    return (await this.upstream()).mountBlob(digest, fromPath);
  }

  async pushBlob(blob: { digest: string; size: number }, open: () => Promise<Readable>, opts?: PushBlobOptions): Promise<void> {
    return (await this.upstream()).pushBlob(blob, open, opts);
  }
}
