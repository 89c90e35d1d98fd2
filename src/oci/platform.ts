/**
 * Platforms (`linux/arm64/v8`): parsing, formatting, containerd-style
 * normalization, the host's platform, matching and choosing from an index.
 */
import { invalidArgument, notFound } from '../errors.js';
import type { Descriptor, Index, Platform } from './types.js';

const ARCH_ALIASES: Record<string, { arch: string; variant?: string }> = {
  x86_64: { arch: 'amd64' },
  'x86-64': { arch: 'amd64' },
  x64: { arch: 'amd64' },
  aarch64: { arch: 'arm64' },
  armhf: { arch: 'arm', variant: 'v7' },
  armel: { arch: 'arm', variant: 'v6' },
  i386: { arch: '386' },
  i686: { arch: '386' },
  ia32: { arch: '386' },
};

function normVariant(arch: string, variant: string | undefined): string | undefined {
  let v = variant?.toLowerCase() || undefined;
  if (v !== undefined && /^\d/.test(v)) v = `v${v}`;
  if (arch === 'arm64') {
    if (v === undefined || v === 'v8.0') return 'v8';
    if (v === 'v9.0') return 'v9';
  }
  if (arch === 'arm' && v === undefined) return 'v7';
  if (arch === 'amd64' && v === 'v1') return undefined;
  return v;
}

/**
 * containerd's normalization: lower case, `aarch64`→`arm64` (variant v8),
 * `x86_64`→`amd64`, `armhf`→`arm/v7`, `armel`→`arm/v6`, `arm`→`arm/v7`,
 * `i386`→`386`, `macos`→`darwin`, variant `8`→`v8`, amd64 `v1`→none.
 */
export function normalizePlatform(p: Platform): Platform {
  let os = p.os.toLowerCase();
  if (os === 'macos') os = 'darwin';
  let arch = p.architecture.toLowerCase();
  let variant = p.variant;
  const alias = ARCH_ALIASES[arch];
  if (alias) {
    arch = alias.arch;
    variant = variant || alias.variant;
  }
  const out: Platform = { os, architecture: arch };
  const v = normVariant(arch, variant);
  if (v !== undefined) out.variant = v;
  if (p['os.version'] !== undefined) out['os.version'] = p['os.version'];
  if (p['os.features'] !== undefined) out['os.features'] = p['os.features'];
  return out;
}

const KNOWN_OS = new Set(['linux', 'windows', 'darwin', 'freebsd', 'netbsd', 'openbsd', 'solaris', 'illumos', 'aix', 'plan9', 'js', 'wasip1', 'android', 'ios', 'dragonfly', 'macos']);

/**
 * Parses `os/arch[/variant]`, `os` alone (host architecture), or `arch` alone
 * (host OS), normalized. `linux/arm64/v8`, `linux/amd64`, `windows/amd64`.
 */
export function parsePlatform(s: string): Platform {
  const parts = s.trim().split('/');
  const bad = parts.length > 3 || parts.some((x) => !/^[A-Za-z0-9_.-]+$/.test(x));
  if (bad) {
    throw invalidArgument(`invalid platform "${s}"`, { hint: 'a platform looks like os/arch[/variant], e.g. linux/amd64 or linux/arm/v7' });
  }
  const host = hostPlatform();
  if (parts.length === 1) {
    const one = parts[0]!.toLowerCase();
    if (KNOWN_OS.has(one)) return normalizePlatform({ os: one, architecture: host.architecture, variant: host.variant });
    return normalizePlatform({ os: host.os, architecture: one });
  }
  return normalizePlatform({ os: parts[0]!, architecture: parts[1]!, variant: parts[2] });
}

/** `linux/arm/v7`, `linux/amd64` (the variant only when present). */
export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter((x) => x !== undefined && x !== '').join('/');
}

/** Normalized, as BuildKit and Docker name it to people: `linux/arm64` (its default v8 left out), `linux/arm/v7`. */
export function displayPlatform(p: Platform): string {
  const n = normalizePlatform(p);
  return formatPlatform(n.architecture === 'arm64' && n.variant === 'v8' ? { os: n.os, architecture: n.architecture } : n);
}

/** The platform this process runs on, from `process.platform` and `process.arch`. */
export function hostPlatform(): Platform {
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  const map: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64', mips64el: 'mips64le' };
  const architecture = map[process.arch] ?? process.arch;
  let variant: string | undefined;
  if (architecture === 'arm') {
    const v = (process.config.variables as Record<string, unknown>).arm_version;
    variant = v === undefined ? undefined : `v${String(v)}`;
  }
  return normalizePlatform({ os, architecture, variant });
}

const num = (v: string | undefined): number => (v === undefined ? 1 : Number.parseFloat(v.replace(/^v/, '')) || 0);

/**
 * How well `have` serves `want`: 0 is an exact match, higher is a worse but
 * compatible match (arm/v7 runs arm/v6; arm64 runs arm/v7; amd64/v3 runs v2),
 * undefined is no match. Both are normalized first.
 */
export function platformRank(want: Platform, have: Platform): number | undefined {
  const w = normalizePlatform(want);
  const h = normalizePlatform(have);
  if (w.os !== h.os) return undefined;
  let rank: number;
  if (w.architecture === h.architecture) {
    if (w.variant === h.variant) rank = 0;
    else if (['arm', 'arm64', 'amd64'].includes(w.architecture) && num(h.variant) < num(w.variant)) rank = 1 + Math.round((num(w.variant) - num(h.variant)) * 10);
    else return undefined;
  } else if (w.architecture === 'arm64' && h.architecture === 'arm' && w.os === 'linux') {
    rank = 100 + Math.round((8 - num(h.variant)) * 10); // 32-bit arm on arm64 (containerd's platform vector)
  } else {
    return undefined;
  }
  if (w['os.version'] !== undefined && h['os.version'] !== undefined && w['os.version'] !== h['os.version']) {
    // Windows: same build prefix is required, exact version preferred
    const prefix = (v: string): string => v.split('.').slice(0, 3).join('.');
    if (prefix(w['os.version']) !== prefix(h['os.version'])) return undefined;
    rank += 0.5;
  }
  return rank;
}

/** True when an image for `have` can run where `want` is asked for. */
export const matchPlatform = (want: Platform, have: Platform): boolean => platformRank(want, have) !== undefined;

/**
 * The best manifest descriptor of an index for `want`: an exact match first,
 * then the closest compatible one; entries without a platform are skipped.
 * Throws NOT_FOUND listing the platforms the index has.
 */
export function selectManifest(index: Index, want: Platform, what = 'image index'): Descriptor {
  let best: Descriptor | undefined;
  let bestRank = Infinity;
  for (const d of index.manifests) {
    if (!d.platform) continue;
    const r = platformRank(want, d.platform);
    if (r !== undefined && r < bestRank) {
      best = d;
      bestRank = r;
    }
  }
  if (best) return best;
  const have = [...new Set(index.manifests.filter((d) => d.platform && d.platform.os !== 'unknown').map((d) => formatPlatform(d.platform!)))];
  throw notFound(`${what}: no manifest for platform ${formatPlatform(normalizePlatform(want))}; available: ${have.length ? have.join(', ') : 'none'}`, {
    hint: `choose one of the available platforms with --platform`,
  });
}
