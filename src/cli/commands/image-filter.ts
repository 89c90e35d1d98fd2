/**
 * `kiln images --filter` (`-f`), with docker's meaning: `dangling=true|false`
 * (images without a name, or with one), `reference=PATTERN` (a name or
 * name:tag glob, as docker's path.Match: `*` and `?` stop at `/`; only the
 * matching names are shown), `before=IMAGE` / `since=IMAGE` (created before or
 * after that image), `label=KEY` / `label=KEY=VALUE` (from each image's
 * config: read only when this filter is given, see `needsLabels`). Values of
 * one key are alternatives, except labels which must all hold (docker's
 * rule); different keys must all hold. An unknown key or value is one line.
 */
import { invalidArgument, notFound } from '../../errors.js';
import type { ImageSummary } from '../../engine/engine.js';
import { familiarString, parseReference } from '../../name/reference.js';

const KEYS = ['dangling', 'reference', 'before', 'since', 'label'];

/** Whether the filters ask for labels (then the caller reads each image's config). */
export const needsLabels = (specs: string[]): boolean => specs.some((s) => s === 'label' || s.startsWith('label='));

/** A docker path.Match pattern as an anchored regular expression. */
function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (const ch of pattern) {
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The names of an image a reference pattern matches: `name:tag` or `name` alone, in docker's familiar form. */
function matchingTags(image: ImageSummary, patterns: RegExp[]): string[] {
  return image.repoTags.filter((t) => {
    const familiar = familiarString(parseReference(t));
    const name = familiar.replace(/:[^:/]*$/, '');
    return patterns.some((p) => p.test(familiar) || p.test(name));
  });
}

function createdOf(images: ImageSummary[], ref: string, key: string): number {
  const bare = ref.replace(/^sha256:/, '');
  const hit = images.find((i) => i.id.slice(7).startsWith(bare) || i.repoTags.some((t) => t === ref || familiarString(parseReference(t)) === ref || familiarString(parseReference(t)) === `${ref}:latest`));
  if (!hit) throw notFound(`no such image: ${ref} (in --filter ${key}=${ref})`, { hint: 'name an image kiln images lists' });
  return Date.parse(hit.created ?? '') || 0;
}

/** `labels` (image id → its config's labels) is needed when a label= filter is given. */
export function filterImages(images: ImageSummary[], specs: string[], labels?: Map<string, Record<string, string>>): ImageSummary[] {
  const want = new Map<string, string[]>();
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const key = eq < 0 ? spec : spec.slice(0, eq);
    const value = eq < 0 ? '' : spec.slice(eq + 1);
    if (!KEYS.includes(key)) throw invalidArgument(`invalid filter '${key}'`, { hint: 'kiln images supports --filter dangling=, reference=, before=, since=, label=' });
    if (key === 'dangling' && value !== 'true' && value !== 'false') throw invalidArgument(`invalid filter 'dangling=${value}'`, { hint: 'use --filter dangling=true or dangling=false' });
    want.set(key, [...(want.get(key) ?? []), value]);
  }
  const dangling = want.get('dangling');
  const patterns = want.get('reference')?.map(globToRegExp);
  const before = want.get('before')?.map((r) => createdOf(images, r, 'before'));
  const since = want.get('since')?.map((r) => createdOf(images, r, 'since'));
  const wantLabels = want.get('label');
  const labelled = (image: ImageSummary) => {
    const have = labels?.get(image.id) ?? {};
    return wantLabels!.every((l) => (l.includes('=') ? have[l.slice(0, l.indexOf('='))] === l.slice(l.indexOf('=') + 1) : Object.hasOwn(have, l)));
  };
  const out: ImageSummary[] = [];
  for (const image of images) {
    const created = Date.parse(image.created ?? '') || 0;
    if (dangling && !dangling.some((v) => (image.repoTags.length === 0) === (v === 'true'))) continue;
    if (before && !before.some((t) => created < t)) continue;
    if (since && !since.some((t) => created > t)) continue;
    if (wantLabels && !labelled(image)) continue;
    if (patterns) {
      const tags = matchingTags(image, patterns);
      if (tags.length === 0) continue;
      out.push({ ...image, repoTags: tags });
      continue;
    }
    out.push(image);
  }
  return out;
}
