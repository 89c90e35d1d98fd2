/**
 * `--build-arg K=V` and `--label K=V` as `kiln build` and `kiln executor`
 * parse them: `K=V` pairs (the value may hold `=`, a later pair wins); for
 * build args a bare `K` takes the value of the CLI's environment and is left
 * out when unset (Docker's rule); an empty name is one line.
 */
import { invalidArgument } from '../errors.js';

export function keyValues(list: string[], what: string, fromEnv: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const i = kv.indexOf('=');
    if (i === 0) throw invalidArgument(`${what} ${kv}: the name is empty`, { hint: `use ${what} NAME=VALUE` });
    if (i < 0) {
      if (!fromEnv) throw invalidArgument(`${what} ${kv}: expected NAME=VALUE`);
      const v = process.env[kv];
      if (v !== undefined) out[kv] = v;
      continue;
    }
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}
