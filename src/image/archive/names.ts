/** Image names as archives spell them: Docker's RepoTags (familiar) and OCI annotations (full). */
import { familiarName, familiarString, formatReference, parseNormalizedNamed } from '../../name/reference.js';

export const CONTAINERD_NAME = 'io.containerd.image.name';

/** `busybox:latest` → `docker.io/library/busybox:latest` */
export const fullName = (name: string): string => formatReference(parseNormalizedNamed(name));

/** `docker.io/library/busybox:latest` → `busybox:latest` (undefined for digest-only names). */
export function repoTag(name: string): string | undefined {
  const ref = parseNormalizedNamed(name);
  return ref.tag === undefined ? undefined : familiarString({ ...ref, digest: undefined });
}

/** `{ busybox: 'latest' }` parts of a name, for the legacy `repositories` file. */
export function repoAndTag(name: string): { repo: string; tag: string } | undefined {
  const ref = parseNormalizedNamed(name);
  return ref.tag === undefined ? undefined : { repo: familiarName(ref), tag: ref.tag };
}

const bareTag = /^[\w][\w.-]{0,127}$/;

/**
 * The image name in an archive's index.json entry: io.containerd.image.name,
 * else ref.name when it is a whole reference (Docker writes just the tag there).
 */
export function nameFromAnnotations(annotations: Record<string, string> | undefined, refNameKey: string): string | undefined {
  const full = annotations?.[CONTAINERD_NAME];
  if (full) return fullName(full);
  const ref = annotations?.[refNameKey];
  if (ref && !bareTag.test(ref)) return fullName(ref);
  return undefined;
}
