/** Where containerd listens: k3s's socket first, then the stock one. */
import { accessSync, constants } from 'node:fs';

export const KNOWN_SOCKETS = ['/run/k3s/containerd/containerd.sock', '/run/containerd/containerd.sock'];

/**
 * The first known socket this process can write to, if any. `--backend auto` asks on every command, before
 * anything else: two access() calls of microseconds each, made synchronously (not two hand-offs to the thread pool).
 */
export async function detectSocket(candidates: readonly string[] = KNOWN_SOCKETS): Promise<string | undefined> {
  for (const s of candidates) {
    try {
      accessSync(s, constants.W_OK);
      return s;
    } catch {
      // absent or not ours: try the next
    }
  }
  return undefined;
}

/** The socket to use when containerd was asked for: the given one, a writable known one, or the first known one (which then fails clearly). */
export async function socketFor(address?: string): Promise<string> {
  return address ?? (await detectSocket()) ?? KNOWN_SOCKETS[KNOWN_SOCKETS.length - 1]!;
}
