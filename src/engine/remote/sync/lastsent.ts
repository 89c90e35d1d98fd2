/**
 * The client's memory of the manifest it last synced to an agent for a
 * context (`<cache>/remote-manifests/<hash of host and context id>.json`), so
 * the next build can send only the changes. It is a hint: the agent checks
 * the digest and asks for the whole manifest when it holds another one.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { manifestDigest, type ContextManifest } from './manifest.js';

const file = (cacheDir: string, host: string, contextId: string) =>
  path.join(cacheDir, 'remote-manifests', `${createHash('sha256').update(`${host}\0${contextId}`).digest('hex').slice(0, 40)}.json`);

export async function loadLastSent(cacheDir: string, host: string, contextId: string): Promise<{ digest: string; manifest: ContextManifest } | undefined> {
  try {
    const manifest = JSON.parse(await readFile(file(cacheDir, host, contextId), 'utf8')) as ContextManifest;
    return Array.isArray(manifest.entries) ? { digest: manifestDigest(manifest), manifest } : undefined;
  } catch {
    return undefined; // none yet, or unreadable: a full manifest is sent
  }
}

export async function saveLastSent(cacheDir: string, host: string, contextId: string, manifest: ContextManifest): Promise<void> {
  const f = file(cacheDir, host, contextId);
  try {
    await mkdir(path.dirname(f), { recursive: true });
    const tmp = `${f}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    await writeFile(tmp, JSON.stringify(manifest));
    await rename(tmp, f);
  } catch {
    // Only costs a full manifest next time.
  }
}
