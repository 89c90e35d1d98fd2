/**
 * `RUN --mount=type=…,target=…` (BuildKit's run mounts): bind, cache, tmpfs,
 * secret and ssh with all their options and defaults. Values holding `$` are
 * kept for expansion at build time and only checked after it.
 */
import type { Mount, MountType } from './types.js';

export class MountError extends Error {}

const TYPES: MountType[] = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'];
const ALLOWED: Record<MountType, string[]> = {
  bind: ['target', 'source', 'from', 'readonly', 'readwrite'],
  cache: ['target', 'source', 'from', 'readonly', 'readwrite', 'id', 'sharing', 'mode', 'uid', 'gid'],
  tmpfs: ['target', 'size', 'readonly', 'readwrite'],
  secret: ['target', 'id', 'mode', 'uid', 'gid', 'required', 'env', 'readonly', 'readwrite'],
  ssh: ['target', 'id', 'mode', 'uid', 'gid', 'required', 'readonly', 'readwrite'],
};
const ALIASES: Record<string, string> = {
  dst: 'target',
  destination: 'target',
  src: 'source',
  ro: 'readonly',
  rw: 'readwrite',
};

/** Splits a CSV field list (`a=b,"c=d,e"`), Go encoding/csv style. */
export function splitCSV(value: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (quoted) {
      if (ch === '"' && value[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      out.push(field);
      field = '';
    } else field += ch;
  }
  if (quoted) throw new MountError(`unterminated quote in ${JSON.stringify(value)}`);
  out.push(field);
  return out;
}

const dynamic = (v: string) => v.includes('$');

export function parseMount(value: string): Mount {
  const fields = splitCSV(value).filter((f) => f !== '');
  let type: MountType = 'bind';
  const opts = new Map<string, string | undefined>();
  for (const f of fields) {
    const eq = f.indexOf('=');
    const rawKey = (eq < 0 ? f : f.slice(0, eq)).toLowerCase().trim();
    const key = ALIASES[rawKey] ?? rawKey;
    const v = eq < 0 ? undefined : f.slice(eq + 1);
    if (key === 'type') {
      if (!v || !TYPES.includes(v as MountType)) throw new MountError(`unsupported mount type ${JSON.stringify(v ?? '')} (use ${TYPES.join(', ')})`);
      type = v as MountType;
      continue;
    }
    if (opts.has(key)) throw new MountError(`duplicate mount option ${rawKey}`);
    opts.set(key, v);
  }
  for (const key of opts.keys()) {
    if (!ALLOWED[type].includes(key)) {
      const isKnown = Object.values(ALLOWED).some((l) => l.includes(key));
      throw new MountError(isKnown ? `option ${key} is not valid for a ${type} mount` : `unexpected key '${key}' in mount option`);
    }
  }
  const str = (k: string) => {
    const v = opts.get(k);
    if (opts.has(k) && v === undefined) throw new MountError(`mount option ${k} needs a value (${k}=…)`);
    return v;
  };
  const bool = (k: string): boolean | undefined => {
    if (!opts.has(k)) return undefined;
    const v = opts.get(k);
    if (v === undefined) return true;
    if (/^(true|1)$/i.test(v)) return true;
    if (/^(false|0)$/i.test(v)) return false;
    throw new MountError(`invalid value for ${k}: ${JSON.stringify(v)} (expected true or false)`);
  };
  const int = (k: string, radix: number): number | undefined => {
    const v = str(k);
    if (v === undefined) return undefined;
    const ok = radix === 8 ? /^0?[0-7]+$/.test(v) : /^\d+$/.test(v);
    if (!ok) throw new MountError(`invalid value for ${k}: ${JSON.stringify(v)} (expected ${radix === 8 ? 'an octal mode like 0755' : 'a number'})`);
    return parseInt(v, radix);
  };

  const m: Mount = { type, readonly: type === 'bind' || type === 'secret' || type === 'ssh' };
  const target = str('target');
  if (target !== undefined) m.target = target;
  const source = str('source');
  if (source !== undefined) m.source = source;
  const from = str('from');
  if (from !== undefined) m.from = from;
  const ro = bool('readonly');
  const rw = bool('readwrite');
  if (ro !== undefined) m.readonly = ro;
  if (rw !== undefined) m.readonly = !rw;
  const id = str('id');
  if (id !== undefined) m.id = id;
  const sharing = str('sharing');
  if (sharing !== undefined) {
    if (!dynamic(sharing) && !['shared', 'private', 'locked'].includes(sharing)) {
      throw new MountError(`unsupported sharing value ${JSON.stringify(sharing)} (use shared, private or locked)`);
    }
    m.sharing = sharing as Mount['sharing'];
  } else if (type === 'cache') m.sharing = 'shared';
  const mode = int('mode', 8);
  if (mode !== undefined) m.mode = mode;
  const uid = int('uid', 10);
  if (uid !== undefined) m.uid = uid;
  const gid = int('gid', 10);
  if (gid !== undefined) m.gid = gid;
  const required = bool('required');
  if (required !== undefined) m.required = required;
  const size = str('size');
  if (size !== undefined) m.size = parseSize(size);
  const env = str('env');
  if (env !== undefined) m.env = env;

  if ((type === 'bind' || type === 'cache' || type === 'tmpfs') && !m.target) {
    throw new MountError(`a ${type} mount needs target=PATH`);
  }
  if (type === 'secret' && !m.id && !m.target) throw new MountError('a secret mount needs id= or target=');
  if (type === 'secret' && !m.id && m.target) m.id = m.target.split('/').filter(Boolean).pop();
  if (type === 'cache' && !m.id) m.id = m.target;
  return m;
}

function parseSize(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(v);
  if (!m) throw new MountError(`invalid tmpfs size ${JSON.stringify(v)} (e.g. size=64m)`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.floor(Number(m[1]) * mult);
}
