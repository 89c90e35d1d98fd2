/** The build plan the builder executes: stages in dependency order. */
import type { Platform } from '../../oci/types.js';
import type { Directives, ParseWarning } from '../parser/node.js';
import type { FromInstruction, Instruction } from '../instructions/types.js';

export type { Platform };

/** What a stage starts from. */
export type StageBase =
  | { kind: 'image'; ref: string }
  | { kind: 'stage'; index: number }
  | { kind: 'scratch' };

/** Something a stage reads from besides its base (COPY --from, RUN --mount from=). */
export type StageInput = { kind: 'stage'; index: number } | { kind: 'image'; ref: string };

export interface Stage {
  /** Position in the Dockerfile (what `COPY --from=0` means). */
  index: number;
  /** `AS name`, lower-cased. */
  name?: string;
  from: FromInstruction;
  base: StageBase;
  /** `FROM --platform=` after expansion. */
  platform?: Platform;
  /** The instructions after FROM, in order, unexpanded. */
  instructions: Instruction[];
  /** Stage indices this stage needs first (base, --from, mounts), no duplicates. */
  dependsOn: number[];
  /** Images read by COPY --from=image or RUN --mount from=image. */
  images: string[];
}

export interface MetaArg {
  key: string;
  /** After --build-arg overrides and expansion; undefined when declared without a value. */
  value?: string;
}

export interface BuildPlan {
  file: string;
  directives: Directives;
  /** The stages the target needs, dependencies first, the target last. */
  stages: Stage[];
  target: Stage;
  /** Total number of stages in the Dockerfile (before pruning). */
  stageCount: number;
  /** ARGs declared before the first FROM, resolved. */
  metaArgs: MetaArg[];
  /** TARGETPLATFORM, BUILDARCH… (values a stage gets when it declares the ARG). */
  predefinedArgs: Record<string, string>;
  /** The --build-arg values given. */
  buildArgs: Record<string, string>;
  /** --build-arg names no ARG declares (Docker warns about them). */
  unusedBuildArgs: string[];
  warnings: ParseWarning[];
}

export interface PlanOptions {
  /** Name in messages (default `Dockerfile`). */
  filename?: string;
  buildArgs?: Record<string, string>;
  /** Stage name (case-insensitive) or index to build; default the last stage. */
  target?: string;
  /** The platform built for (TARGETPLATFORM); default the build platform. */
  platform?: Platform;
  /** The platform building (BUILDPLATFORM); default this machine. */
  buildPlatform?: Platform;
}
