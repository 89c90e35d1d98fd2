/**
 * BuildKit's op for any RUN kiln can describe: the plain form, --mount
 * (run-mounts.ts), --network, --security, heredocs, and the env as the
 * Dockerfile frontend builds it. Facts from buildkitd v0.34.2's cache-debug.db
 * and the frontend's dispatchRun:
 * - `RUN <<EOF` alone (no `#!`): args = the shell and the body (chomped for `<<-`);
 *   any other heredoc form: the shell and the command line followed by, per
 *   heredoc, "\n" + body + name (no trailing newline). A body starting with `#!`:
 *   args = the shell and /dev/pipes/<name>, a mkfile of the body (0755) on scratch mounted
 *   read-only there, the record's second input the content of that directory.
 * - *_PROXY build args reach the RUN through meta.proxy_env, which the key leaves
 *   out: only when the stage declares them with ARG (or ENV sets them) are they in env.
 */
import { PROXY_ARGS, type RunInstruction, type StageScope } from '../../dockerfile/index.js';
import type { ImageConfig, Platform } from '../../oci/types.js';
import { argvOf, shellOf } from '../config-step.js';
import { contentRecord, fileHeader, rootKey, ROOT_SELECTOR, sha256 } from './keys.js';
import { dirChecksum, entryHeader } from './tree-checksum.js';
import { execOpDigest } from './exec-op.js';
import { execMounts } from './run-mounts.js';
import { SCRATCH_CHAIN, type BuildkitOp } from './step.js';
import type { FromChain } from './copy-chain.js';

/** A `#!` heredoc as BuildKit runs it: a file of a mkfile on scratch (0755, root), mounted read-only at /dev/pipes/. */
export interface PipeFile {
  name: string;
  data: string;
}

/** The root record of the content of the scratch directory holding the pipe file (the mount's selector "/"). */
export function pipeContent(p: PipeFile): string {
  const file = sha256(fileHeader({ mode: 0o755, uid: 0, gid: 0, size: Buffer.byteLength(p.data) }) + p.data);
  return contentRecord([dirChecksum(sha256(entryHeader({ mode: 0o755, size: 0, typeflag: '5' })), [{ name: p.name, checksum: file }])]);
}

/** The args BuildKit runs (and a `#!` heredoc's file), or undefined for a form not computed. */
export function runArgs(inst: RunInstruction, config: ImageConfig['config']): { args: string[]; pipe?: PipeFile } | undefined {
  const c = config ?? {};
  if (inst.heredocs.length === 0) return { args: argvOf(inst.command, shellOf(c)) };
  if (inst.command.form !== 'shell') return undefined;
  const cmd = inst.command.script;
  const only = inst.heredocs.length === 1 ? inst.heredocs[0]! : undefined;
  const simple = only && /^<<-?(["']?)([^"'<\s/]+)\1$/.exec(cmd.trim());
  let text: string;
  if (simple && simple[2] === only.name) {
    if (only.content.startsWith('#!')) return { args: [...shellOf(c), `/dev/pipes/${only.name}`], pipe: { name: only.name, data: only.content } };
    text = only.content;
  } else if (/^\s*\d*<</.test(cmd)) {
    return undefined;
  } else {
    text = cmd + inst.heredocs.map((h) => `\n${h.content}${h.name}`).join('');
  }
  return { args: [...shellOf(c), text] };
}

/** The RUN's env as BuildKit's key holds it: kiln's, less the proxy build args no ARG or ENV named. */
export function keyEnv(scope: StageScope, configEnv: string[] = []): string[] {
  const set = new Set(configEnv.map((kv) => kv.slice(0, kv.indexOf('='))));
  return scope.runEnv().filter((kv) => {
    const k = kv.slice(0, kv.indexOf('='));
    return !PROXY_ARGS.includes(k) || set.has(k) || scope.declared(k);
  });
}

export interface RunStepContext {
  platform: Platform;
  contextDir?: string;
  ignoring?: boolean;
  /** --add-host NAME:IP (every RUN's meta.extraHosts). */
  addHosts?: string[];
  /** --mount from=<stage|image>: the chain name of that state (undefined: not named). */
  fromChain?: (from: string) => Promise<FromChain | undefined>;
  /** The chain of the state the RUN runs on (step.ts SCRATCH_CHAIN: `FROM scratch`, no op yet). */
  parent?: string;
}

export async function runStepOp(ctx: RunStepContext, inst: RunInstruction, scope: StageScope, config: ImageConfig['config']): Promise<BuildkitOp | undefined> {
  const c = config ?? {};
  const run = runArgs(inst, c);
  if (!run) return undefined;
  const { args, pipe } = run;
  const cwd = c.WorkingDir || '/';
  const scratch = ctx.parent === SCRATCH_CHAIN;
  const mounts = await execMounts(inst.mounts, cwd, {
    ...(ctx.contextDir !== undefined ? { contextDir: ctx.contextDir } : {}),
    ...(ctx.ignoring ? { ignoring: true } : {}),
    ...(pipe ? { pipe: { dest: '/dev/pipes/', content: pipeContent(pipe) } } : {}),
    ...(ctx.fromChain ? { fromChain: ctx.fromChain } : {}),
    ...(ctx.parent !== undefined ? { parent: ctx.parent } : {}),
  });
  if (!mounts) return undefined;
  let env = keyEnv(scope, c.Env);
  if (mounts.env.length && !env.some((kv) => kv.startsWith('SSH_AUTH_SOCK='))) env = [...env, ...mounts.env];
  const digest = execOpDigest({ args, env, cwd, ...(c.User ? { user: c.User } : {}) }, { mounts: mounts.mounts, network: inst.network, security: inst.security, secretenv: mounts.secretenv, ...(ctx.addHosts ? { addHosts: ctx.addHosts } : {}) }, ctx.platform);
  // One input besides the root's is linked as a COPY's source (content or from); more: each in input order. On
  // scratch the root mount has no input: the record links its mounts' states alone (a root record without them).
  const [only, ...more] = mounts.inputs;
  const links = more.length ? { inputs: mounts.inputs } : only ? only : {};
  return { record: rootKey(digest, 0), ...(scratch ? { noParent: true as const } : { selector: ROOT_SELECTOR }), ...links };
}
