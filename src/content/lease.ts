/**
 * Leases keep blobs that a running process wrote, but has not referenced yet,
 * safe from garbage collection. A lease is a file `leases/<pid>-<rand>.json`
 * naming its owner (pid and start time) and digests; GC honours it while the
 * owner runs. Commits record their digest in the lease *before* the blob
 * becomes visible, under the store lock that GC holds while it runs, so GC
 * never sees a blob without seeing its lease.
 *
 * `withLease(store, fn)` hands fn a view of the store whose writes go to
 * that lease (passed explicitly: an AsyncLocalStorage would put async hooks
 * on every promise of a pull); other writes go to the store's process-wide
 * default lease, released by `store.close()` or when the process ends.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { isErrno } from '../errors.js';
import { unlinkQuiet, writeFileAtomic, writing } from '../util/fsutil.js';
import { withLock } from '../util/lock.js';
import { isAlive, selfToken } from '../util/process.js';

interface LeaseFile {
  owner: string;
  created: string;
  digests: string[];
}

export class Lease {
  private file?: string;
  private readonly digests = new Set<string>();
  private written = false;

  constructor(
    private readonly root: string,
    private readonly lockPath: string,
  ) {}

  /** Its file, named when first asked for: a push that writes nothing never loads node:crypto for it before its first request. */
  get path(): string {
    return (this.file ??= join(this.root, 'leases', `${process.pid}-${randomBytes(6).toString('hex')}.json`));
  }

  /** Records `digest` in this lease, then runs `fn` (which makes it visible), all under the store lock. */
  async protect<T>(digest: string, fn: () => Promise<T>): Promise<T> {
    return writing(this.root, this.lockPath, () =>
      withLock(this.lockPath, async () => {
        if (!this.digests.has(digest)) await this.flush([digest]);
        return fn();
      }, { what: `kiln store ${this.root}` }),
    );
  }

  /** Adds digests already in the store (e.g. reused blobs) to the lease. */
  async add(...digests: string[]): Promise<void> {
    const fresh = digests.filter((d) => !this.digests.has(d));
    if (fresh.length === 0) return;
    await writing(this.root, this.lockPath, () =>
      withLock(this.lockPath, async () => {
        await this.flush(fresh);
      }, { what: `kiln store ${this.root}` }),
    );
  }

  has(digest: string): boolean {
    return this.digests.has(digest);
  }

  /** Writes the lease file with `more` digests added; they count only once it is on disk. */
  private async flush(more: string[]): Promise<void> {
    const digests = [...new Set([...this.digests, ...more])];
    const body: LeaseFile = { owner: selfToken(), created: new Date().toISOString(), digests };
    // Not fsynced: a lease protects only while its process runs, and after a power loss none does
    // (a lease file left empty or torn then is read as dead: scanLeases). The rename keeps it whole for GC.
    await writing(this.root, this.path, () => writeFileAtomic(this.path, JSON.stringify(body), { durable: false }));
    this.written = true;
    for (const d of more) this.digests.add(d);
  }

  /** For process exit, where nothing async runs. */
  releaseSync(): void {
    if (!this.written) return;
    this.written = false;
    try {
      unlinkSync(this.path);
    } catch (e) {
      if (!isErrno(e, 'ENOENT')) throw e;
    }
  }

  async release(): Promise<void> {
    this.digests.clear();
    if (!this.written) return;
    this.written = false;
    await unlinkQuiet(this.path);
  }
}

export class Leases {
  private fallback?: Lease;
  private onExit?: () => void;

  constructor(
    private readonly root: string,
    private readonly lockPath: string,
  ) {}

  /** The process-wide default lease: writes made outside any `with` go to it. */
  current(): Lease {
    if (!this.fallback) {
      const lease = new Lease(this.root, this.lockPath);
      // A process that exits without close() drops its lease right away (GC would too, later).
      this.onExit = () => lease.releaseSync();
      process.once('exit', this.onExit);
      this.fallback = lease;
    }
    return this.fallback;
  }

  /** Runs `fn` with a new lease, released when `fn` settles; writes join it through a content view bound to it (blobs.ts `under`). */
  async with<T>(fn: (lease: Lease) => Promise<T>): Promise<T> {
    const lease = new Lease(this.root, this.lockPath);
    try {
      return await fn(lease);
    } finally {
      await lease.release();
    }
  }

  async close(): Promise<void> {
    if (this.onExit) process.removeListener('exit', this.onExit);
    const lease = this.fallback;
    this.fallback = undefined;
    this.onExit = undefined;
    await lease?.release();
  }
}

export interface LeaseScan {
  /** Digests named by leases whose owner still runs. */
  live: Set<string>;
  /** Lease files whose owner is gone. */
  dead: string[];
}

/**
 * Reads every lease file of a store. Synchronously, as openStore's other checks (layout.ts): a few small files
 * (one per running kiln), and through the thread pool its start (4 threads) came before a push's first request.
 */
export async function scanLeases(root: string): Promise<LeaseScan> {
  const dir = join(root, 'leases');
  const scan: LeaseScan = { live: new Set(), dead: [] };
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return scan;
    throw e;
  }
  // A file gone meanwhile was released.
  const bodies = names.filter((n) => n.endsWith('.json')).map((name): { path: string; body?: LeaseFile } => {
    const path = join(dir, name);
    try {
      return { path, body: JSON.parse(readFileSync(path, 'utf8')) as LeaseFile };
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return { path };
      // A torn or empty file (written without fsync, then a power loss) names no owner: dead.
      if (e instanceof SyntaxError) return { path, body: { owner: '', created: '', digests: [] } };
      throw e;
    }
  });
  for (const { path, body } of bodies) {
    if (body === undefined) continue;
    if (isAlive(body.owner)) for (const d of body.digests) scan.live.add(d);
    else scan.dead.push(path);
  }
  return scan;
}
