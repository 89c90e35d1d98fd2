/** Platforms as `os/arch[/variant]` and the predefined ARGs derived from them. */
import type { Platform } from '../../oci/types.js';

const NODE_ARCH: Record<string, Platform> = {
  x64: { os: 'linux', architecture: 'amd64' },
  arm64: { os: 'linux', architecture: 'arm64' },
  arm: { os: 'linux', architecture: 'arm', variant: 'v7' },
  ia32: { os: 'linux', architecture: '386' },
  ppc64: { os: 'linux', architecture: 'ppc64le' },
  s390x: { os: 'linux', architecture: 's390x' },
  riscv64: { os: 'linux', architecture: 'riscv64' },
};

/** The platform of this machine, as a container platform (always linux). */
export function hostPlatform(): Platform {
  return { ...(NODE_ARCH[process.arch] ?? { os: 'linux', architecture: process.arch }) };
}

export const formatPlatform = (p: Platform): string => [p.os, p.architecture, p.variant].filter(Boolean).join('/');

/** `linux/arm64`, `linux/arm/v7`; undefined when malformed. */
export function parsePlatform(s: string): Platform | undefined {
  const parts = s.trim().toLowerCase().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9_.-]+$/.test(p))) return undefined;
  const p: Platform = { os: parts[0], architecture: parts[1] };
  if (parts[2]) p.variant = parts[2];
  return p;
}

export function platformArgs(target: Platform, build: Platform): Record<string, string> {
  return {
    TARGETPLATFORM: formatPlatform(target),
    TARGETOS: target.os,
    TARGETARCH: target.architecture,
    TARGETVARIANT: target.variant ?? '',
    BUILDPLATFORM: formatPlatform(build),
    BUILDOS: build.os,
    BUILDARCH: build.architecture,
    BUILDVARIANT: build.variant ?? '',
  };
}

/** Build args Docker passes to RUN without an ARG (and keeps out of history). */
export const PROXY_ARGS = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'];
