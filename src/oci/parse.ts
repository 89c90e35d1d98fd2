/**
 * Parsing of untrusted manifest, index and config bytes into the typed model,
 * with validation: schemaVersion 2, required fields, digests, sizes, and the
 * media type inside the bytes against the one a registry or descriptor claimed.
 */
import { invalidArgument } from '../errors.js';
import { validateDigest } from './digest.js';
import { MediaType, isIndexType, isManifestType } from './mediatypes.js';
import type { Descriptor, ImageConfig, Index, Manifest, Platform } from './types.js';

export type ParsedManifest =
  | { kind: 'manifest'; mediaType: string; manifest: Manifest }
  | { kind: 'index'; mediaType: string; index: Index };

type Json = Record<string, unknown>;

function bad(what: string, why: string): never {
  throw invalidArgument(`${what}: ${why}`, {
    hint: 'the content is not a valid OCI/Docker image document; check the registry or file it came from',
  });
}

function decode(bytes: Uint8Array | string, what: string): Json {
  const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8');
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw invalidArgument(`${what}: not JSON (${(e as Error).message})`, { cause: e, hint: 'the bytes are not an image document' });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(what, 'not a JSON object');
  return v as Json;
}

function str(o: Json, key: string, what: string, required: true): string;
function str(o: Json, key: string, what: string, required?: false): string | undefined;
function str(o: Json, key: string, what: string, required = false): string | undefined {
  const v = o[key];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || (required && v === '')) bad(what, `"${key}" must be a ${required ? 'non-empty ' : ''}string`);
  return v;
}

function strMap(v: unknown, what: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) bad(what, 'must be an object of strings');
  for (const [k, x] of Object.entries(v as Json)) if (typeof x !== 'string') bad(what, `value of "${k}" is not a string`);
  return v as Record<string, string>;
}

function parsePlatform(v: unknown, what: string): Platform {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(what, 'must be an object');
  const o = v as Json;
  const p: Platform = { architecture: str(o, 'architecture', what, true), os: str(o, 'os', what, true) };
  const variant = str(o, 'variant', what);
  if (variant !== undefined) p.variant = variant;
  const osv = str(o, 'os.version', what);
  if (osv !== undefined) p['os.version'] = osv;
  const f = o['os.features'];
  if (f !== undefined) {
    if (!Array.isArray(f) || f.some((x) => typeof x !== 'string')) bad(what, '"os.features" must be an array of strings');
    p['os.features'] = f as string[];
  }
  return p;
}

/** Validates one descriptor object (`what` names it: `manifest layers[3]`). */
export function parseDescriptor(v: unknown, what: string): Descriptor {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(what, 'must be an object');
  const o = v as Json;
  const mediaType = str(o, 'mediaType', what, true);
  const digest = validateDigest(o.digest, `${what}.digest`);
  const size = o.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) bad(what, `"size" must be a non-negative integer, got ${JSON.stringify(size)}`);
  const d: Descriptor = { mediaType, digest, size };
  if (o.urls !== undefined) {
    if (!Array.isArray(o.urls) || o.urls.some((u) => typeof u !== 'string')) bad(what, '"urls" must be an array of strings');
    d.urls = o.urls as string[];
  }
  const annotations = strMap(o.annotations, `${what}.annotations`);
  if (annotations) d.annotations = annotations;
  if (o.platform !== undefined) d.platform = parsePlatform(o.platform, `${what}.platform`);
  const at = str(o, 'artifactType', what);
  if (at !== undefined) d.artifactType = at;
  return d;
}

function checkSchema(o: Json, what: string): void {
  if (o.schemaVersion !== 2) bad(what, `schemaVersion must be 2, got ${JSON.stringify(o.schemaVersion)}`);
}

function checkClaim(inBytes: string | undefined, claimed: string | undefined, what: string): void {
  if (claimed === undefined || inBytes === undefined) return;
  // registries append parameters (charset) to Content-Type
  const c = claimed.split(';')[0]!.trim();
  if (c !== inBytes) bad(what, `media type is "${inBytes}" but "${c}" was claimed`);
}

function common(o: Json, m: { artifactType?: string; subject?: Descriptor; annotations?: Record<string, string> }, what: string): void {
  const at = str(o, 'artifactType', what);
  if (at !== undefined) m.artifactType = at;
  if (o.subject !== undefined) m.subject = parseDescriptor(o.subject, `${what} subject`);
  const ann = strMap(o.annotations, `${what}.annotations`);
  if (ann) m.annotations = ann;
}

