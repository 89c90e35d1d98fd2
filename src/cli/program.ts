/**
 * kiln's program: the command table, the command tree built for one command
 * line, and the one place that catches errors and turns them into a message
 * and an exit code. Importing it runs nothing (main.ts runs it), so the
 * packaged executable initialises it when its startup snapshot is built.
 */
import { CommanderError, type Command } from 'commander';
import { isKilnError } from '../errors.js';
import { closedEngineKind, defaultRoot } from './context.js';
import { kilnVersion } from '../version.js';
import { errorLine } from './error-line.js';
import { fromSystemError } from './system-error.js';
import { KilnCommand, UsageError } from './usage-error.js';

type Register = (program: Command) => void | Promise<void>;

/**
 * The commands in the order `--help` lists them, each loaded on demand: a
 * command line names one, and only that module (and what it imports) is
 * loaded; help and unknown commands load them all.
 */
export const COMMANDS: Record<string, () => Promise<{ register: Register }>> = {
  pull: () => import('./commands/pull.js'),
  push: () => import('./commands/push.js'),
  tag: () => import('./commands/tag.js'),
  images: () => import('./commands/images.js'),
  rmi: () => import('./commands/rmi.js'),
  inspect: () => import('./commands/inspect.js'),
  history: () => import('./commands/history.js'),
  save: () => import('./commands/save.js'),
  load: () => import('./commands/load.js'),
  import: () => import('./commands/import.js'),
  system: () => import('./commands/system.js'),
  image: () => import('./commands/image.js'),
  builder: () => import('./commands/builder.js'),
  info: () => import('./commands/info.js'),
  login: () => import('./commands/login.js'),
  logout: () => import('./commands/logout.js'),
  debug: () => import('./commands/debug.js'),
  build: () => import('./commands/build.js'),
  executor: () => import('./commands/executor.js'),
  'job-init': () => import('./commands/job-init.js'),
  run: () => import('./commands/run.js'),
  create: () => import('./commands/create.js'),
  start: () => import('./commands/start.js'),
  stop: () => import('./commands/stop.js'),
  restart: () => import('./commands/restart.js'),
  kill: () => import('./commands/kill.js'),
  rm: () => import('./commands/rm.js'),
  container: () => import('./commands/container.js'),
  ps: () => import('./commands/ps.js'),
  logs: () => import('./commands/logs.js'),
  exec: () => import('./commands/exec.js'),
  wait: () => import('./commands/wait.js'),
  rename: () => import('./commands/rename.js'),
  port: () => import('./commands/port.js'),
  top: () => import('./commands/top.js'),
  stats: () => import('./commands/stats.js'),
  cp: () => import('./commands/cp.js'),
  diff: () => import('./commands/diff.js'),
  export: () => import('./commands/export.js'),
  commit: () => import('./commands/commit.js'),
  events: () => import('./commands/events.js'),
  volume: () => import('./commands/volume.js'),
  attach: () => import('./commands/attach.js'),
  agent: () => import('./commands/agent.js'),
  install: () => import('./commands/install.js'),
  uninstall: () => import('./commands/uninstall.js'),
  dev: () => import('./commands/dev.js'),
  version: () => import('./commands/version.js'),
};
const ALIASES: Record<string, string> = { ls: 'images' };

/**
 * Commands that are over when their action returns, and when: every store write and event append is awaited in
 * it and the engine closed (withEngine). After one succeeds the process ends as soon as its output is flushed,
 * without Node's teardown (reaping closed sockets, freeing the heap: ~2 ms of a push, measured). A build only when
 * its engine was a kiln agent's (--host): its work is the agent's, and the client awaits its last write (the synced
 * manifest) before it closes the engine (image ID printed → exit: 8-9 ms with Node's teardown, 2-3 ms without).
 */
export const OVER_ON_RETURN: Readonly<Record<string, () => boolean>> = {
  push: () => true,
  pull: () => true,
  build: () => closedEngineKind() === 'remote',
};

/** Global options that take a value, to find the command name after them. */
const VALUED = new Set(['--root', '--backend', '--address', '--namespace', '-n', '--kubeconfig', '-k', '--context', '-x', '--host', '-H', '--tlscacert', '--tlscert', '--tlskey']);

