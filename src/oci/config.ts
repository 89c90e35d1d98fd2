/**
 * Building image configs: an empty config for a platform, Docker's `--change`
 * instructions (as `docker import --change` / `docker commit --change` apply
 * them) and OCI chain IDs.
 */
import { invalidArgument } from '../errors.js';
import { sha256Digest } from './digest.js';
import type { ContainerConfig, ImageConfig, Platform } from './types.js';

/** An image config with no layers for `platform`; `created` is an RFC 3339 time. */
export function newConfig(platform: Platform, created?: string): ImageConfig {
  const c: ImageConfig = {
    architecture: platform.architecture,
    os: platform.os,
    config: {},
    rootfs: { type: 'layers', diff_ids: [] },
    history: [],
  };
  if (platform.variant) c.variant = platform.variant;
  if (platform['os.version']) c['os.version'] = platform['os.version'];
  if (created !== undefined) c.created = created;
  return c;
}

/** The OCI chain IDs of a layer stack: chain[0] = diff[0], chain[n] = sha256(chain[n-1] + " " + diff[n]). */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) out.push(out.length === 0 ? d : sha256Digest(`${out[out.length - 1]!} ${d}`));
  return out;
}

export const CHANGE_INSTRUCTIONS = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'USER', 'WORKDIR', 'VOLUME', 'STOPSIGNAL', 'ONBUILD'] as const;

function bad(change: string, why: string): never {
  throw invalidArgument(`--change "${change}": ${why}`, {
    hint: `supported instructions: ${CHANGE_INSTRUCTIONS.join(', ')}, e.g. --change 'CMD ["/bin/sh"]' or --change 'ENV A=1 B=2'`,
  });
}

/** A JSON array of strings (exec form), or undefined when `rest` is not one. */
function jsonArray(rest: string): string[] | undefined {
  if (!rest.startsWith('[')) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(rest);
  } catch {
    return undefined; // not JSON: Docker then treats it as shell form
  }
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
}

/** Splits words like the Dockerfile parser does for ENV/LABEL: quotes group, backslash escapes. */
export function splitWords(s: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (quote) throw invalidArgument(`unterminated quote in "${s}"`, { hint: 'close the quote' });
  if (inWord) words.push(cur);
  return words;
}

function keyValues(change: string, rest: string, oldForm: boolean): [string, string][] {
  const words = splitWords(rest);
  if (words.length === 0) bad(change, 'needs at least one argument');
  if (oldForm && !words[0]!.includes('=')) {
    // ENV key value with spaces (the legacy form): value is the rest of the line
    const m = /^\s*(\S+)\s+(.*)$/.exec(rest);
    if (!m) bad(change, 'needs a value');
    return [[m[1]!, splitWords(m[2]!).join(' ')]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) bad(change, `"${w}" is not KEY=VALUE`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

const shellForm = (cfg: ContainerConfig, rest: string): string[] => [...(cfg.Shell ?? ['/bin/sh', '-c']), rest];

/**
 * Applies one `--change` instruction to a copy of `config` and returns it.
 * JSON (exec) form and shell form are both accepted for CMD and ENTRYPOINT.
 */
export function applyChange(config: ImageConfig, change: string): ImageConfig {
  const m = /^\s*([A-Za-z]+)(?:\s+([\s\S]*?))?\s*$/.exec(change);
  if (!m) bad(change, 'empty instruction');
  const instr = m[1]!.toUpperCase();
  const rest = m[2] ?? '';
  const out: ImageConfig = structuredClone(config);
  const cfg: ContainerConfig = (out.config ??= {});
  if (rest === '' && instr !== 'CMD' && instr !== 'ENTRYPOINT') bad(change, `${instr} needs an argument`);
  switch (instr) {
    case 'CMD':
      cfg.Cmd = jsonArray(rest) ?? (rest === '' ? null : shellForm(cfg, rest));
      break;
    case 'ENTRYPOINT':
      cfg.Entrypoint = jsonArray(rest) ?? (rest === '' ? null : shellForm(cfg, rest));
      break;
    case 'ENV': {
      const env = [...(cfg.Env ?? [])];
      for (const [k, v] of keyValues(change, rest, true)) {
        const i = env.findIndex((e) => e.split('=')[0] === k);
        if (i >= 0) env[i] = `${k}=${v}`;
        else env.push(`${k}=${v}`);
      }
      cfg.Env = env;
      break;
    }
    case 'LABEL':
      cfg.Labels = { ...(cfg.Labels ?? {}), ...Object.fromEntries(keyValues(change, rest, false)) };
      break;
    case 'EXPOSE': {
      const ports = { ...(cfg.ExposedPorts ?? {}) };
      for (const p of splitWords(rest)) {
        const pm = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(p);
        if (!pm) bad(change, `invalid port "${p}" (PORT[/tcp|udp|sctp])`);
        const lo = Number(pm[1]);
        const hi = pm[2] === undefined ? lo : Number(pm[2]);
        if (lo < 1 || hi > 65535 || hi < lo) bad(change, `invalid port range "${p}"`);
        for (let n = lo; n <= hi; n++) ports[`${n}/${(pm[3] ?? 'tcp').toLowerCase()}`] = {};
      }
      cfg.ExposedPorts = ports;
      break;
    }
    case 'USER':
      cfg.User = rest;
      break;
    case 'WORKDIR': {
      const base = cfg.WorkingDir || '/';
      const joined = rest.startsWith('/') ? rest : `${base.replace(/\/+$/, '')}/${rest}`;
      cfg.WorkingDir = joined;
      break;
    }
    case 'VOLUME': {
      const vols = { ...(cfg.Volumes ?? {}) };
      for (const v of jsonArray(rest) ?? splitWords(rest)) {
        if (v.trim() === '') bad(change, 'empty volume path');
        vols[v] = {};
      }
      cfg.Volumes = vols;
      break;
    }
    case 'STOPSIGNAL':
      if (!/^(SIG)?[A-Z0-9+]+$/i.test(rest)) bad(change, `invalid signal "${rest}"`);
      cfg.StopSignal = rest;
      break;
    case 'ONBUILD': {
      const trig = /^\s*(\S+)/.exec(rest)![1]!.toUpperCase();
      if (trig === 'ONBUILD' || trig === 'FROM' || trig === 'MAINTAINER') bad(change, `${trig} is not allowed as an ONBUILD trigger`);
      cfg.OnBuild = [...(cfg.OnBuild ?? []), rest];
      break;
    }
    default:
      bad(change, `${instr} is not supported`);
  }
  return out;
}

/** Applies several `--change` instructions in order. */
export const applyChanges = (config: ImageConfig, changes: readonly string[]): ImageConfig =>
  changes.reduce(applyChange, config);
