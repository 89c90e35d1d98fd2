/** `--cap-add` / `--cap-drop` over Docker's default set, as Docker applies them. */
import { invalidArgument } from '../errors.js';
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES } from './defaults.js';

export function normalizeCap(name: string): string {
  const up = name.trim().toUpperCase();
  if (up === 'ALL') return up;
  const cap = up.startsWith('CAP_') ? up : `CAP_${up}`;
  if (!ALL_CAPABILITIES.includes(cap)) {
    throw invalidArgument(`unknown capability: "${name}"`, { hint: 'see capabilities(7) for the names, e.g. NET_ADMIN' });
  }
  return cap;
}

export function capabilitySet(opts: { privileged?: boolean; capAdd?: string[]; capDrop?: string[] }): string[] {
  if (opts.privileged) return [...ALL_CAPABILITIES];
  const add = (opts.capAdd ?? []).map(normalizeCap);
  const drop = (opts.capDrop ?? []).map(normalizeCap);
  if (add.includes('ALL')) return ALL_CAPABILITIES.filter((c) => !drop.includes(c));
  const base = drop.includes('ALL') ? [] : DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c));
  return [...new Set([...base, ...add])];
}
