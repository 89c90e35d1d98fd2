/**
 * The one rule for "a container uses this named volume", shared by `volume
 * rm`/`volume prune` (the local engine) and `volume ls -f dangling=` (the
 * CLI, over any backend's container details): a volume it mounted, or one
 * its flags name (`-v NAME:/path`, `--mount source=NAME`), started or not.
 */
import type { ContainerSpec, MountPoint } from '../containers.js';

export function namedVolumes(c: { mounts: Pick<MountPoint, 'name'>[]; spec: Pick<ContainerSpec, 'volumes' | 'mounts'> }): string[] {
  const out = new Set<string>();
  for (const m of c.mounts) if (m.name) out.add(m.name);
  for (const v of c.spec.volumes ?? []) if (!v.startsWith('/') && v.includes(':')) out.add(v.split(':')[0]!);
  for (const m of c.spec.mounts ?? []) {
    const src = /(?:^|,)(?:source|src)=([^,]+)/.exec(m)?.[1];
    if (src && !src.startsWith('/')) out.add(src);
  }
  return [...out];
}
