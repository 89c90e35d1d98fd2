/**
 * `-v`, `--mount` and `--tmpfs` → the runtime's mounts. Named volumes are
 * created on first use and seeded from the image's content at their path;
 * image VOLUMEs that nothing covers get an anonymous volume, as in Docker.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { invalidArgument, isErrno, notFound } from '../../errors.js';
import type { Mount } from '../../runtime/index.js';
import type { ContainerSpec, MountPoint } from '../containers.js';
import type { VolumeStore } from './store.js';

/** Parses the flags into mount points (volumes by name, binds by host path). */
export function parseMounts(spec: Pick<ContainerSpec, 'volumes' | 'mounts' | 'tmpfs'>): MountPoint[] {
  const out: MountPoint[] = [];
  const dest = (d: string | undefined, flag: string): string => {
    if (!d || !path.posix.isAbsolute(d)) throw invalidArgument(`invalid ${flag}: the container path "${d ?? ''}" must be absolute`, { hint: 'e.g. -v data:/data' });
    return path.posix.normalize(d);
  };
  for (const v of spec.volumes ?? []) {
    const parts = v.split(':');
    if (parts.length === 1) {
      out.push({ type: 'volume', source: '', destination: dest(parts[0], `-v ${v}`), readOnly: false });
      continue;
    }
    if (parts.length > 3) throw invalidArgument(`invalid -v "${v}"`, { hint: 'use NAME:/path, /host:/path or /host:/path:ro' });
    const [src, d, mode = 'rw'] = parts as [string, string, string?];
    if (!/^(ro|rw)(,z|,Z)?$|^(z|Z)$/.test(mode)) throw invalidArgument(`invalid -v mode "${mode}" in "${v}"`, { hint: 'use ro or rw' });
    const readOnly = mode.startsWith('ro');
    if (src.startsWith('/')) out.push({ type: 'bind', source: path.normalize(src), destination: dest(d, `-v ${v}`), readOnly });
    else out.push({ type: 'volume', name: src, source: '', destination: dest(d, `-v ${v}`), readOnly });
  }
  for (const m of spec.mounts ?? []) {
    const kv = new Map<string, string>();
    for (const field of m.split(',')) {
      const i = field.indexOf('=');
      kv.set(i < 0 ? field : field.slice(0, i), i < 0 ? 'true' : field.slice(i + 1));
    }
    const type = kv.get('type') ?? 'volume';
    const target = kv.get('target') ?? kv.get('destination') ?? kv.get('dst');
    const source = kv.get('source') ?? kv.get('src');
    const readOnly = ['true', '1'].includes(kv.get('readonly') ?? kv.get('ro') ?? 'false');
    if (type === 'bind') {
      if (!source || !source.startsWith('/')) throw invalidArgument(`invalid --mount "${m}": a bind needs an absolute source`, { hint: 'type=bind,source=/host/dir,target=/dir' });
      out.push({ type: 'bind', source: path.normalize(source), destination: dest(target, `--mount ${m}`), readOnly });
    } else if (type === 'volume') {
      out.push({ type: 'volume', ...(source ? { name: source } : {}), source: '', destination: dest(target, `--mount ${m}`), readOnly });
    } else if (type === 'tmpfs') {
      const size = kv.get('tmpfs-size');
      out.push({ type: 'tmpfs', source: size ? `size=${size}` : '', destination: dest(target, `--mount ${m}`), readOnly });
    } else {
      throw invalidArgument(`invalid --mount type "${type}"`, { hint: 'use type=bind, type=volume or type=tmpfs' });
    }
  }
  for (const t of spec.tmpfs ?? []) {
    const i = t.indexOf(':');
    out.push({ type: 'tmpfs', source: i < 0 ? '' : t.slice(i + 1), destination: dest(i < 0 ? t : t.slice(0, i), `--tmpfs ${t}`), readOnly: false });
  }
  const seen = new Set<string>();
  for (const p of out) {
    if (seen.has(p.destination)) throw invalidArgument(`duplicate mount point: ${p.destination}`, { hint: 'mount each container path once' });
    seen.add(p.destination);
  }
  return out;
}

/** Resolves volumes (creating and seeding them) and returns the runtime mounts and the final mount points. */
export async function resolveMounts(
  points: MountPoint[],
  imageVolumes: string[],
  rootfs: string,
  volumes: VolumeStore,
): Promise<{ mounts: Mount[]; points: MountPoint[] }> {
  const all = [...points];
  for (const v of imageVolumes) {
    const d = path.posix.normalize(v);
    if (!all.some((p) => p.destination === d)) all.push({ type: 'volume', source: '', destination: d, readOnly: false });
  }
  const mounts: Mount[] = [];
  const resolved: MountPoint[] = [];
  for (const p of all) {
    if (p.type === 'tmpfs') {
      const opts = ['nosuid', 'nodev', 'noexec', ...(p.source ? p.source.split(',') : []), ...(p.readOnly ? ['ro'] : [])];
      mounts.push({ destination: p.destination, type: 'tmpfs', source: 'tmpfs', options: opts });
      resolved.push({ ...p, source: 'tmpfs' });
      continue;
    }
    let source = p.source;
    let name = p.name;
    if (p.type === 'bind') {
      try {
        await stat(source);
      } catch (e) {
        if (isErrno(e, 'ENOENT')) throw notFound(`bind source path does not exist: ${source}`, { hint: 'create it first' });
        throw e;
      }
    } else {
      const v = await volumes.create(name);
      name = v.name;
      source = v.mountpoint;
      const { resolveInRoot } = await import('../../layer/tar.js');
      await volumes.seed(v.name, resolveInRoot(rootfs, p.destination.split('/'), { followLast: true }));
    }
    mounts.push({ destination: p.destination, type: 'bind', source, options: ['rbind', 'rprivate', p.readOnly ? 'ro' : 'rw'] });
    resolved.push({ ...p, source, ...(name ? { name } : {}) });
  }
  // Parents before children: /data before /data/cache.
  const depth = (d: string) => d.split('/').filter(Boolean).length;
  mounts.sort((a, b) => depth(a.destination) - depth(b.destination));
  return { mounts, points: resolved };
}
