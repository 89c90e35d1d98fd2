/**
 * Instruction flags (`--from=x`, `--link`, `--mount=…` repeated), checked
 * against what each instruction accepts, as BuildKit's BFlags does.
 */
export type FlagKind = 'string' | 'bool' | 'strings';
export type FlagSpec = Record<string, FlagKind>;

export interface Flags {
  string(name: string): string | undefined;
  bool(name: string): boolean;
  /** A bool flag's value as written, undefined when absent (`--unpack`: its default depends on the source). */
  optionalBool(name: string): boolean | undefined;
  strings(name: string): string[];
}

/** Throws a plain message; the caller adds the location. */
export class FlagError extends Error {
  constructor(
    message: string,
    /** The flag as written up to `=`, e.g. `--platform`. */
    readonly flag?: string,
  ) {
    super(message);
  }
}

export function parseFlags(instruction: string, raw: string[], spec: FlagSpec): Flags {
  const strings = new Map<string, string>();
  const bools = new Map<string, boolean>();
  const lists = new Map<string, string[]>();
  for (const word of raw) {
    if (!word.startsWith('--')) throw new FlagError(`bad flag ${JSON.stringify(word)}: flags start with --`, word);
    const eq = word.indexOf('=');
    const name = eq < 0 ? word.slice(2) : word.slice(2, eq);
    const value = eq < 0 ? undefined : word.slice(eq + 1);
    const kind = spec[name];
    if (!kind) {
      const known = Object.keys(spec).map((k) => `--${k}`);
      throw new FlagError(
        `unknown flag --${name} for ${instruction}` + (known.length ? ` (it accepts ${known.join(', ')})` : ' (it takes no flags)'),
        `--${name}`,
      );
    }
    if (kind === 'bool') {
      if (bools.has(name)) throw new FlagError(`duplicate flag specified: --${name}`, `--${name}`);
      const v = value === undefined ? 'true' : value.toLowerCase();
      if (v !== 'true' && v !== 'false') throw new FlagError(`expecting boolean value for flag --${name}, not: ${value}`, `--${name}`);
      bools.set(name, v === 'true');
      continue;
    }
    if (value === undefined) throw new FlagError(`missing a value on flag --${name}`, `--${name}`);
    if (kind === 'strings') lists.set(name, [...(lists.get(name) ?? []), value]);
    else {
      if (strings.has(name)) throw new FlagError(`duplicate flag specified: --${name}`, `--${name}`);
      strings.set(name, value);
    }
  }
  return {
    string: (n) => strings.get(n),
    bool: (n) => bools.get(n) ?? false,
    optionalBool: (n) => bools.get(n),
    strings: (n) => lists.get(n) ?? [],
  };
}
