/**
 * BuildKit's exec op digest for a RUN beyond the plain form (keys.ts
 * execDigest): its mounts, network and security modes and secret env vars, in
 * pb.ExecOp's field order (meta with extraHosts, mounts, network, security, secretenv; Go's
 * omitempty drops the defaults). Enum values as pb (v0.34.2) numbers them:
 * network sandbox 0, host 1, none 2; security sandbox 0, insecure 1. Proxy
 * build args are not here: BuildKit moves them to meta.proxy_env and clears
 * that before hashing (run-step.ts leaves them out of env).
 */
import type { Platform } from '../../oci/types.js';
import { goJson } from './go-json.js';
import { sha256, type ExecMeta } from './keys.js';

export interface ExecExtras {
  /** pb.Mount objects (run-mounts.ts), the root mount first; empty: the root mount alone, left out of the key. */
  mounts?: Record<string, unknown>[];
  network?: 'default' | 'host' | 'none';
  security?: 'sandbox' | 'insecure';
  secretenv?: Record<string, unknown>[];
  /** --add-host NAME:IP values: meta.extraHosts holds each name (BuildKit clears the IP before hashing), in order. */
  addHosts?: string[];
}

const NETWORK = { default: 0, host: 1, none: 2 } as const;
const SECURITY = { sandbox: 0, insecure: 1 } as const;

export function execOpDigest(meta: ExecMeta, extras: ExecExtras, platform: Platform): string {
  const m = {
    ...(meta.args.length ? { args: meta.args } : {}),
    ...(meta.env.length ? { env: meta.env } : {}),
    ...(meta.cwd ? { cwd: meta.cwd } : {}),
    ...(meta.user ? { user: meta.user } : {}),
    ...(extras.addHosts?.length ? { extraHosts: extras.addHosts.map((h) => ({ Host: h.slice(0, h.indexOf(':')) })) } : {}),
    removeMountStubsRecursive: true,
  };
  const network = NETWORK[extras.network ?? 'default'];
  const security = SECURITY[extras.security ?? 'sandbox'];
  // BuildKit leaves a lone root mount out of the key (its compatibility case).
  const mounts = extras.mounts && extras.mounts.length > 1 ? extras.mounts : undefined;
  const exec = {
    meta: m,
    ...(mounts ? { mounts } : {}),
    ...(network ? { network } : {}),
    ...(security ? { security } : {}),
    ...(extras.secretenv?.length ? { secretenv: extras.secretenv } : {}),
  };
  const p = { OS: platform.os, Arch: platform.architecture, ...(platform.variant ? { Variant: platform.variant } : {}) };
  return sha256(goJson({ Type: 'buildkit.exec.v0', Exec: exec, ...p }));
}
