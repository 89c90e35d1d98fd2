/** Errors of a build step, located at their Dockerfile line (a failed RUN also names its exit code and last output). */
import { isKilnError, KilnError } from '../errors.js';
import { DockerfileError, type Instruction } from '../dockerfile/index.js';
import { RunFailed } from './run-step.js';
import type { StepInfo } from './types.js';

export function stepLocated(e: unknown, inst: Instruction): unknown {
  if (isKilnError(e) && !(e instanceof DockerfileError)) return new KilnError(e.code, `${inst.loc.file}:${inst.loc.startLine}: ${e.message}`, { hint: e.hint, cause: e, exitCode: e.exitCode });
  return e;
}

/** A base image that cannot be had (not found, a registry that refuses, no such platform): its FROM line and the image first. */
export function baseLocated(e: unknown, from: Instruction, image: string): unknown {
  if (!isKilnError(e) || e instanceof DockerfileError || e.code === 'CANCELLED') return e;
  const what = e.message.includes(image) ? '' : `FROM ${image}: `;
  return new KilnError(e.code, `${from.loc.file}:${from.loc.startLine}: ${what}${e.message}`, { hint: e.hint, cause: e, exitCode: e.exitCode });
}

export function stepError(e: unknown, inst: Instruction, step: StepInfo): KilnError {
  const where = `${inst.loc.file}:${inst.loc.startLine}`;
  if (e instanceof RunFailed) {
    const cmd = inst.kind === 'run' ? inst.loc.original.replace(/\s+/g, ' ').trim() : '';
    const tail = e.tail.length > 0 ? `\n  last output:\n${e.tail.map((l) => `    ${l}`).join('\n')}` : '';
    const what = e.startError ? e.startError.message : `exit code ${e.exitCode}`;
    return new KilnError('FAILED_PRECONDITION', `${where}: step ${step.name.split(']')[0]}] failed: \`${cmd}\`: ${what}${tail}`, {
      exitCode: 1,
      cause: e,
    });
  }
  if (e instanceof DockerfileError || isKilnError(e, 'CANCELLED')) return e as KilnError;
  if (isKilnError(e)) return stepLocated(e, inst) as KilnError;
  return new KilnError('INTERNAL', `${where}: ${(e as Error).message}`, { cause: e });
}
