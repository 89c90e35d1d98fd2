/**
 * Docker's rules for which instruction fields expand `$VARS` and how:
 * ENV, ARG, LABEL, WORKDIR, USER, EXPOSE, VOLUME, STOPSIGNAL, COPY/ADD
 * (sources, destination, --from, --chown, --chmod, --exclude, --checksum,
 * heredoc bodies unless the delimiter was quoted) and RUN --mount options.
 * RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK, ONBUILD and MAINTAINER never
 * expand (the container's shell does, or nothing). FROM is expanded by the
 * stage planner with the global ARGs only.
 */
import { isKilnError } from '../../errors.js';
import { DockerfileError, spanLocation } from '../located-error.js';
import { expandHeredoc, expandWord, expandWords, type EnvGetter } from '../shell/lex.js';
import type { Instruction, Mount } from './types.js';

export interface ExpandOptions {
  /** The Dockerfile's escape character (default `\`). */
  escape?: string;
}

/** A copy of the instruction with its expandable fields expanded; throws DockerfileError. */
export function expandInstruction<T extends Instruction>(inst: T, env: EnvGetter, opts: ExpandOptions = {}): T {
  const lex = { escape: opts.escape ?? '\\' };
  const one = (w: string) => located(inst, () => expandWord(w, env, lex));
  const many = (w: string) => located(inst, () => expandWords(w, env, lex));
  // A heredoc body keeps its quotes, as a shell here-document does.
  const body = (w: string) => located(inst, () => expandHeredoc(w, env, lex));
  const opt = (w: string | undefined) => (w === undefined ? undefined : one(w));
  const i = inst as Instruction;
  switch (i.kind) {
    case 'env':
    case 'label':
      return { ...i, pairs: i.pairs.map((p) => ({ key: one(p.key), value: one(p.value) })) } as T;
    case 'arg':
      return { ...i, args: i.args.map((a) => (a.value === undefined ? a : { key: a.key, value: one(a.value) })) } as T;
    case 'workdir':
      return { ...i, path: one(i.path) } as T;
    case 'user':
      return { ...i, user: one(i.user) } as T;
    case 'stopsignal':
      return { ...i, signal: one(i.signal) } as T;
    case 'expose':
      return { ...i, ports: i.ports.flatMap(many) } as T;
    case 'volume':
      return { ...i, paths: i.paths.map(one) } as T;
    case 'copy':
    case 'add':
      return {
        ...i,
        sources: i.sources.map((s) =>
          s.kind === 'path' ? { kind: 'path', path: one(s.path) } : s.heredoc.expand ? { kind: 'heredoc', heredoc: { ...s.heredoc, content: body(s.heredoc.content) } } : s,
        ),
        dest: one(i.dest),
        from: opt(i.from),
        chown: opt(i.chown),
        chmod: opt(i.chmod),
        checksum: opt(i.checksum),
        exclude: i.exclude.map(one),
      } as T;
    case 'run':
      return { ...i, mounts: i.mounts.map((m) => expandMount(m, one)) } as T;
    default:
      return inst;
  }
}

function expandMount(m: Mount, one: (w: string) => string): Mount {
  const out: Mount = { ...m };
  for (const k of ['target', 'source', 'from', 'id', 'env'] as const) {
    const v = m[k];
    if (v !== undefined) out[k] = one(v);
  }
  return out;
}

function located<R>(inst: Instruction, f: () => R): R {
  try {
    return f();
  } catch (e) {
    if (isKilnError(e, 'INVALID_ARGUMENT')) {
      throw new DockerfileError(spanLocation(inst.loc), e.message, { cause: e, hint: 'check the ${…} syntax and quotes' });
    }
    throw e;
  }
}
