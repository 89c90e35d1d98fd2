/**
 * `kiln events --filter key=value`, as Docker reads it: values of one key are
 * alternatives, keys must all match. `image=busybox` matches image events
 * for any tag of docker.io/library/busybox (and its ID), and container
 * events whose image is that; `container=` matches an ID prefix or a name.
 */
import { invalidArgument } from '../errors.js';
import { formatReference, parseNormalizedNamed, parseReference, repositoryName } from '../name/reference.js';
import type { KilnEvent } from './events.js';

const KEYS = ['type', 'event', 'container', 'image', 'volume'];

/** What an `image=` value stands for: its full name, and the repository when no tag was given. */
function imageNames(value: string): { full?: string; repo?: string } {
  try {
    const r = parseReference(value);
    return { full: formatReference(parseNormalizedNamed(value)), ...(r.tag === undefined && r.digest === undefined ? { repo: repositoryName(r) } : {}) };
  } catch {
    return {}; // an ID or a prefix of one
  }
}

function repoOf(name: string): string | undefined {
  try {
    return repositoryName(parseReference(name));
  } catch {
    return undefined;
  }
}

/** An image ID or a prefix of one, with or without `sha256:`. */
const idPrefix = (value: string): string | undefined => /^(sha256:)?[a-f0-9]{4,64}$/.test(value) ? value.replace(/^sha256:/, '') : undefined;

function matchesImage(value: string, subjects: string[]): boolean {
  const { full, repo } = imageNames(value);
  const id = idPrefix(value);
  return subjects.some(
    (s) => s === value || (id !== undefined && s.startsWith(`sha256:${id}`)) || (full !== undefined && s === full) || (repo !== undefined && repoOf(s) === repo),
  );
}

/** The image names an event is about: its id and `name` (a build's may list several tags, comma-separated). */
const imageSubjects = (e: KilnEvent): string[] =>
  e.type === 'image' ? [e.id, ...(e.attributes.name ?? '').split(',').filter(Boolean)] : e.type === 'container' && e.attributes.image ? [e.attributes.image] : [];

/** Parses `key=value` filters into a matcher; unknown keys are an error, as in Docker. */
export function eventMatcher(filters: string[] = []): (e: KilnEvent) => boolean {
  const want = new Map<string, string[]>();
  for (const f of filters) {
    const i = f.indexOf('=');
    const key = i < 0 ? '' : f.slice(0, i);
    if (!KEYS.includes(key)) {
      throw invalidArgument(`invalid filter "${f}"`, { hint: 'use type=, event=, container=, image= or volume=' });
    }
    want.set(key, [...(want.get(key) ?? []), f.slice(i + 1)]);
  }
  return (e) =>
    [...want].every(([key, values]) => {
      if (key === 'type') return values.includes(e.type);
      if (key === 'event') return values.includes(e.action);
      if (key === 'image') return values.some((v) => matchesImage(v, imageSubjects(e)));
      if (key !== e.type) return false;
      return values.some((v) => e.id === v || e.id.startsWith(v) || e.attributes.name === v);
    });
}
