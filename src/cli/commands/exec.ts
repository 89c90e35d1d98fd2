import type { Command } from 'commander';
import { invalidArgument } from '../../errors.js';
import { withContainers } from '../engine.js';
import { withTerminal } from './containers/attach.js';
import { readEnvFile } from './containers/flags.js';

const collect = (v: string, acc: string[]) => [...acc, v];

export function register(program: Command): void {
  program
    .command('exec')
    .description('Run a command in a running container; exits with its code')
    .argument('<container>', 'name or ID')
    .argument('<command...>', 'command and arguments')
    .passThroughOptions()
    .option('-i, --interactive', 'keep standard input open')
    .option('-t, --tty', 'allocate a terminal')
    .option('-d, --detach', 'run in the background')
    .option('-e, --env <K=V>', 'set an environment variable', collect, [])
    .option('--env-file <file>', 'read environment variables from a file', collect, [])
    .option('-u, --user <user>', 'user name or uid[:group|gid]')
    .option('-w, --workdir <dir>', 'working directory')
    .action(
      async (
        ref: string,
        args: string[],
        opts: { interactive?: boolean; tty?: boolean; detach?: boolean; env: string[]; envFile: string[]; user?: string; workdir?: string },
        cmd: Command,
      ) => {
        if (opts.tty && opts.interactive && !opts.detach && !process.stdin.isTTY) {
          throw invalidArgument('the input device is not a TTY', { hint: 'drop -t (keep -i to pipe input), or run kiln from a terminal' });
        }
        const env = [...opts.envFile.flatMap(readEnvFile), ...opts.env.map((kv) => (kv.includes('=') ? kv : `${kv}=${process.env[kv] ?? ''}`))];
        const exec = {
          args,
          ...(env.length ? { env } : {}),
          ...(opts.user !== undefined ? { user: opts.user } : {}),
          ...(opts.workdir !== undefined ? { workdir: opts.workdir } : {}),
          ...(opts.tty ? { tty: true } : {}),
          ...(opts.detach ? { detach: true } : {}),
        };
        const code = await withContainers(cmd, (c) =>
          opts.detach ? c.execInContainer(ref, exec) : withTerminal(opts, (attach) => c.execInContainer(ref, exec, attach)),
        );
        process.exitCode = code;
      },
    );
}
