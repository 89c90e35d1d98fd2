/** Test helpers: temp dirs, the repository root, and a tiny valid image built by hand. */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';
import { MediaType } from '../oci/mediatypes.js';
import type { Descriptor, ImageConfig, Manifest } from '../oci/types.js';
import type { LocalStore } from '../content/layout.js';

export const sha256 = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export { repoRoot } from './root.js';

export async function tempDir(t: { after(fn: () => Promise<void>): void }, prefix = 'kiln-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** An uncompressed layer tar holding the given files. */
export async function layerTar(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, body] of Object.entries(files)) pack.entry({ name, mode: 0o644, mtime: new Date(0) }, body);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export interface TinyImage {
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
  /** Every blob by digest. */
  blobs: Map<string, Buffer>;
}

/** A valid one- or two-layer linux image (amd64 unless `arch`); `gzip` compresses the layers. */
export async function tinyImage(opts: { files?: Record<string, string>[]; gzip?: boolean; arch?: string } = {}): Promise<TinyImage> {
  const blobs = new Map<string, Buffer>();
  const layers: Descriptor[] = [];
  const diffIds: string[] = [];
  for (const files of opts.files ?? [{ 'hello.txt': 'hello from kiln\n' }]) {
    const raw = await layerTar(files);
    diffIds.push(sha256(raw));
    const blob = opts.gzip ? gzipSync(raw) : raw;
    blobs.set(sha256(blob), blob);
    layers.push({ mediaType: opts.gzip ? MediaType.OciLayerGzip : MediaType.OciLayer, digest: sha256(blob), size: blob.length });
  }
  const cfg: ImageConfig = {
    architecture: opts.arch ?? 'amd64',
    os: 'linux',
    config: { Cmd: ['/hello'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: diffIds.map(() => ({ created_by: 'kiln test' })),
  };
  const cfgBytes = Buffer.from(JSON.stringify(cfg));
  const config = { mediaType: MediaType.OciConfig, digest: sha256(cfgBytes), size: cfgBytes.length };
  blobs.set(config.digest, cfgBytes);
  const man: Manifest = { schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers };
  const manBytes = Buffer.from(JSON.stringify(man));
  const manifest = { mediaType: MediaType.OciManifest, digest: sha256(manBytes), size: manBytes.length };
  blobs.set(manifest.digest, manBytes);
  return { manifest, config, layers, blobs };
}

/** Writes an image's blobs into a store (and tags it when `name` is given). */
export async function storeImage(store: LocalStore, img: TinyImage, name?: string): Promise<void> {
  for (const [digest, bytes] of img.blobs) await store.content.writeBytes(bytes, { digest, size: bytes.length });
  if (name !== undefined) await store.refs.set(name, img.manifest);
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion, collecting its output. */
export function run(cmd: string, args: string[], opts: { uid?: number; gid?: number; input?: Buffer } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { uid: opts.uid, gid: opts.gid, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end(opts.input);
  });
}
