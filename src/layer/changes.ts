/**
 * A layer tar from a list of changes in a live tree (the in-place root of
 * `kiln executor`): the listed paths as they are now (a directory alone, not
 * its contents) and a `.wh.NAME` whiteout for each deleted path, in tar order.
 * Entries are written as diff.ts writes them (same headers, hardlinks, clamping).
 */
import { lstatSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { failedPrecondition } from '../errors.js';
import { flush, writeEntry } from './diff.js';
import { TarWriter } from './tar-writer.js';
import { WHITEOUT_PREFIX, packMode } from './tar.js';

export interface ChangeList {
  /** Added or changed paths, relative to the root, parents included. */
  paths: string[];
  /** Deleted paths, relative to the root. */
  deleted: string[];
}

/** Tar order: component by component, bytewise (a directory's entries right after it). */
export const tarOrder = (a: string, b: string): number => {
  const pa = a.split('/');
  const pb = b.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const c = Buffer.compare(Buffer.from(pa[i]!), Buffer.from(pb[i]!));
    if (c !== 0) return c;
  }
  return pa.length - pb.length;
};

export function packChanges(root: string, changes: ChangeList, opts: { sourceDateEpoch?: number } = {}): Readable {
  return Readable.from(changeChunks(root, changes, opts), { objectMode: false, highWaterMark: 1 << 20 });
}

async function* changeChunks(root: string, changes: ChangeList, opts: { sourceDateEpoch?: number }): AsyncGenerator<Buffer> {
  const w = new TarWriter();
  const links = new Map<string, string>();
  const whiteout = (rel: string): string => {
    const dir = path.posix.dirname(rel);
    const name = `${WHITEOUT_PREFIX}${path.posix.basename(rel)}`;
    return dir === '.' ? name : `${dir}/${name}`;
  };
  const entries = [...changes.paths.map((rel) => ({ rel, name: rel, wh: false })), ...changes.deleted.map((rel) => ({ rel, name: whiteout(rel), wh: true }))];
  entries.sort((a, b) => tarOrder(a.name, b.name));
  const mtime = new Date((opts.sourceDateEpoch ?? 0) * 1000);
  for (const e of entries) {
    if (e.wh) w.entry({ name: e.name, type: 'file', size: 0, mode: packMode(0), uid: 0, gid: 0, mtime });
    else {
      const st = lstatSync(path.join(root, e.rel), { throwIfNoEntry: false });
      if (!st) throw failedPrecondition(`/${e.rel} disappeared while its layer was written`, { hint: 'nothing may change the root while kiln snapshots it' });
      yield* writeEntry(w, root, e.rel, st, undefined, { sourceDateEpoch: opts.sourceDateEpoch, xattrs: false }, links);
    }
    if (w.full) yield w.take();
  }
  w.finalize();
  yield* flush(w);
}
