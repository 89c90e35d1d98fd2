/**
 * runc's failures as kiln errors. A process that cannot be started maps to
 * Docker's exit codes: 127 when the command is not found, 126 when it cannot
 * be executed, 125 for any other failure to start.
 */
import { KilnError, alreadyExists, failedPrecondition, internal, notFound } from '../errors.js';

/** The `msg` of runc's error lines, from its JSON log file or its logrus text on stderr. */
export function runcMessages(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '') continue;
    if (t.startsWith('{')) {
      try {
        const j = JSON.parse(t) as { level?: string; msg?: string };
        if ((j.level === 'error' || j.level === 'fatal') && j.msg) out.push(j.msg);
        continue;
      } catch (e) {
        if (!(e instanceof SyntaxError)) throw e;
      }
    }
    const m = /level=(?:error|fatal) msg="((?:[^"\\]|\\.)*)"/.exec(t);
    if (m) out.push(m[1]!.replace(/\\(.)/g, '$1'));
    else if (!t.startsWith('time=')) out.push(t);
  }
  return out;
}

/** A failure to start the container's process (from `runc run`/`exec`), with Docker's exit code. */
export function startError(message: string, id: string): KilnError {
  const exec = /exec: "[^"]*": .*$/.exec(message)?.[0];
  const detail = exec ?? message.replace(/^runc (run|exec|create) failed: /, '');
  let exitCode = 125;
  if (/executable file not found|no such file or directory/.test(detail)) exitCode = 127;
  else if (/permission denied/.test(detail)) exitCode = 126;
  return failedPrecondition(detail, {
    exitCode,
    hint:
      exitCode === 127 ? "check the command name and the image's PATH" : exitCode === 126 ? 'the command must be an executable file' : `see the runc log of container ${id}`,
  });
}

/** Any other runc command failing (state, kill, delete…). */
export function commandError(verb: string, id: string | undefined, stderr: string): KilnError {
  const msg = runcMessages(stderr).at(-1) ?? stderr.trim();
  const what = id === undefined ? `runc ${verb}` : `runc ${verb} ${id}`;
  if (/does not exist/.test(msg)) return notFound(`container ${id}: not found (${what})`, { hint: 'list containers with `kiln ps -a`' });
  if (/already exists|container with id exists/.test(msg)) {
    return alreadyExists(`container ${id}: already exists (${what})`, { hint: 'remove it first or pick another name' });
  }
  if (/not running|is stopped|container not running/.test(msg)) {
    return failedPrecondition(`container ${id} is not running (${what}): ${msg}`, { hint: 'start it first' });
  }
  return internal(`${what}: ${msg}`, { hint: 'run with --debug and check the runc log in the container directory' });
}