/** The first word of a command line that is not a global option (`kiln --root x run …` → run). */
export function firstWord(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (VALUED.has(a)) {
      i++;
      continue;
    }
    if (a === '--') return argv[i + 1];
    if (a.startsWith('-')) continue;
    return a;
  }
  return undefined;
}

/** The command a command line names, if it is one of ours. */
export function commandName(argv: string[]): string | undefined {
  const word = firstWord(argv);
  if (word === undefined) return undefined;
  const name = ALIASES[word] ?? word;
  return Object.hasOwn(COMMANDS, name) ? name : undefined;
}

export async function buildProgram(argv: string[] = []): Promise<Command> {
  const program = new KilnCommand('kiln')
    .description('Build, run, push and pull container images, daemonless, for a Kubernetes world')
    .version(kilnVersion(), '-v, --version')
    .option('--root <dir>', 'store and state directory', defaultRoot())
    .option('--backend <name>', 'auto|local|containerd|kube|remote', process.env.KILN_BACKEND ?? 'auto')
    .option('--address <socket>', 'containerd socket (default: /run/k3s/containerd/containerd.sock or /run/containerd/containerd.sock)')
    .option('-n, --namespace <name>', "containerd namespace (default k8s.io, the one the kubelet uses); kube: the agent's namespace (default kiln)")
    .option('-k, --kubeconfig <file>', 'kube: the kubeconfig (default: KUBECONFIG, else ~/.kube/config)')
    .option('-x, --context <name>', "kube: the kubeconfig's context (default: its current one)")
    .option('-H, --host <address>', 'a kiln agent: tcp://HOST:PORT (mutual TLS) or unix:///PATH (default: KILN_HOST)')
    .option('--tlscacert <file>', "the CA that signed the agent's certificate (default: $KILN_CERT_PATH/ca.pem)")
    .option('--tlscert <file>', 'client certificate for the agent (default: $KILN_CERT_PATH/cert.pem)')
    .option('--tlskey <file>', 'client key for the agent (default: $KILN_CERT_PATH/key.pem)')
    .option('-D, --debug', 'print stack traces and debug output')
    // Options after a subcommand belong to it: `kiln run IMAGE sh -c ...` passes -c to the container.
    .enablePositionalOptions()
    .exitOverride();
  const word = firstWord(argv);
  const helpAt = argv.findIndex((a) => a === '--help' || a === '-h');
  // The top-level help (no command, or --help before it) lists the commands from a table, loading none.
  const topHelp = word === undefined || (helpAt >= 0 && helpAt < argv.indexOf(word));
  const one = topHelp ? undefined : commandName(argv);
  // `kiln --version` names no command and needs none loaded.
  const versionOnly = helpAt < 0 && (argv.includes('--version') || argv.includes('-v')) && argv.every((a, i) => a.startsWith('-') || VALUED.has(argv[i - 1] ?? ''));
  const load = one ? [COMMANDS[one]!] : versionOnly || topHelp ? [] : Object.values(COMMANDS);
  for (const mod of await Promise.all(load.map((l) => l()))) await mod.register(program);
  if (topHelp && !versionOnly) (await import('./help-table.js')).addHelpStubs(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  // As docker: an unknown command is an error (exit 1), whatever follows it (`kiln cp --help`).
  const word = firstWord(argv);
  if (word !== undefined && word !== 'help' && commandName(argv) === undefined) {
    process.stderr.write(`kiln: unknown command: kiln ${word}\n\nRun 'kiln --help' for more information\n`);
    return 1;
  }
  const program = await buildProgram(argv);
  // As docker: no command at all prints the help, and that is not an error.
  if (word === undefined && !argv.some((a) => a === '-v' || a === '--version' || a === '-h' || a === '--help')) {
    process.stdout.write(program.helpInformation());
    return 0;
  }
  const debug = argv.includes('--debug') || argv.includes('-D');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(e.lines());
      return e.exitCode;
    }
    // A command group without its subcommand (`kiln image`) prints its help, and docker exits 0 then.
    if (e instanceof CommanderError) return e.code === 'commander.help' ? 0 : e.exitCode;
    const err = fromSystemError(e, String(program.opts().root ?? defaultRoot()));
    process.stderr.write(errorLine(err, debug) + '\n');
    return isKilnError(err) ? err.exitCode : 1;
  }
}
