/**
 * `kiln build https://host/repo.git#ref:subdir` (or git@host:repo.git#ref, ssh://, git://), as docker
 * does: the commit the ref names is checked out (no .git) into a temp dir, removed when kiln exits; the
 * context is its subdir, and a relative -f is read inside it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkoutGit, parseGitUrl, resolveCommit } from '../../builder/git.js';

export async function gitContext(url: string): Promise<string> {
  const src = parseGitUrl(url);
  const commit = await resolveCommit(src);
  const parent = mkdtempSync(path.join(tmpdir(), 'kiln-git-context-'));
  process.once('exit', () => rmSync(parent, { recursive: true, force: true }));
  return checkoutGit(src, commit, path.join(parent, 'repo'));
}
