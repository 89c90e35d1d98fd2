/**
 * Dockerfile text → BuildPlan: global ARGs, FROM lines expanded with them
 * (and the predefined platform ARGs), stages by name or index, the
 * dependency graph from FROM / COPY --from / RUN --mount from=, pruned to
 * what the target needs, cycles and unknown stages rejected.
 */
import { invalidArgument, isKilnError } from '../../errors.js';
import { parseReference } from '../../name/reference.js';
import { DockerfileError, spanLocation } from '../located-error.js';
import { parseDockerfile } from '../parser/parse.js';
import { buildInstruction } from '../instructions/build.js';
import { expandInstruction } from '../instructions/expand.js';
import type { ArgInstruction, FromInstruction, Instruction } from '../instructions/types.js';
import { closest } from '../instructions/suggest.js';
import { expandWord, type EnvGetter } from '../shell/lex.js';
import { dependencyOrder, resolveStageRef } from './graph.js';
import { hostPlatform, parsePlatform, platformArgs, PROXY_ARGS } from './platform.js';
import type { BuildPlan, MetaArg, PlanOptions, Stage, StageInput } from './types.js';

export function planBuild(text: string, opts: PlanOptions = {}): BuildPlan {
  const file = opts.filename ?? 'Dockerfile';
  const parsed = parseDockerfile(text, { file });
  const escape = parsed.directives.escape;
  const buildArgs = { ...(opts.buildArgs ?? {}) };
  const buildPlatform = opts.buildPlatform ?? hostPlatform();
  const predefinedArgs = platformArgs(opts.platform ?? buildPlatform, buildPlatform);
  const declared = new Set<string>();

  // Instructions before the first FROM: only ARG, which declares meta args.
  const metaArgs: MetaArg[] = [];
  const meta = new Map<string, string | undefined>();
  const metaEnv: EnvGetter = (k) => (meta.has(k) ? meta.get(k) : predefinedArgs[k]);
  let n = 0;
  const nodes = parsed.nodes;
  for (; n < nodes.length && nodes[n].name !== 'from'; n++) {
    const inst = buildInstruction(nodes[n], file);
    if (inst.kind !== 'arg') {
      throw located(inst, `${inst.kind.toUpperCase()} before the first FROM: only ARG may come before FROM`, 'start the build stage with FROM image');
    }
    for (const a of inst.args) {
      declared.add(a.key);
      // `ARG TARGETARCH` with no default takes the automatic platform value, as BuildKit.
      const value = Object.hasOwn(buildArgs, a.key) ? buildArgs[a.key] : a.value === undefined ? predefinedArgs[a.key] : expand(inst, a.value, metaEnv, escape);
      meta.set(a.key, value);
      metaArgs.push({ key: a.key, value });
    }
  }
  if (n === nodes.length) {
    throw new DockerfileError({ file, line: nodes[nodes.length - 1].endLine }, 'no FROM instruction: a Dockerfile needs at least one build stage');
  }

  // Split into stages.
  const stages: Stage[] = [];
  for (; n < nodes.length; n++) {
    const inst = buildInstruction(nodes[n], file);
    // Syntax errors in words (unterminated quotes, bad ${…}) surface now, located,
    // rather than halfway through a build: expand once with every name set.
    expandInstruction(inst, () => 'x', { escape });
    if (inst.kind === 'from') {
      if (inst.stageName && stages.some((s) => s.name === inst.stageName)) {
        throw located(inst, `duplicate stage name ${JSON.stringify(inst.stageName)}`, 'give every stage its own name');
      }
      stages.push({ index: stages.length, name: inst.stageName, from: inst, base: { kind: 'scratch' }, instructions: [], dependsOn: [], images: [] });
      continue;
    }
    if (inst.kind === 'arg') inst.args.forEach((a) => declared.add(a.key));
    stages[stages.length - 1].instructions.push(inst);
  }

  for (const stage of stages) resolveStage(stage, stages, { metaEnv, meta, buildArgs, escape, file });

  const target = findTarget(stages, opts.target, file);
  const ordered = dependencyOrder(stages, target.index);
  const unusedBuildArgs = Object.keys(buildArgs).filter((k) => !declared.has(k) && !PROXY_ARGS.includes(k) && k !== 'SOURCE_DATE_EPOCH' && !(k in predefinedArgs));
  return {
    file,
    directives: parsed.directives,
    stages: ordered,
    target,
    stageCount: stages.length,
    metaArgs,
    predefinedArgs,
    buildArgs,
    unusedBuildArgs,
    warnings: parsed.warnings,
  };
}

interface ResolveContext {
  metaEnv: EnvGetter;
  meta: Map<string, string | undefined>;
  buildArgs: Record<string, string>;
  escape: string;
  file: string;
}

