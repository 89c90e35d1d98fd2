/**
 * The Dockerfile frontend's public surface, for build/ and the CLI:
 * text → nodes (parser) → typed instructions → BuildPlan (stages), plus
 * word expansion, stage scope, .dockerignore and the context walker.
 */
export { planBuild } from './stages/plan.js';
export type { BuildPlan, Stage, StageBase, StageInput, MetaArg, PlanOptions, Platform } from './stages/types.js';
export { StageScope } from './stages/scope.js';
export { formatPlatform, parsePlatform, hostPlatform, PROXY_ARGS } from './stages/platform.js';
export { parseDockerfile } from './parser/parse.js';
export { dump } from './parser/dump.js';
export type { Node, Heredoc, Directives, ParseResult } from './parser/node.js';
export { buildInstruction } from './instructions/build.js';
export { expandInstruction } from './instructions/expand.js';
export { runScript } from './instructions/run-script.js';
export type * from './instructions/types.js';
export { expandWord, expandWords, expandHeredoc, envFrom, type EnvGetter } from './shell/lex.js';
export { DockerfileError, isDockerfileError } from './located-error.js';
export { loadIgnore, parseIgnore, IgnoreMatcher } from './context/ignore.js';
export { walkContext, type ContextEntry } from './context/walk.js';
