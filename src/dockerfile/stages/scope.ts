/**
 * The variables in scope while a stage runs, with Docker's rules: an ARG is
 * visible only after it is declared in the stage; its value is the
 * --build-arg, else its default, else the global ARG's value, else the
 * predefined value (TARGETARCH…); ENV always wins over an ARG of the same
 * name; *_PROXY build args reach RUN without being declared and stay out of
 * the image. The builder feeds instructions in order and asks for the env.
 */
import type { EnvGetter } from '../shell/lex.js';
import type { ArgInstruction, EnvInstruction } from '../instructions/types.js';
import { PROXY_ARGS } from './platform.js';
import type { BuildPlan } from './types.js';

export class StageScope {
  private readonly env = new Map<string, string>();
  private readonly args = new Map<string, string | undefined>();

  constructor(
    private readonly plan: Pick<BuildPlan, 'buildArgs' | 'metaArgs' | 'predefinedArgs'>,
    /** The base image's config Env (`KEY=VALUE`). */
    imageEnv: string[] = [],
  ) {
    for (const kv of imageEnv) {
      const eq = kv.indexOf('=');
      if (eq > 0) this.env.set(kv.slice(0, eq), kv.slice(eq + 1));
    }
  }

  /** Looks a name up for expanding the next instruction. */
  readonly get: EnvGetter = (name) => (this.env.has(name) ? this.env.get(name) : this.args.get(name));

  /** Whether an ARG of the stage declares the name (with or without a value). */
  declared(name: string): boolean {
    return this.args.has(name);
  }

  /** Every name the stage's ENV and ARGs define (for suggestions). */
  names(): string[] {
    return [...new Set([...this.env.keys(), ...this.args.keys()])];
  }

  /** Call with the ARG instruction after expandInstruction (defaults expanded). */
  declare(inst: ArgInstruction): void {
    for (const a of inst.args) {
      const { buildArgs, metaArgs, predefinedArgs } = this.plan;
      let value: string | undefined;
      if (Object.hasOwn(buildArgs, a.key)) value = buildArgs[a.key];
      else if (a.value !== undefined) value = a.value;
      else value = metaArgs.find((m) => m.key === a.key)?.value ?? predefinedArgs[a.key];
      this.args.set(a.key, value);
    }
  }

  /** Call with the ENV instruction after expandInstruction. */
  setEnv(inst: EnvInstruction): void {
    for (const p of inst.pairs) this.env.set(p.key, p.value);
  }

  /** The image config's Env: base image ENV plus this stage's ENV, in order. */
  configEnv(): string[] {
    return [...this.env].map(([k, v]) => `${k}=${v}`);
  }

  /** The environment of a RUN: config Env, then ARGs with values, then proxy build args. */
  runEnv(): string[] {
    const out = new Map(this.env);
    for (const [k, v] of this.args) if (v !== undefined && !out.has(k)) out.set(k, v);
    for (const k of PROXY_ARGS) {
      if (Object.hasOwn(this.plan.buildArgs, k) && !out.has(k)) out.set(k, this.plan.buildArgs[k]);
    }
    return [...out].map(([k, v]) => `${k}=${v}`);
  }
}
