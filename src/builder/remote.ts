/**
 * ADD of an http(s) URL: the file is downloaded (streamed, hashed on the way)
 * into the step's scratch dir, named after the last path segment of the URL
 * as written (BuildKit's frontend gives its http source that file name: a
 * redirect or a Content-Disposition header does not rename it), mode 0600 and
 * the server's Last-Modified time as Docker does; `--checksum` must match.
 * Its sha256 is what the step's cache key sees.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, lstatSync, mkdirSync, utimesSync, type Stats } from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { dataLoss, invalidArgument, unavailable } from '../errors.js';

export const isUrl = (s: string): boolean => /^https?:\/\//i.test(s);

/**
 * The name ADD gives a URL's download: Go's path.Base of the URL's decoded
 * path, as BuildKit's frontend computes it, "__unnamed__" when the path names
 * no file ("", "/").
 */
export function urlFileName(url: string): string {
  let p = new URL(url).pathname;
  try {
    p = decodeURIComponent(p);
  } catch {
    // Go's url.Parse fails there and BuildKit names it "__unnamed__"; kiln keeps the segment as written.
  }
  const base = path.posix.basename(p.replace(/\/+$/, ''));
  return base === '' || base === '.' || base === '..' ? '__unnamed__' : base;
}

export interface Downloaded {
  name: string;
  abs: string;
  st: Stats;
  digest: string;
}

export async function download(url: string, dir: string, checksum?: string, signal?: AbortSignal): Promise<Downloaded> {
  if (checksum !== undefined && !/^sha256:[0-9a-f]{64}$/.test(checksum)) {
    throw invalidArgument(`ADD --checksum=${checksum}: expected sha256:<64 hex digits>`);
  }
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow', ...(signal ? { signal } : {}) });
  } catch (e) {
    throw unavailable(`ADD ${url}: download failed: ${(e as Error).message}`, { cause: e, hint: 'check the URL and the network' });
  }
  if (!res.ok || !res.body) throw unavailable(`ADD ${url}: download failed: HTTP ${res.status} ${res.statusText}`, { hint: 'check the URL' });
  const name = urlFileName(url);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const abs = path.join(dir, `download-${createHash('sha256').update(url).digest('hex').slice(0, 16)}`);
  const h = createHash('sha256');
  const tap = new Transform({
    transform(chunk: Buffer, _e, cb) {
      h.update(chunk);
      cb(null, chunk);
    },
  });
  await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>), tap, createWriteStream(abs, { mode: 0o600 }));
  const digest = `sha256:${h.digest('hex')}`;
  if (checksum !== undefined && digest !== checksum) throw dataLoss(`ADD ${url}: checksum mismatch: got ${digest}, expected ${checksum}`, { hint: 'the file changed on the server, or --checksum is wrong' });
  const lm = res.headers.get('last-modified');
  const mtime = lm ? new Date(lm) : undefined;
  if (mtime && !Number.isNaN(mtime.getTime())) utimesSync(abs, mtime, mtime);
  return { name, abs, st: lstatSync(abs), digest };
}
