import { readFileSync } from 'node:fs';

let cached: string | undefined;
/** Set by the bundler in the packaged executable (scripts/package.mjs), where there is no package.json. */
declare const __KILN_VERSION__: string | undefined;

/** The version in kiln's package.json. */
export function kilnVersion(): string {
  cached ??= typeof __KILN_VERSION__ === 'string' ? __KILN_VERSION__ : (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return cached;
}
