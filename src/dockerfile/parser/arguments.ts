/**
 * How each instruction's argument text becomes argument strings — BuildKit's
 * parser dispatch table. Syntax only: no meaning, no expansion. A problem
 * throws a plain message; parse.ts adds the location.
 */
import { splitOnce, splitWords, trimSpace, BLANKS } from './split.js';

export interface ParsedArgs {
  args: string[];
  json: boolean;
  /** ONBUILD: the nested instruction's text. */
  subcommand?: string;
}

export class ArgumentError extends Error {}

type ArgParser = (rest: string, escape: string) => ParsedArgs;

const none: ParsedArgs = { args: [], json: false };

/** A JSON array of strings, or `undefined` when the text is not JSON at all. */
export function parseJSONArray(rest: string): string[] | undefined {
  const t = rest.replace(/^\p{White_Space}+/u, '');
  if (!t.startsWith('[')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(t);
  } catch (e) {
    if (e instanceof SyntaxError) return undefined; // not JSON: the shell form
    throw e;
  }
  if (!Array.isArray(parsed)) return undefined;
  if (!parsed.every((x): x is string => typeof x === 'string')) {
    throw new ArgumentError('the JSON array must hold only strings');
  }
  return parsed;
}

const whitespaceList: ArgParser = (rest) => {
  const t = trimSpace(rest);
  return t === '' ? none : { args: t.split(BLANKS), json: false };
};

const maybeJSON: ArgParser = (rest) => {
  if (rest === '') return none;
  const arr = parseJSONArray(rest);
  return arr ? { args: arr, json: true } : { args: [rest], json: false };
};

const maybeJSONToList: ArgParser = (rest, escape) => {
  const arr = parseJSONArray(rest);
  return arr ? { args: arr, json: true } : whitespaceList(rest, escape);
};

const single: ArgParser = (rest) => (rest === '' ? none : { args: [rest], json: false });

function nameVal(key: string): ArgParser {
  return (rest, escape) => {
    const words = splitWords(rest, escape);
    if (words.length === 0) return none;
    if (!words[0].includes('=')) {
      const parts = splitOnce(rest);
      if (parts.length < 2) throw new ArgumentError(`${key} must have two arguments`);
      return { args: [parts[0], parts[1] as string, ''], json: false };
    }
    const args: string[] = [];
    for (const w of words) {
      const eq = w.indexOf('=');
      if (eq < 0) throw new ArgumentError(`syntax error - can't find = in "${w}", must be of the form name=value`);
      args.push(w.slice(0, eq), w.slice(eq + 1), '=');
    }
    return { args, json: false };
  };
}

const nameOrNameVal: ArgParser = (rest, escape) => ({ args: splitWords(rest, escape), json: false });

const healthConfig: ArgParser = (rest, escape) => {
  const m = /^(\S+)\s*/u.exec(rest);
  if (!m || m[1] === '') return none;
  const cmd = maybeJSON(rest.slice(m[0].length), escape);
  return { args: [m[1], ...cmd.args], json: cmd.json };
};

const subCommand: ArgParser = (rest) => (rest === '' ? none : { args: [], json: false, subcommand: rest });

const ignore: ArgParser = () => none;

const table: Record<string, ArgParser> = {
  add: maybeJSONToList,
  arg: nameOrNameVal,
  cmd: maybeJSON,
  copy: maybeJSONToList,
  entrypoint: maybeJSON,
  env: nameVal('ENV'),
  expose: whitespaceList,
  from: whitespaceList,
  healthcheck: healthConfig,
  label: nameVal('LABEL'),
  maintainer: single,
  onbuild: subCommand,
  run: maybeJSON,
  shell: maybeJSON,
  stopsignal: single,
  user: single,
  volume: maybeJSONToList,
  workdir: single,
};

/** The known instruction names, for "did you mean". */
export const INSTRUCTIONS = Object.keys(table);

export function parseArguments(name: string, rest: string, escape: string): ParsedArgs {
  return (table[name] ?? ignore)(rest, escape);
}
