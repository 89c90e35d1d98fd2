/**
 * Mount points from /proc/self/mountinfo: field 5 of each line, with the
 * kernel's octal escapes (\040 for a space, \011, \012, \134) decoded.
 */
import { readFile } from 'node:fs/promises';

/** The mount points of a mountinfo text, in its order (a point mounted twice appears twice). */
export function mountPointsOf(info: string): string[] {
  const out: string[] = [];
  for (const line of info.split('\n')) {
    const f = line.split(' ');
    if (f.length >= 5) out.push(f[4]!.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))));
  }
  return out;
}

/** This process's mount points at `dir` or under it, once each, deepest first (the order to unmount them). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const points = mountPointsOf(await readFile('/proc/self/mountinfo', 'utf8')).filter((p) => p === dir || p.startsWith(dir + '/'));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}
