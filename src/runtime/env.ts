/** The container's environment: image Env, then `-e`, plus PATH, HOSTNAME, TERM and HOME as Docker adds them. */
import { DEFAULT_PATH } from './defaults.js';

const keyOf = (kv: string): string => {
  const i = kv.indexOf('=');
  return i < 0 ? kv : kv.slice(0, i);
};

export interface EnvContext {
  hostname?: string;
  home: string;
  tty?: boolean;
}

export function mergeEnv(imageEnv: string[] = [], runEnv: string[] = [], ctx: EnvContext): string[] {
  const env = new Map<string, string>();
  const set = (kv: string): void => {
    // `-e NAME` without a value is resolved by the CLI from its own environment; a bare name here is kept out.
    if (kv.includes('=')) env.set(keyOf(kv), kv);
  };
  env.set('PATH', `PATH=${DEFAULT_PATH}`);
  if (ctx.hostname !== undefined) env.set('HOSTNAME', `HOSTNAME=${ctx.hostname}`);
  if (ctx.tty) env.set('TERM', 'TERM=xterm');
  imageEnv.forEach(set);
  runEnv.forEach(set);
  if (!env.has('HOME')) env.set('HOME', `HOME=${ctx.home}`);
  return [...env.values()];
}
