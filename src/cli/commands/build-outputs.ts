/**
 * `kiln build` outputs as buildx spells them: `-o type=…` specs and `--push`,
 * and the `--metadata-file` JSON with BuildKit's keys.
 *
 * type=image[,name=N][,push=true]  store (and tag N); push=true pushes N too; compression=estargz: the stored
 *                                  (and pushed) image's layers are eStargz
 * type=registry[,name=N]           the same with push=true (`--push` = this, for every -t name)
 * type=docker (no dest)            store (buildx's --load)
 * type=local,dest=DIR              the final filesystem in a directory
 * type=tar,dest=FILE|-             the final filesystem as a tar
 * type=oci|docker,dest=FILE|-      the image as an OCI / Docker archive; compression=gzip|zstd|uncompressed|estargz
 *                                  [,compression-level=N][,force-compression=true]: its layers in that codec
 * A bare `-o DIR` is type=local. `name=` may list several names in quotes: "name=a:1,b:1".
 */
import { invalidArgument, isKilnError } from '../../errors.js';
import { formatReference, parseNormalizedNamed } from '../../name/reference.js';
import type { OutputCompression } from '../../builder/output-compression.js';
import type { BuildResult, OutputSpec } from '../../builder/types.js';

/** `a=b,c=d` → map; a field in double quotes may hold commas (buildx reads the spec as one CSV record). */
export function csv(spec: string): Record<string, string> {
  const fields: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < spec.length; i++) {
    const ch = spec[i];
    if (ch === '"') {
      if (quoted && spec[i + 1] === '"') {
        cur += '"';
        i++;
      } else quoted = !quoted;
    } else if (ch === ',' && !quoted) {
      fields.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (quoted) throw invalidArgument(`${spec}: unterminated quote`, { hint: 'close the quoted field: "name=a:1,b:1"' });
  fields.push(cur);
  const out: Record<string, string> = {};
  for (const part of fields) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
    else if (part.trim()) out[part.trim()] = '';
  }
  return out;
}

function flag(spec: string, key: string, v: string | undefined): boolean {
  if (v === undefined || v === 'false') return false;
  if (v === 'true' || v === '') return true;
  throw invalidArgument(`-o ${spec}: ${key}=${v}: use true or false`);
}

const fullNames = (list: string, spec: string): string[] =>
  list
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean)
    .map((n) => {
      try {
        return formatReference(parseNormalizedNamed(n));
      } catch (e) {
        throw invalidArgument(`-o ${spec}: name=${n}: ${(e as Error).message}`, { cause: e });
      }
    });

export interface OutputPlan {
  /** What the builder writes besides the store. */
  outputs: OutputSpec[];
  /** Every name the image gets: the -t names, then those the outputs add. */
  names: string[];
  /** The names pushed once the build is done. */
  push: string[];
}

export function planOutputs(specs: string[], tags: string[], pushAll: boolean): OutputPlan {
  const tagged = tags.map((t) => {
    try {
      return formatReference(parseNormalizedNamed(t));
    } catch (e) {
      // As docker: the flag the name came from (`invalid argument "X" for "-t, --tag" flag`).
      throw invalidArgument(`-t ${t}: ${(e as Error).message}`, { cause: e, ...(isKilnError(e) && e.hint ? { hint: e.hint } : {}) });
    }
  });
  const outputs: OutputSpec[] = [];
  const names = [...tagged];
  const push = new Set<string>(pushAll ? tagged : []);
  for (const spec of specs) {
    const m = spec.includes('=') ? csv(spec) : { type: 'local', dest: spec };
    const type = m.type ?? 'local';
    if (type === 'image' || type === 'registry' || (type === 'docker' && m.dest === undefined)) {
      const c = m.compression;
      if (c !== undefined && c !== 'gzip' && c !== 'estargz') throw invalidArgument(`-o ${spec}: compression=${c}: kiln stores a build's layers uncompressed and pushes them gzip-compressed`, { hint: 'use compression=estargz or gzip, or compression= with -o type=oci|docker,dest=FILE' });
      const own = m.name !== undefined ? fullNames(m.name, spec) : tagged;
      for (const n of own) if (!names.includes(n)) names.push(n);
      if (type === 'registry' || flag(spec, 'push', m.push)) {
        if (own.length === 0) throw invalidArgument(`-o ${spec}: nothing to push: no name`, { hint: 'add name=REGISTRY/REPO:TAG to the output, or -t REGISTRY/REPO:TAG' });
        own.forEach((n) => push.add(n));
      }
      outputs.push(c === 'estargz' ? { type: 'image', ...outputCompression(spec, m) } : { type: 'image' });
      continue;
    }
    if (!m.dest) throw invalidArgument(`-o ${spec}: dest= is required`, { hint: '-o type=local,dest=DIR, -o type=tar,dest=FILE or -o type=oci,dest=FILE' });
    if (type === 'local') outputs.push({ type, dest: m.dest });
    else if (type === 'oci' || type === 'docker') outputs.push({ type, dest: m.dest, ...outputCompression(spec, m) });
    else if (type === 'tar') outputs.push({ type, dest: m.dest });
    else throw invalidArgument(`-o ${spec}: unknown output type ${type}`, { hint: 'use type=image, registry, local, tar, oci or docker' });
  }
  if (pushAll && tagged.length === 0) throw invalidArgument('--push needs at least one -t NAME to push to');
  return { outputs, names, push: [...push] };
}

/** `--metadata-file`: BuildKit's keys for an image build; `image.name` only when the image has names. */
export function buildMetadata(r: BuildResult & { manifestSize?: number }, names: string[]): Record<string, unknown> {
  return {
    'containerimage.config.digest': r.id,
    'containerimage.descriptor': { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: r.manifestDigest, ...(r.manifestSize !== undefined ? { size: r.manifestSize } : {}) },
    'containerimage.digest': r.manifestDigest,
    ...(names.length > 0 ? { 'image.name': names.join(',') } : {}),
    // Remote builds (--host): what the client uploaded of the context.
    ...(r.contextUpload ? { 'kiln.context.upload': r.contextUpload } : {}),
  };
}

/** `compression=gzip|zstd|uncompressed[,compression-level=N][,force-compression=true]` of an image archive output. */
function outputCompression(spec: string, m: Record<string, string>): { compression?: OutputCompression } {
  if (m.compression === undefined) return {};
  const codec = m.compression === 'uncompressed' ? 'none' : m.compression;
  if (codec !== 'gzip' && codec !== 'zstd' && codec !== 'none' && codec !== 'estargz') throw invalidArgument(`-o ${spec}: compression=${m.compression}: use gzip, zstd, estargz or uncompressed`);
  const level = m['compression-level'] === undefined ? undefined : Number(m['compression-level']);
  if (level !== undefined && (!Number.isInteger(level) || level < (codec === 'zstd' ? 1 : 0) || level > (codec === 'zstd' ? 19 : 9))) {
    throw invalidArgument(`-o ${spec}: compression-level=${m['compression-level']}: use ${codec === 'zstd' ? '1-19' : '0-9'}`);
  }
  return { compression: { codec, ...(level !== undefined ? { level } : {}), ...(flag(spec, 'force-compression', m['force-compression']) ? { force: true } : {}) } };
}
