/**
 * `COPY <<EOF <dest>` as BuildKit's Dockerfile frontend (v0.34.2,
 * dispatchCopy's SourceContents) makes it: the heredoc's body is a file
 * `/<name>` (0644, root, its time -1) that a mkfile op writes on scratch, and
 * the copy takes it with `{src: <name>, dest, owner?, mode, createDestPath,
 * timestamp}` (no symlink following, no wildcards). The copy's record links
 * that state as its second input by the mkfile's record (selector
 * sha256("/<name>")) or by the content record of the file: kiln names it by
 * the content (the body's bytes and 0644), as for a context file.
 */
import type { Heredoc } from '../../dockerfile/index.js';
import { contentRecord, fileHeader, sha256 } from './keys.js';

/** The content record of a heredoc's file as the mkfile leaves it. */
export function heredocContent(h: Pick<Heredoc, 'content'>): string {
  const data = Buffer.from(h.content);
  return contentRecord([sha256(Buffer.concat([Buffer.from(fileHeader({ mode: 0o644, uid: 0, gid: 0, size: data.length })), data]))]);
}

/** The heredoc's file name, when BuildKit's path for it is `/<name>` as kiln writes it. */
export const heredocName = (h: Pick<Heredoc, 'name'>): string | undefined => (/^[A-Za-z0-9._-]+$/.test(h.name) && h.name !== '.' && h.name !== '..' ? h.name : undefined);
