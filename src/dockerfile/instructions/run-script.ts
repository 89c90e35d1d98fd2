/**
 * What a RUN with heredocs executes. `RUN <<EOF` alone runs the body as the
 * script (directly, when it starts with `#!`); any other form is handed to
 * the shell as one script with its here-documents re-attached, which is
 * exactly what a shell would have read.
 */
import type { RunInstruction } from './types.js';

export interface RunScript {
  /** The text to run: through SHELL, or as an executable file when `shebang`. */
  script: string;
  /** The body starts with `#!`: write it to a file and execute that. */
  shebang: boolean;
}

/** Undefined for exec form or when there are no heredocs (run `command` as is). */
export function runScript(run: RunInstruction): RunScript | undefined {
  if (run.command.form !== 'shell' || run.heredocs.length === 0) return undefined;
  const cmd = run.command.script.trim();
  const only = run.heredocs.length === 1 ? run.heredocs[0] : undefined;
  if (only && /^\d*<<-?(["']?)(.*)\1$/.exec(cmd)?.[2] === only.name) {
    return { script: only.content, shebang: only.content.startsWith('#!') };
  }
  let script = run.command.script;
  for (const h of run.heredocs) script += '\n' + h.content + h.name;
  return { script: script + '\n', shebang: false };
}
