#!/usr/bin/env node
/**
 * kiln's entry point: builds the command tree, runs it, and is the one place
 * that catches errors and turns them into a message and an exit code.
 */
import { Command, CommanderError } from 'commander';
import { isKilnError } from '../errors.js';
import { defaultRoot } from './context.js';
import { kilnVersion } from '../version.js';
import { register as version } from './commands/version.js';
import { register as pullCmd } from './commands/pull.js';
import { register as pushCmd } from './commands/push.js';
import { register as tagCmd } from './commands/tag.js';
import { register as imagesCmd } from './commands/images.js';
import { register as rmiCmd } from './commands/rmi.js';
import { register as inspectCmd } from './commands/inspect.js';
import { register as historyCmd } from './commands/history.js';
import { register as saveCmd } from './commands/save.js';
import { register as loadCmd } from './commands/load.js';
import { register as importCmd } from './commands/import.js';
import { register as systemCmd } from './commands/system.js';
import { register as loginCmd } from './commands/login.js';
import { register as logoutCmd } from './commands/logout.js';
import { register as debugCmd } from './commands/debug.js';
import { register as buildCmd } from './commands/build.js';
import { register as runCmd } from './commands/run.js';
import { register as createCmd } from './commands/create.js';
import { register as startCmd } from './commands/start.js';
import { register as stopCmd } from './commands/stop.js';
import { register as restartCmd } from './commands/restart.js';
import { register as killCmd } from './commands/kill.js';
import { register as rmCmd } from './commands/rm.js';
import { register as psCmd } from './commands/ps.js';
import { register as logsCmd } from './commands/logs.js';
import { register as execCmd } from './commands/exec.js';
import { register as waitCmd } from './commands/wait.js';
import { register as eventsCmd } from './commands/events.js';
import { register as volumeCmd } from './commands/volume.js';
import { register as attachCmd } from './commands/attach.js';

type Register = (program: Command) => void;
const commands: Register[] = [
  pullCmd,
  pushCmd,
  tagCmd,
  imagesCmd,
  rmiCmd,
  inspectCmd,
  historyCmd,
  saveCmd,
  loadCmd,
  importCmd,
  systemCmd,
  loginCmd,
  logoutCmd,
  debugCmd,
  buildCmd,
  runCmd,
  createCmd,
  startCmd,
  stopCmd,
  restartCmd,
  killCmd,
  rmCmd,
  psCmd,
  logsCmd,
  execCmd,
  waitCmd,
  eventsCmd,
  volumeCmd,
  attachCmd,
  version,
];

export function buildProgram(): Command {
  const program = new Command('kiln')
    .description('Build, run, push and pull container images, daemonless, for a Kubernetes world')
    .version(kilnVersion(), '-v, --version')
    .option('--root <dir>', 'store and state directory', defaultRoot())
    .option('--backend <name>', 'auto|local|containerd|kube', process.env.KILN_BACKEND ?? 'auto')
    .option('--address <socket>', 'containerd socket (default: /run/k3s/containerd/containerd.sock or /run/containerd/containerd.sock)')
    .option('--namespace <name>', 'containerd namespace (default k8s.io, the one the kubelet uses)')
    .option('-D, --debug', 'print stack traces and debug output')
    .showHelpAfterError('(run with --help for usage)')
    // Options after a subcommand belong to it: `kiln run IMAGE sh -c ...` passes -c to the container.
    .enablePositionalOptions()
    .exitOverride();
  for (const reg of commands) reg(program);
  return program;
}

function describe(e: unknown, debug: boolean): string {
  if (debug && e instanceof Error && e.stack) return e.stack + (e.cause ? `\ncaused by: ${String((e.cause as Error).stack ?? e.cause)}` : '');
  if (isKilnError(e)) return `kiln: ${e.message}${e.hint ? ` (${e.hint})` : ''}`;
  if (e instanceof Error) return `kiln: ${e.message}`;
  return `kiln: ${String(e)}`;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const debug = argv.includes('--debug') || argv.includes('-D');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : e.exitCode === 1 ? 2 : e.exitCode;
    process.stderr.write(describe(e, debug) + '\n');
    return isKilnError(e) ? e.exitCode : 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`kiln: ${String(e)}\n`);
    process.exitCode = 1;
  },
);
