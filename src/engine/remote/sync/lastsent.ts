/**
 * The client's memory of the manifest it last synced to an agent for a
 * context (`<cache>/remote-manifests/<hash of host and context id>.json`), so
 * the next build can send only the changes. It is a hint: the agent checks
 * the digest and asks for the whole manifest when it holds another one.
 * Its digest is kept beside it (`….digest`), so a build whose context did not
 * change reads and writes a line instead of the whole manifest.
 * The fingerprint of the walk that made it is kept too (`….stat`: fingerprint, digest, entry count), written
 * last and removed first, so it names the manifest beside it or is absent.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { manifestDigest, type ContextManifest } from './manifest.js';
import type { KnownScan } from './scan.js';
import { tempPath } from '../../../util/fsutil.js';

const file = (cacheDir: string, host: string, contextId: string) =>
  path.join(cacheDir, 'remote-manifests', `${createHash('sha256').update(`${host}\0${contextId}`).digest('hex').slice(0, 40)}.json`);

/** The digest of the manifest last sent ('' when none): read while the context is scanned, it is one line. */
export function readLastSentDigest(cacheDir: string, host: string, contextId: string): Promise<string> {
  return readFile(`${file(cacheDir, host, contextId)}.digest`, 'utf8').catch(() => '');
}

/**
 * The walk fingerprint the last manifest sent was made from, when its digest is `storedDigest` (the `.digest`
 * beside it): undefined when there is none, or any doubt.
 */
export async function readKnownScan(cacheDir: string, host: string, contextId: string, storedDigest: Promise<string>): Promise<KnownScan | undefined> {
  const line = await readFile(`${file(cacheDir, host, contextId)}.stat`, 'utf8').catch(() => '');
  const m = /^([0-9a-f]{64}) (sha256:[0-9a-f]{64}) (\d+)$/.exec(line);
  if (!m || m[2] !== (await storedDigest)) return undefined;
  return { fingerprint: m[1]!, digest: m[2], entries: Number(m[3]) };
}

/**
 * The last manifest sent; `current` (the digest of the manifest about to be sent) spares parsing it when it
 * is the same as the stored digest (`storedDigest`, from readLastSentDigest, else read here).
 */
export async function loadLastSent(
  cacheDir: string,
  host: string,
  contextId: string,
  current?: { digest: string; manifest: ContextManifest },
  storedDigest?: Promise<string>,
): Promise<{ digest: string; manifest: ContextManifest } | undefined> {
  const f = file(cacheDir, host, contextId);
  const stored = await (storedDigest ?? readLastSentDigest(cacheDir, host, contextId));
  if (current && stored === current.digest) return current;
  try {
    const manifest = JSON.parse(await readFile(f, 'utf8')) as ContextManifest;
    // The `.digest` beside it names it (written after it, removed before it is replaced); computed only without one.
    // A wrong one only costs a whole manifest: the agent checks the delta's result against the scan's digest.
    return Array.isArray(manifest.entries) ? { digest: stored || manifestDigest(manifest), manifest } : undefined;
  } catch {
    return undefined; // none yet, or unreadable: a full manifest is sent
  }
}

export async function saveLastSent(
  cacheDir: string,
  host: string,
  contextId: string,
  manifest: ContextManifest,
  digest = manifestDigest(manifest),
  fingerprint?: string,
): Promise<void> {
  const f = file(cacheDir, host, contextId);
  try {
    await mkdir(path.dirname(f), { recursive: true });
    const tmp = tempPath(f);
    // The fingerprint and the digest go first and last: while the manifest is replaced, nothing names it.
    await rm(`${f}.stat`, { force: true });
    await rm(`${f}.digest`, { force: true });
    await writeFile(tmp, JSON.stringify(manifest));
    await rename(tmp, f);
    await writeFile(tmp, digest);
    await rename(tmp, `${f}.digest`);
    if (fingerprint) {
      await writeFile(tmp, `${fingerprint} ${digest} ${manifest.entries.length}`);
      await rename(tmp, `${f}.stat`);
    }
  } catch {
    // Only costs a full manifest next time.
  }
}
