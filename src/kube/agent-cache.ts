/**
 * The agent pod the last command reached, kept beside the client certificates
 * (`agent-pod.json` in `clientCertDir`), so the next command opens its tunnel
 * at once instead of listing pods first. Only a hint: the kube backend checks
 * the pod (one GET, while the tunnel opens) and finds the ready pod again when
 * it is gone, not ready or being deleted; a lost connection forgets it.
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface CachedAgent {
  pod: string;
  node: string;
}

const file = (dir: string) => path.join(dir, 'agent-pod.json');

export async function readCachedAgent(dir: string): Promise<CachedAgent | undefined> {
  try {
    const v = JSON.parse(await readFile(file(dir), 'utf8')) as Partial<CachedAgent>;
    return typeof v.pod === 'string' && v.pod && typeof v.node === 'string' ? { pod: v.pod, node: v.node } : undefined;
  } catch {
    return undefined;
  }
}

/** Best effort: a directory that cannot be written only costs the next command a lookup. */
export async function writeCachedAgent(dir: string, a: CachedAgent): Promise<void> {
  const tmp = `${file(dir)}.${process.pid}`;
  try {
    await writeFile(tmp, JSON.stringify(a), { mode: 0o600 });
    await rename(tmp, file(dir));
  } catch {
    await rm(tmp, { force: true }).catch(() => undefined);
  }
}

export async function forgetCachedAgent(dir: string): Promise<void> {
  await rm(file(dir), { force: true }).catch(() => undefined);
}
