/**
 * openStore: kiln's local store, an OCI image layout rooted at a directory:
 *   oci-layout, index.json, blobs/sha256/<hex>      (the OCI image layout)
 *   ingest/, leases/, kiln.lock                     (kiln's bookkeeping)
 *   compressed/<codec>/<hex>                        (layers' compressed forms, made by push: compressed.ts)
 */
import { accessSync, constants, mkdirSync, readdirSync, statSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { failedPrecondition, isErrno, notFound } from '../errors.js';
import { MediaType } from '../oci/mediatypes.js';
import { LayoutContentStore } from './blobs.js';
import { createFilesAtomic, readSmallSync, writing } from '../util/fsutil.js';
import { makeDirsSync } from '../util/mkdirs.js';
import { type Lease, Leases, scanLeases } from './lease.js';
import { deadTemps } from './temps.js';
import { LayoutRefStore } from './refs.js';
import { LayoutCompressedForms } from './compressed.js';

export const LAYOUT_VERSION = '1.0.0';

export interface StoreOptions {
  /** Create the layout when the directory is missing or empty (default true). */
  create?: boolean;
  /** Check up front that the store can be written (default true); read-only commands pass false. */
  writable?: boolean;
}

export interface LocalStore {
  readonly root: string;
  readonly content: LayoutContentStore;
  readonly refs: LayoutRefStore;
  readonly leases: Leases;
  /** Compressed forms of stored (uncompressed) layers, made by push. */
  readonly compressed: LayoutCompressedForms;
  /** The store-wide lock file (index.json updates, lease updates, GC). */
  readonly lockPath: string;
  /** withLease(this store, fn) */
  withLease<T>(fn: (leased: LocalStore, lease: Lease) => Promise<T>): Promise<T>;
  /** Releases this process's default lease. */
  close(): Promise<void>;
}

/**
 * Runs `fn` under a fresh lease: blobs it writes through `leased` (this store, its writes recorded in
 * the lease) stay safe from GC until it settles.
 */
export function withLease<T>(store: LocalStore, fn: (leased: LocalStore, lease: Lease) => Promise<T>): Promise<T> {
  return store.leases.with((lease) => {
    const content = store.content.under(lease);
    return fn({ ...store, content, compressed: new LayoutCompressedForms(store.root, content) }, lease);
  });
}

/*
 * Opening an existing store is a dozen small checks (the layout file, index.json, the writable dirs) that
 * every command makes before its first real work. They are made synchronously, as util/fsutil reads small
 * files: through the thread pool they were 8–16 ms in all on a loaded machine (strace of a push, before the
 * first request to the registry).
 */
function entries(root: string): string[] | undefined {
  try {
    return readdirSync(root);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return undefined;
    throw e; // ENOTDIR (the root, or a directory above it, is a file): the CLI names what is in the way (cli/system-error.ts)
  }
}

function checkLayoutFile(root: string): void {
  const text = readSmallSync(join(root, 'oci-layout'))?.toString('utf8');
  if (text === undefined) {
    // (the root's listing has the name)
    throw failedPrecondition(`${root}/oci-layout is not there (a dangling link, or removed while kiln opened the store)`, { hint: 'pass --root DIR naming another directory' });
  }
  let version: unknown;
  try {
    version = (JSON.parse(text) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
  } catch {
    version = undefined;
  }
  if (version !== LAYOUT_VERSION) {
    throw failedPrecondition(`${root} holds an OCI layout of version ${JSON.stringify(version)}; kiln reads version ${LAYOUT_VERSION}`, {
      hint: 'pass --root DIR naming another directory',
    });
  }
}

/** The dirs writes go to exist (made when missing: `names` is the root's listing) and can be written. */
async function checkWritable(root: string, names: string[]): Promise<void> {
  for (const dir of ['blobs/sha256', 'ingest', 'leases']) {
    const path = join(root, dir);
    await writing(root, path, async () => {
      // (blobs/sha256 is never in the root's listing: always made, a no-op when it exists)
      if (!names.includes(dir)) mkdirSync(path, { recursive: true });
      accessSync(path, constants.W_OK);
    });
  }
  await writing(root, join(root, 'index.json'), async () => accessSync(root, constants.W_OK));
}

async function createLayout(root: string): Promise<void> {
  // not Node's recursive mkdir: refused by a read-only file system, it says ENOENT (util/mkdirs.ts)
  makeDirsSync(join(root, 'blobs', 'sha256'));
  // oci-layout last: it marks the directory as a complete layout. Both flushed at once, one fsync of the directory.
  await createFilesAtomic([
    { path: join(root, 'index.json'), data: JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] }) },
    { path: join(root, 'oci-layout'), data: JSON.stringify({ imageLayoutVersion: LAYOUT_VERSION }) },
  ]);
}

/** Opens (and by default creates) the store at `root`. */
export async function openStore(rootDir: string, opts: StoreOptions = {}): Promise<LocalStore> {
  const root = resolve(rootDir);
  const create = opts.create ?? true;
  const names = entries(root);
  if (names === undefined || !names.includes('oci-layout')) {
    if (!create) throw notFound(`kiln store ${root} does not exist`, { hint: 'pull, load or build an image first, or pass --root DIR' });
    // Only kiln's own files (and temp files of a layout being created by a
    // concurrent kiln, or left by one that crashed) mean "finish creating it".
    // Containers, volumes, snapshots, build layers and cache, and events live beside the layout and may come first.
    const beside = ['containers', 'volumes', 'run', 'snapshots', 'layers', 'build', 'buildcache', 'mounts', 'network', 'network.json', 'events.jsonl', 'compressed'];
    const own = (n: string) => ['index.json', 'blobs', 'ingest', 'leases', 'kiln.lock', ...beside].includes(n) || /^(index\.json|oci-layout)\.tmp-/.test(n);
    const foreign = (names ?? []).filter((n) => !own(n));
    if (foreign.length > 0) {
      throw failedPrecondition(`${root} is not empty and is not an OCI image layout (no oci-layout file); kiln will not use it as its store`, {
        hint: 'pass --root DIR naming an empty or new directory, or an existing kiln store',
      });
    }
    makeDirsSync(root); // its refusal as mkdir gave it, naming what is in the way (cli/system-error.ts says it)
    await writing(root, root, () => createLayout(root));
  } else {
    checkLayoutFile(root);
    if (!statSync(join(root, 'index.json'), { throwIfNoEntry: false })) throw failedPrecondition(`${root} has an oci-layout file but no index.json`, { hint: 'run `kiln system check`' });
  }
  if (opts.writable ?? true) {
    await checkWritable(root, names ?? []);
    // Leases and temp files of processes that died (kill -9, a crash) protect nothing any more.
    const [leases, temps] = await Promise.all([scanLeases(root), deadTemps(root)]);
    await Promise.all([...leases.dead, ...temps].map((file) => unlink(file).catch((e) => (isErrno(e, 'ENOENT') ? undefined : Promise.reject(e)))));
  }
  const lockPath = join(root, 'kiln.lock');
  const leases = new Leases(root, lockPath);
  const content = new LayoutContentStore(root, leases);
  const store: LocalStore = {
    root,
    content,
    compressed: new LayoutCompressedForms(root, content),
    refs: new LayoutRefStore(root, lockPath),
    leases,
    lockPath,
    withLease: (fn) => withLease(store, fn),
    close: () => leases.close(),
  };
  return store;
}
