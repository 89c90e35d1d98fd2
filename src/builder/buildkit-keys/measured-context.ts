/**
 * For the key tests: the context the directory checksums were measured on
 * with buildkitd v0.34.2 (tree-checksum.test.ts says how), made again in a
 * temp dir: root-owned, directories 0755, files 0644.
 */
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function measuredContext(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  mkdirSync(path.join(dir, 'src', 'sub'), { recursive: true });
  writeFileSync(path.join(dir, 'Dockerfile'), 'FROM scratch\nCOPY src/ /app/src/\nCOPY . /app\n');
  writeFileSync(path.join(dir, 'f.txt'), 'hello\n');
  writeFileSync(path.join(dir, 'src', 'a.txt'), 'aaa\n');
  writeFileSync(path.join(dir, 'src', 'a-b'), 'ab\n');
  writeFileSync(path.join(dir, 'src', 'sub', 'b.txt'), 'bbb\n');
  for (const d of ['', 'src', 'src/sub']) chmodSync(path.join(dir, d), 0o755);
  for (const f of ['Dockerfile', 'f.txt', 'src/a.txt', 'src/a-b', 'src/sub/b.txt']) chmodSync(path.join(dir, f), 0o644);
  return dir;
}
