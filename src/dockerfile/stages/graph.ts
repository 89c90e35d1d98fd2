/** Stage references (name, index or image) and the dependency order, with cycles rejected. */
import { DockerfileError, spanLocation, type SourceLocation } from '../located-error.js';
import { closest } from '../instructions/suggest.js';
import type { Stage, StageInput } from './types.js';

export interface StageRefContext {
  /** All stages, by Dockerfile position (only name and index are read). */
  stages: { index: number; name?: string }[];
  /** The stage doing the referencing. */
  current: number;
  /** Where to point errors. */
  loc: SourceLocation;
  /** `COPY --from`, `RUN --mount from`. */
  what: string;
}

/**
 * `--from=builder` / `--from=0` → that stage; a full image reference (with
 * `/`, `:`, `@` or a domain) → the image. A bare word that names no stage is
 * an error (kiln asks for an explicit image reference to avoid typos pulling
 * an image from Docker Hub).
 */
export function resolveStageRef(ref: string, ctx: StageRefContext): StageInput {
  const fail = (what: string, hint?: string): never => {
    throw new DockerfileError(ctx.loc, what, { hint });
  };
  if (/^\d+$/.test(ref)) {
    const index = Number(ref);
    if (index >= ctx.stages.length) fail(`${ctx.what}=${ref}: there is no stage ${index} (the Dockerfile has ${ctx.stages.length})`, 'stages are numbered from 0 in order of FROM');
    if (index === ctx.current) fail(`${ctx.what}=${ref}: a stage cannot read from itself`);
    return { kind: 'stage', index };
  }
  const name = ref.toLowerCase();
  const stage = ctx.stages.find((s) => s.name === name);
  if (stage) {
    if (stage.index === ctx.current) fail(`${ctx.what}=${ref}: a stage cannot read from itself`);
    return { kind: 'stage', index: stage.index };
  }
  if (/[/:@.]/.test(ref)) return { kind: 'image', ref };
  const names = ctx.stages.map((s) => s.name).filter((n): n is string => Boolean(n));
  const guess = closest(name, names);
  return fail(
    `${ctx.what}=${ref}: no stage named ${JSON.stringify(ref)}${guess ? ` (did you mean ${guess}?)` : ''}`,
    `stages here: ${names.join(', ') || 'none named'}; to copy from an image write its full reference, e.g. docker.io/library/${ref}:latest`,
  );
}

/** The stages `target` needs, dependencies first; throws on a cycle. */
export function dependencyOrder(stages: Stage[], target: number): Stage[] {
  const state = new Map<number, 'visiting' | 'done'>();
  const order: Stage[] = [];
  const path: number[] = [];
  const visit = (i: number) => {
    const s = state.get(i);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = [...path.slice(path.indexOf(i)), i].map((j) => stages[j].name ?? String(j));
      const st = stages[i];
      throw new DockerfileError(
        spanLocation(st.from.loc),
        `circular dependency between stages: ${cycle.join(' → ')}`,
        { hint: 'a stage cannot (even indirectly) use itself through FROM, COPY --from or RUN --mount from=' },
      );
    }
    state.set(i, 'visiting');
    path.push(i);
    for (const d of stages[i].dependsOn) visit(d);
    path.pop();
    state.set(i, 'done');
    order.push(stages[i]);
  };
  visit(target);
  return order;
}
