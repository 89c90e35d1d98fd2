/**
 * A platform as BuildKit writes it into its keys: containerd's normalized
 * form, where arm64's default variant v8 is no variant (measured: a
 * linux/arm64 image source and exec op carry `"Arch":"arm64"` and no Variant),
 * unlike kiln's normalizePlatform, which spells it out.
 */
import { normalizePlatform } from '../../oci/platform.js';
import type { Platform } from '../../oci/types.js';

export function buildkitPlatform(p: Platform): Platform {
  const n = normalizePlatform(p);
  if (n.architecture === 'arm64' && n.variant === 'v8') delete n.variant;
  return n;
}
