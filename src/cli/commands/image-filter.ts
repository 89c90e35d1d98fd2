/**
 * `kiln images --filter` (`-f`): the keys kiln supports so far, with docker's
 * meaning — `dangling=true|false` (images without a name, or with one).
 * Several filters must all hold; an unknown key or value is one line.
 */
import { invalidArgument } from '../../errors.js';
import type { ImageSummary } from '../../engine/engine.js';

export type ImageFilter = (image: ImageSummary) => boolean;

export function parseImageFilters(specs: string[]): ImageFilter {
  const tests: ImageFilter[] = specs.map((spec) => {
    const eq = spec.indexOf('=');
    const key = eq < 0 ? spec : spec.slice(0, eq);
    const value = eq < 0 ? '' : spec.slice(eq + 1);
    if (key === 'dangling') {
      if (value !== 'true' && value !== 'false') throw invalidArgument(`invalid filter 'dangling=${value}'`, { hint: 'use --filter dangling=true or dangling=false' });
      return (i) => (i.repoTags.length === 0) === (value === 'true');
    }
    throw invalidArgument(`invalid filter '${key}'`, { hint: 'kiln images supports --filter dangling=true|false' });
  });
  return (i) => tests.every((t) => t(i));
}
