/**
 * `--platform` values as a build takes them, parsed and checked before
 * anything else runs (the CLI, and the agent for a remote build's start):
 * apart from platforms.ts, so that neither loads the builder to parse a flag.
 */
import { invalidArgument } from '../errors.js';
import { formatPlatform, normalizePlatform, parsePlatform } from '../oci/platform.js';
import type { Platform } from '../oci/types.js';

/** Architectures Linux images are built for (Go's names, as BuildKit takes them). */
const ARCHES = new Set(['amd64', 'arm64', 'arm', '386', 'riscv64', 'ppc64le', 'ppc64', 's390x', 'mips64le', 'mips64', 'mipsle', 'mips', 'loong64']);

/**
 * `--platform` values as BuildKit names them: normalized, and arm64 without its
 * default variant (`linux/arm64`, TARGETVARIANT empty), `linux/arm/v7` with it.
 * Comma-separated lists and repeated flags both work; duplicates are dropped.
 */
export function targetPlatforms(values: string[]): Platform[] {
  const out = new Map<string, Platform>();
  for (const s of values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean)) {
    const p = normalizePlatform(parsePlatform(s));
    if (p.architecture === 'arm64' && p.variant === 'v8') delete p.variant;
    if (p.os !== 'linux') throw invalidArgument(`--platform ${s}: kiln builds Linux images only`, { hint: 'use linux/ARCH, e.g. linux/arm64' });
    if (!ARCHES.has(p.architecture)) throw invalidArgument(`--platform ${s}: unknown architecture ${p.architecture}`, { hint: `use one of ${[...ARCHES].join(', ')}` });
    out.set(formatPlatform(p), p);
  }
  return [...out.values()];
}
