import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** The version in kiln's package.json. */
export function kilnVersion(): string {
  cached ??= (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return cached;
}
