/**
 * Files a user names (load -i, import FILE, save -o, build --iidfile,
 * --metadata-file, -o type=oci|docker,dest=): opened before any work starts,
 * so a bad path is one KilnError line naming it with what to do, never a
 * stream's unhandled 'error' event. Outputs are written beside the target
 * and renamed at the end, so a failure leaves no half file.
 */
import { open, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { failedPrecondition, invalidArgument, isKilnError, notFound, permissionDenied, type KilnError } from './errors.js';

/** A filesystem error on `file` as one line: `what file: why` and a hint. */
export function fileError(e: unknown, file: string, what: string, writing: boolean): unknown {
  if (isKilnError(e)) return e;
  const code = (e as NodeJS.ErrnoException).code;
  const dir = path.dirname(path.resolve(file));
  const out = (make: (m: string, o?: object) => KilnError, why: string, hint: string) => make(`${what} ${file}: ${why}`, { hint, cause: e });
  switch (code) {
    case 'ENOENT':
      return writing ? out(notFound, `directory ${dir} does not exist`, 'create the directory first, or write somewhere else') : out(notFound, 'no such file', 'check the path');
    case 'ENOTDIR':
      return out(notFound, 'a part of the path is not a directory', 'check the path');
    case 'EISDIR':
      return out(invalidArgument, 'is a directory', 'name a file');
    case 'EACCES':
    case 'EPERM':
      return out(permissionDenied, 'permission denied', writing ? `choose a directory you may write to (not ${dir})` : 'check the file\'s permissions');
    case 'EROFS':
      return out(failedPrecondition, 'the filesystem is read-only', 'write somewhere else');
    case 'ENOSPC':
    case 'EDQUOT':
      return out(failedPrecondition, 'no space left on the device', 'free some space, or write somewhere else');
    default:
      return code ? out(failedPrecondition, `${code}: ${(e as Error).message}`, writing ? 'check the path and the disk' : 'check the path') : e;
  }
}

/** Opens `file` for reading; the stream's later errors (EIO…) name it too. */
export async function openInput(file: string, what: string): Promise<Readable> {
  const fh = await open(file, 'r').catch((e: unknown) => Promise.reject(fileError(e, file, what, false)));
  const st = await fh.stat();
  if (st.isDirectory()) {
    await fh.close();
    throw fileError(Object.assign(new Error('EISDIR'), { code: 'EISDIR' }), file, what, false);
  }
  return fh.createReadStream();
}

export interface OutputFile {
  stream: Writable;
  /** After the last write has been flushed: the file gets its name. */
  commit(): Promise<void>;
  /** Removes what was written. */
  abort(): Promise<void>;
}

/** Opens a temp file beside `file` for writing; `commit` renames it into place. */
export async function openOutput(file: string, what: string): Promise<OutputFile> {
  const tmp = `${file}.kiln-tmp-${process.pid}`;
  const existing = await stat(file).catch(() => undefined);
  if (existing?.isDirectory()) throw fileError(Object.assign(new Error('EISDIR'), { code: 'EISDIR' }), file, what, true);
  const fh = await open(tmp, 'w', 0o644).catch((e: unknown) => Promise.reject(fileError(e, file, what, true)));
  const stream = fh.createWriteStream();
  return {
    stream,
    commit: () => rename(tmp, file).catch((e: unknown) => Promise.reject(fileError(e, file, what, true))),
    abort: async () => {
      stream.destroy();
      await rm(tmp, { force: true });
    },
  };
}

/** Writes a small output file (an ID, metadata) whole. */
export async function writeOutputFile(file: string, data: string, what: string): Promise<void> {
  await writeFile(file, data).catch((e: unknown) => Promise.reject(fileError(e, file, what, true)));
}
