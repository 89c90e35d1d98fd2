/** What each instruction builder gets: its node, its location and located failure. */
import { DockerfileError, spanLocation } from '../located-error.js';
import type { Node } from '../parser/node.js';
import { FlagError, parseFlags, type FlagSpec, type Flags } from './flags.js';
import type { CommandLine, InstructionLocation } from './types.js';

export class BuildContext {
  readonly loc: InstructionLocation;
  readonly upper: string;

  constructor(
    readonly node: Node,
    file: string,
  ) {
    this.loc = { file, startLine: node.startLine, endLine: node.endLine, original: node.original, firstLine: node.firstLine };
    this.upper = node.name.toUpperCase();
  }

  /** Throws a located error; `at` is text on the first line to point the column at. */
  fail(what: string, hint?: string, cause?: unknown, at?: string): never {
    throw new DockerfileError(spanLocation(this.loc, at), what, { hint, cause });
  }

  flags(spec: FlagSpec): Flags {
    try {
      return parseFlags(this.upper, this.node.flags, spec);
    } catch (e) {
      if (e instanceof FlagError) this.fail(e.message, undefined, e, e.flag);
      throw e;
    }
  }

  /** Exec form for a JSON array, shell form otherwise. */
  command(args = this.node.args, json = this.node.json): CommandLine {
    return json ? { form: 'exec', args: [...args] } : { form: 'shell', script: args.join(' ') };
  }

  requireArgs(min: number, what = 'argument'): void {
    if (this.node.args.length < min) {
      this.fail(`${this.upper} requires at least ${min === 1 ? 'one' : min} ${what}${min === 1 ? '' : 's'}`);
    }
  }

  exactlyOne(): string {
    if (this.node.args.length !== 1 || this.node.args[0] === '') this.fail(`${this.upper} requires exactly one argument`);
    return this.node.args[0];
  }

  /** ENV and LABEL key/value triples from the parser. */
  pairs(): { key: string; value: string }[] {
    const out: { key: string; value: string }[] = [];
    const a = this.node.args;
    for (let i = 0; i + 1 < a.length; i += 3) {
      if (a[i] === '') this.fail(`${this.upper} names can not be blank`);
      out.push({ key: a[i], value: a[i + 1] });
    }
    return out;
  }
}
