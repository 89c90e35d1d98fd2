/**
 * checkStore: verifies every blob's digest (streaming), that every tag's
 * descriptor and everything it reaches exists with the right size, and
 * reports leftovers (dead leases, temp files, stray files) and, as information
 * only, partial downloads a later pull resumes.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from '../errors.js';
import type { Descriptor } from '../oci/types.js';
import { deadTemps } from './temps.js';
import { scanLeases } from './lease.js';
import type { LocalStore } from './layout.js';
import { isAlive } from '../util/process.js';
import { childrenOf, mayHaveChildren } from './walk.js';

export type ProblemKind =
  | 'corrupt-blob'
  | 'missing-blob'
  | 'size-mismatch'
  | 'invalid-manifest'
  | 'stray-file'
  | 'resumable'
  | 'stale-lease'
  | 'stray-temp';

export interface Problem {
  kind: ProblemKind;
  digest?: string;
  name?: string;
  path?: string;
  message: string;
  /** Not damage (a partial download, kept so the next pull resumes it): reported, the store is still consistent. */
  info?: boolean;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

async function checkBlobs(root: string, problems: Problem[]): Promise<void> {
  const dir = join(root, 'blobs', 'sha256');
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    if (!/^[a-f0-9]{64}$/.test(name)) {
      if (!/\.tmp-\d+-/.test(name)) problems.push({ kind: 'stray-file', path, message: `${path}: not a sha256 blob name` });
      continue;
    }
    const actual = await sha256File(path);
    const digest = `sha256:${name}`;
    if (actual !== digest) problems.push({ kind: 'corrupt-blob', digest, path, message: `blob ${digest} is corrupt: its content hashes to ${actual}` });
  }
}

async function checkRef(store: LocalStore, name: string, top: Descriptor, problems: Problem[], seen: Set<string>): Promise<void> {
  const walk = async (d: Descriptor, required: boolean, via: string): Promise<void> => {
    const info = await store.content.stat(d.digest);
    if (info === undefined) {
      if (required) problems.push({ kind: 'missing-blob', name, digest: d.digest, message: `${name}: ${via} ${d.digest} is missing` });
      return;
    }
    if (info.size !== d.size) {
      problems.push({ kind: 'size-mismatch', name, digest: d.digest, message: `${name}: ${via} ${d.digest} has ${info.size} bytes, the descriptor says ${d.size}` });
    }
    if (seen.has(d.digest) || !mayHaveChildren(d)) return;
    seen.add(d.digest);
    let children;
    try {
      children = childrenOf(d, await store.content.readBytes(d.digest));
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e;
      problems.push({ kind: 'invalid-manifest', name, digest: d.digest, message: `${name}: ${via} ${d.digest} is not valid: ${e.message}` });
      return;
    }
    const [config, ...layers] = children.descriptors;
    if (children.kind === 'index') for (const c of children.descriptors) await walk(c, false, 'manifest');
    if (children.kind === 'manifest' && config) {
      await walk(config, true, 'config');
      for (const l of layers) await walk(l, true, 'layer');
    }
  };
  await walk(top, true, 'image');
}

async function checkLeftovers(root: string, problems: Problem[]): Promise<void> {
  const ingestDir = join(root, 'ingest');
  const names = await readdir(ingestDir).catch((e) => (isErrno(e, 'ENOENT') ? [] : Promise.reject(e)));
  for (const name of names.filter((n) => n.endsWith('.data'))) {
    const owner = await readFile(join(ingestDir, name.replace(/\.data$/, '.lock')), 'utf8').catch((e) =>
      isErrno(e, 'ENOENT') ? '' : Promise.reject(e),
    );
    if (owner === '' || !isAlive(owner)) {
      const path = join(ingestDir, name);
      const size = (await stat(path).catch(() => undefined))?.size ?? 0;
      problems.push({ kind: 'resumable', path, info: true, message: `partial download (${size} bytes) of a process that is gone, kept so the next pull of it resumes (kiln system prune removes it)` });
    }
  }
  // Both are cleared by the next command that opens the store to write (./layout.ts).
  for (const path of (await scanLeases(root)).dead) {
    problems.push({ kind: 'stale-lease', path, message: 'lease of a process that is gone (the next kiln command that writes to the store removes it)' });
  }
  for (const path of await deadTemps(root)) {
    problems.push({ kind: 'stray-temp', path, message: 'temporary file left by a process that is gone (the next kiln command that writes to the store removes it)' });
  }
}

/** Returns every problem found; an empty list means the store is consistent. */
export async function checkStore(store: LocalStore): Promise<Problem[]> {
  const problems: Problem[] = [];
  await checkBlobs(store.root, problems);
  const seen = new Set<string>();
  for (const ref of await store.refs.list()) await checkRef(store, ref.name, ref.descriptor, problems, seen);
  await checkLeftovers(store.root, problems);
  return problems;
}
