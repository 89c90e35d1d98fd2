/**
 * `--cache-from` / `--cache-to` as buildx spells them:
 *   type=registry,ref=HOST/REPO:TAG[,mode=min|max][,image-manifest=true|false]   (or a bare ref)
 *   type=local,dest=DIR[,tag=T][,mode=…]    /   type=local,src=DIR[,tag=T]
 *   type=inline                             (--cache-to only: the cache in the image's config)
 * Keys buildx has and kiln does not use (oci-mediatypes, compression, ignore-error…) are ignored.
 */
import { invalidArgument } from '../../errors.js';
import type { CacheExport, CacheImport } from '../../builder/types.js';
import { csv } from './build-outputs.js';

const TYPES = 'type=registry,ref=HOST/REPO:TAG, type=local,dest=DIR or type=inline';

function bool(v: string | undefined, spec: string, key: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === 'true' || v === 'false') return v === 'true';
  throw invalidArgument(`--cache-to ${spec}: ${key}=${v}: use true or false`);
}

export function parseCacheTo(spec: string): CacheExport {
  const m = spec.includes('=') ? csv(spec) : { type: 'registry', ref: spec };
  const type = m.type ?? 'registry';
  if (type === 'inline') return { type: 'inline' };
  const mode = m.mode ?? 'min';
  if (mode !== 'min' && mode !== 'max') throw invalidArgument(`--cache-to ${spec}: mode=${mode}: use min or max`);
  const imageManifest = bool(m['image-manifest'], spec, 'image-manifest');
  const im = imageManifest !== undefined ? { imageManifest } : {};
  if (type === 'registry') {
    if (!m.ref) throw invalidArgument(`--cache-to ${spec}: ref= is required`, { hint: 'use --cache-to type=registry,ref=HOST/REPO:TAG' });
    return { type, ref: m.ref, mode, ...im };
  }
  if (type === 'local') {
    if (!m.dest) throw invalidArgument(`--cache-to ${spec}: dest= is required`, { hint: 'use --cache-to type=local,dest=DIR' });
    return { type, dest: m.dest, mode, ...(m.tag ? { tag: m.tag } : {}), ...im };
  }
  throw invalidArgument(`--cache-to ${spec}: cache type ${type} is not supported`, { hint: `use ${TYPES}` });
}

export function parseCacheFrom(spec: string): CacheImport {
  const m = spec.includes('=') ? csv(spec) : { type: 'registry', ref: spec };
  const type = m.type ?? 'registry';
  if (type === 'registry') {
    if (!m.ref) throw invalidArgument(`--cache-from ${spec}: ref= is required`, { hint: 'use --cache-from type=registry,ref=HOST/REPO:TAG' });
    return { type, ref: m.ref };
  }
  if (type === 'local') {
    if (!m.src) throw invalidArgument(`--cache-from ${spec}: src= is required`, { hint: 'use --cache-from type=local,src=DIR' });
    return { type, src: m.src, ...(m.tag ? { tag: m.tag } : {}) };
  }
  throw invalidArgument(`--cache-from ${spec}: cache type ${type} is not supported`, { hint: 'use type=registry,ref=HOST/REPO:TAG or type=local,src=DIR' });
}