function resolveStage(stage: Stage, stages: Stage[], ctx: ResolveContext): void {
  const from = stage.from;
  const image = expandFrom(from, from.image, ctx);
  if (image === '') throw located(from, `base name (${from.image}) should not be blank`, 'set the ARG it uses, or name an image');
  if (from.platform !== undefined) {
    const p = expandFrom(from, from.platform, ctx);
    const platform = parsePlatform(p);
    if (!platform) throw located(from, `invalid --platform=${p}: expected os/arch[/variant], e.g. linux/arm64`);
    stage.platform = platform;
  }
  const deps = new Set<number>();
  const earlier = stages.slice(0, stage.index).find((s) => s.name === image.toLowerCase());
  if (earlier) {
    stage.base = { kind: 'stage', index: earlier.index };
    deps.add(earlier.index);
  } else if (image.toLowerCase() === 'scratch') {
    stage.base = { kind: 'scratch' };
  } else {
    try {
      parseReference(image);
    } catch (e) {
      if (isKilnError(e, 'INVALID_ARGUMENT')) {
        const later = stages.find((s) => s.name === image.toLowerCase());
        throw located(from, `invalid image reference ${JSON.stringify(image)}: ${e.message}`, later ? `stage ${later.name} is defined later: FROM can only use a stage defined above it` : undefined);
      }
      throw e;
    }
    stage.base = { kind: 'image', ref: image };
  }

  // Stage-scoped ARGs give values to COPY --from=$X / --mount from=$X.
  const args = new Map<string, string | undefined>();
  const stageEnv: EnvGetter = (k) => args.get(k);
  const refCtx = (inst: Instruction, what: string, at: string) => ({
    stages,
    current: stage.index,
    loc: spanLocation(inst.loc, at),
    what,
  });
  const use = (input: StageInput) => {
    if (input.kind === 'stage') deps.add(input.index);
    else if (!stage.images.includes(input.ref)) stage.images.push(input.ref);
  };
  for (const inst of stage.instructions) {
    if (inst.kind === 'arg') declareStageArgs(inst, args, ctx, stageEnv);
    if (inst.kind === 'copy' && inst.from !== undefined) {
      use(resolveStageRef(expand(inst, inst.from, stageEnv, ctx.escape), refCtx(inst, 'COPY --from', '--from')));
    }
    if (inst.kind === 'run') {
      for (const m of inst.mounts) {
        if (m.from !== undefined && (m.type === 'bind' || m.type === 'cache')) {
          use(resolveStageRef(expand(inst, m.from, stageEnv, ctx.escape), refCtx(inst, 'RUN --mount from', `from=${m.from}`)));
        }
      }
    }
  }
  stage.dependsOn = [...deps];
}

function declareStageArgs(inst: ArgInstruction, args: Map<string, string | undefined>, ctx: ResolveContext, env: EnvGetter): void {
  for (const a of inst.args) {
    let value: string | undefined;
    if (Object.hasOwn(ctx.buildArgs, a.key)) value = ctx.buildArgs[a.key];
    else if (a.value !== undefined) value = expand(inst, a.value, env, ctx.escape);
    else value = ctx.meta.get(a.key) ?? ctx.metaEnv(a.key);
    args.set(a.key, value);
  }
}

/** FROM words see only the meta ARGs and the predefined platform ARGs. */
function expandFrom(from: FromInstruction, word: string, ctx: ResolveContext): string {
  const missing = new Set<string>();
  const env: EnvGetter = (k) => {
    if (!ctx.meta.has(k) && ctx.metaEnv(k) === undefined) missing.add(k);
    return ctx.metaEnv(k);
  };
  const out = expand(from, word, env, ctx.escape);
  for (const k of missing) {
    const hasDefault = new RegExp(`\\$\\{${k.replace(/[^\w]/gu, '\\$&')}:?[-+]`, 'u').test(word);
    if (hasDefault) continue;
    const guess = closest(k, [...ctx.meta.keys()]);
    const at = from.loc.firstLine.includes('${' + k) ? '${' + k : '$' + k;
    throw located(
      from,
      `FROM uses $${k}, but no ARG ${k} is declared before the first FROM${guess ? ` (did you mean ${guess}?)` : ''}`,
      `add "ARG ${k}=<default>" above the first FROM`,
      undefined,
      at,
    );
  }
  return out;
}

function expand(inst: Instruction, word: string, env: EnvGetter, escape: string): string {
  try {
    return expandWord(word, env, { escape });
  } catch (e) {
    if (isKilnError(e, 'INVALID_ARGUMENT') && !(e instanceof DockerfileError)) throw located(inst, e.message, 'check the ${…} syntax and quotes', e);
    throw e;
  }
}

function findTarget(stages: Stage[], target: string | undefined, file: string): Stage {
  if (target === undefined || target === '') return stages[stages.length - 1];
  const byName = stages.find((s) => s.name === target.toLowerCase());
  if (byName) return byName;
  if (/^\d+$/.test(target) && Number(target) < stages.length) return stages[Number(target)];
  const names = stages.map((s) => s.name).filter((x): x is string => Boolean(x));
  const guess = closest(target.toLowerCase(), names);
  throw invalidArgument(`${file}: target stage ${JSON.stringify(target)} could not be found${guess ? ` (did you mean ${guess}?)` : ''}`, {
    hint: names.length ? `stages: ${names.join(', ')}` : 'no stage has a name: add AS name to a FROM line',
  });
}

function located(inst: Instruction, what: string, hint?: string, cause?: unknown, at?: string): DockerfileError {
  return new DockerfileError(spanLocation(inst.loc, at), what, { hint, cause });
}