function toManifest(o: Json, what: string): Manifest {
  if (!Array.isArray(o.layers)) bad(what, '"layers" must be an array');
  if (o.config === undefined) bad(what, '"config" is missing');
  const m: Manifest = {
    schemaVersion: 2,
    config: parseDescriptor(o.config, `${what} config`),
    layers: (o.layers as unknown[]).map((l, i) => parseDescriptor(l, `${what} layers[${i}]`)),
  };
  const mt = str(o, 'mediaType', what);
  if (mt !== undefined) m.mediaType = mt;
  common(o, m, what);
  return m;
}

function toIndex(o: Json, what: string): Index {
  if (!Array.isArray(o.manifests)) bad(what, '"manifests" must be an array');
  const ix: Index = {
    schemaVersion: 2,
    manifests: (o.manifests as unknown[]).map((d, i) => parseDescriptor(d, `${what} manifests[${i}]`)),
  };
  const mt = str(o, 'mediaType', what);
  if (mt !== undefined) ix.mediaType = mt;
  common(o, ix, what);
  return ix;
}

/**
 * Parses a manifest or an index. The kind comes from `mediaType` in the bytes,
 * else from the claimed type (Content-Type or descriptor), else from the shape
 * (`manifests` → index, `config`+`layers` → manifest), as OCI allows.
 * The returned `mediaType` is the effective one (OCI when nothing said).
 */
export function parseManifest(bytes: Uint8Array | string, claimedMediaType?: string, what = 'manifest'): ParsedManifest {
  const o = decode(bytes, what);
  checkSchema(o, what);
  const inBytes = str(o, 'mediaType', what);
  const claimed = claimedMediaType?.split(';')[0]!.trim() || undefined;
  const known = (t: string | undefined): t is string => isIndexType(t) || isManifestType(t);
  if (inBytes !== undefined && !known(inBytes)) {
    bad(what, `unsupported media type "${inBytes}"${inBytes === 'application/vnd.docker.distribution.manifest.v1+json' ? ' (Docker schema 1 is not supported)' : ''}`);
  }
  checkClaim(inBytes, known(claimed) ? claimed : undefined, what);
  const mediaType =
    inBytes ?? (known(claimed) ? claimed : Array.isArray(o.manifests) ? MediaType.OciIndex : MediaType.OciManifest);
  if (isIndexType(mediaType)) {
    if (o.config !== undefined || o.layers !== undefined) bad(what, `an index (${mediaType}) must not have "config" or "layers"`);
    return { kind: 'index', mediaType, index: toIndex(o, what) };
  }
  if (o.manifests !== undefined) bad(what, `a manifest (${mediaType}) must not have "manifests"`);
  return { kind: 'manifest', mediaType, manifest: toManifest(o, what) };
}

/** Like parseManifest, and fails unless the document is an image manifest. */
export function parseImageManifest(bytes: Uint8Array | string, claimedMediaType?: string, what = 'manifest'): Manifest {
  const p = parseManifest(bytes, claimedMediaType, what);
  if (p.kind !== 'manifest') bad(what, `expected an image manifest, got an index (${p.mediaType})`);
  return p.manifest;
}

/** Like parseManifest, and fails unless the document is an index / manifest list. */
export function parseIndex(bytes: Uint8Array | string, claimedMediaType?: string, what = 'index'): Index {
  const p = parseManifest(bytes, claimedMediaType, what);
  if (p.kind !== 'index') bad(what, `expected an index, got an image manifest (${p.mediaType})`);
  return p.index;
}

/** Parses an image config: architecture, os and rootfs.diff_ids are required. */
export function parseConfig(bytes: Uint8Array | string, what = 'image config'): ImageConfig {
  const o = decode(bytes, what);
  str(o, 'architecture', what, true);
  str(o, 'os', what, true);
  const rootfs = o.rootfs as Json | undefined;
  if (typeof rootfs !== 'object' || rootfs === null || Array.isArray(rootfs)) bad(what, '"rootfs" is missing');
  if (rootfs.type !== 'layers') bad(what, `rootfs.type must be "layers", got ${JSON.stringify(rootfs.type)}`);
  if (!Array.isArray(rootfs.diff_ids)) bad(what, 'rootfs.diff_ids must be an array');
  (rootfs.diff_ids as unknown[]).forEach((d, i) => validateDigest(d, `${what} rootfs.diff_ids[${i}]`));
  if (o.config !== undefined && o.config !== null && (typeof o.config !== 'object' || Array.isArray(o.config))) bad(what, '"config" must be an object');
  if (o.history !== undefined && !Array.isArray(o.history)) bad(what, '"history" must be an array');
  const cfg = o.config as Json | undefined;
  if (cfg) {
    for (const k of ['Env', 'Entrypoint', 'Cmd', 'OnBuild', 'Shell'] as const) {
      const v = cfg[k];
      if (v !== undefined && v !== null && (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))) bad(what, `config.${k} must be an array of strings`);
    }
  }
  return o as unknown as ImageConfig;
}
