/**
 * Typed Dockerfile instructions. Values are kept as written (quotes and
 * `$VARS` intact) because expansion needs the build-time environment (the
 * base image's ENV, ARGs in scope); `expandInstruction` in expand.ts applies
 * Docker's rules for which fields expand.
 */
import type { Heredoc } from '../parser/node.js';

export type { Heredoc };

export interface InstructionLocation {
  file: string;
  startLine: number;
  endLine: number;
  /** The instruction's text, continuations joined. */
  original: string;
  /** Its first physical line as written (error columns point into it). */
  firstLine: string;
}

/** Shell form (run through SHELL, default `/bin/sh -c`) or exec form (JSON). */
export type CommandLine = { form: 'shell'; script: string } | { form: 'exec'; args: string[] };

export interface KeyValue {
  key: string;
  value: string;
}

interface Base<K extends string> {
  kind: K;
  loc: InstructionLocation;
}

export interface FromInstruction extends Base<'from'> {
  /** Image reference or stage name, unexpanded (`$BASE`, `builder`). */
  image: string;
  /** `AS name`, lower-cased. */
  stageName?: string;
  /** `--platform=`, unexpanded. */
  platform?: string;
}

export type MountType = 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';

export interface Mount {
  type: MountType;
  target?: string;
  source?: string;
  /** Stage name or index, or image reference (bind, cache). */
  from?: string;
  readonly: boolean;
  id?: string;
  sharing?: 'shared' | 'private' | 'locked';
  mode?: number;
  uid?: number;
  gid?: number;
  required?: boolean;
  /** tmpfs size in bytes. */
  size?: number;
  /** secret: also expose the value as this environment variable. */
  env?: string;
}

export interface RunInstruction extends Base<'run'> {
  command: CommandLine;
  heredocs: Heredoc[];
  mounts: Mount[];
  network: 'default' | 'none' | 'host';
  security: 'sandbox' | 'insecure';
}

export type CopySource = { kind: 'path'; path: string } | { kind: 'heredoc'; heredoc: Heredoc };

export interface CopyInstruction extends Base<'copy' | 'add'> {
  sources: CopySource[];
  dest: string;
  /** COPY --from: stage name, stage index or image reference. */
  from?: string;
  chown?: string;
  chmod?: string;
  link: boolean;
  parents: boolean;
  exclude: string[];
  /** ADD --checksum (digest of a remote source). */
  checksum?: string;
  /** ADD --keep-git-dir. */
  keepGitDir: boolean;
  /**
   * ADD --unpack: true unpacks archives downloaded from URLs too, false unpacks none (local archives included);
   * absent, local archives are unpacked and downloads are not.
   */
  unpack?: boolean;
}

export interface EnvInstruction extends Base<'env'> {
  pairs: KeyValue[];
}

export interface ArgInstruction extends Base<'arg'> {
  args: { key: string; value?: string }[];
}

export interface WorkdirInstruction extends Base<'workdir'> {
  path: string;
}

export interface UserInstruction extends Base<'user'> {
  user: string;
}

export interface ExposeInstruction extends Base<'expose'> {
  /** `80`, `80/tcp`, `8000-8010/udp`, or unexpanded `$PORT`. */
  ports: string[];
}

export interface LabelInstruction extends Base<'label'> {
  pairs: KeyValue[];
}

export interface CmdInstruction extends Base<'cmd'> {
  command: CommandLine;
}

export interface EntrypointInstruction extends Base<'entrypoint'> {
  command: CommandLine;
}

export interface VolumeInstruction extends Base<'volume'> {
  paths: string[];
}

export interface ShellInstruction extends Base<'shell'> {
  shell: string[];
}

export interface HealthcheckInstruction extends Base<'healthcheck'> {
  /** As the image config holds it: `["NONE"]`, `["CMD", …]` or `["CMD-SHELL", script]`. */
  test: string[];
  /** Durations in nanoseconds, as in the image config; absent = inherit/default. */
  interval?: number;
  timeout?: number;
  startPeriod?: number;
  startInterval?: number;
  retries?: number;
}

export interface StopsignalInstruction extends Base<'stopsignal'> {
  signal: string;
}

export interface MaintainerInstruction extends Base<'maintainer'> {
  name: string;
}

export interface OnbuildInstruction extends Base<'onbuild'> {
  /** The trigger as written after ONBUILD (what goes into the image config). */
  trigger: string;
  instruction: Instruction;
}

export type Instruction =
  | FromInstruction
  | RunInstruction
  | CopyInstruction
  | EnvInstruction
  | ArgInstruction
  | WorkdirInstruction
  | UserInstruction
  | ExposeInstruction
  | LabelInstruction
  | CmdInstruction
  | EntrypointInstruction
  | VolumeInstruction
  | ShellInstruction
  | HealthcheckInstruction
  | StopsignalInstruction
  | MaintainerInstruction
  | OnbuildInstruction;
