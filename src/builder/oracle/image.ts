/**
 * Reads a built image for the oracle from where each builder leaves it: kiln's
 * store (an OCI image layout, found by its ref name) or a `dir:` copy written by
 * `buildah push … dir:DIR` (manifest.json and blobs named by hex digest, which
 * keeps Docker-only config fields such as Healthcheck, OnBuild and Shell).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export interface ImageConfigBody {
  User?: string;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  ExposedPorts?: Record<string, object> | null;
  Volumes?: Record<string, object> | null;
  StopSignal?: string;
  Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number } | null;
  OnBuild?: string[] | null;
  Shell?: string[] | null;
}

export interface ImageConfig {
  config?: ImageConfigBody;
  history?: { created_by?: string; empty_layer?: boolean }[];
  rootfs?: { diff_ids?: string[] };
}

export interface LoadedImage {
  config: ImageConfig;
  /** Layer blob files, base first, with their media types. */
  layers: { file: string; mediaType: string }[];
}

interface Manifest {
  config: { digest: string };
  layers: { digest: string; mediaType: string }[];
}

const hex = (digest: string): string => digest.replace(/^sha256:/, '');
const json = async <T>(file: string): Promise<T> => JSON.parse(await readFile(file, 'utf8')) as T;

async function load(manifest: Manifest, blob: (digest: string) => string): Promise<LoadedImage> {
  return {
    config: await json<ImageConfig>(blob(manifest.config.digest)),
    layers: manifest.layers.map((l) => ({ file: blob(l.digest), mediaType: l.mediaType })),
  };
}

/** The image in `buildah push --format v2s2 IMAGE dir:DIR`. */
export async function readDirImage(dir: string): Promise<LoadedImage> {
  return load(await json<Manifest>(path.join(dir, 'manifest.json')), (d) => path.join(dir, hex(d)));
}

/** The image tagged `ref` (the name exactly as stored) in an OCI image layout such as kiln's store. */
export async function readLayoutImage(layout: string, ref: string): Promise<LoadedImage> {
  const blob = (d: string): string => path.join(layout, 'blobs', 'sha256', hex(d));
  const index = await json<{ manifests: { digest: string; annotations?: Record<string, string> }[] }>(path.join(layout, 'index.json'));
  const names = index.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name'] ?? '');
  const found = index.manifests.find((m, i) => names[i] === ref || names[i]!.endsWith('/' + ref));
  if (!found) throw new Error(`image ${ref} not in the OCI layout ${layout} (it has: ${names.join(', ')})`);
  return load(await json<Manifest>(blob(found.digest)), blob);
}
