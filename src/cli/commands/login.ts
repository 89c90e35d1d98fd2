/** `kiln login [-u USER] [-p PASS | --password-stdin] [SERVER]`: verify, then store in Docker's config file. */
import type { Command } from 'commander';
import { createInterface } from 'node:readline/promises';
import { invalidArgument } from '../../errors.js';

async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of process.stdin) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8').replace(/[\r\n]+$/, '');
}

async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}

/** Reads a password from the terminal without echoing it. */
function askHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    process.stderr.write(question);
    const stdin = process.stdin;
    stdin.setRawMode(true);
    stdin.resume();
    let text = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(text);
    };
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(invalidArgument('login cancelled'));
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else text += ch;
      }
    };
    stdin.on('data', onData);
  });
}

export function register(program: Command): void {
  program
    .command('login')
    .description('Log in to a registry (credentials go to ~/.docker/config.json)')
    .argument('[server]', 'registry host (default docker.io)')
    .option('-u, --username <user>', 'user name')
    .option('-p, --password <password>', 'password (insecure: visible to other users; prefer --password-stdin)')
    .option('--password-stdin', 'read the password from standard input')
    .action(async (server: string | undefined, opts: { username?: string; password?: string; passwordStdin?: boolean }) => {
      if (opts.password !== undefined && opts.passwordStdin) {
        throw invalidArgument('--password and --password-stdin are mutually exclusive', { hint: 'use --password-stdin only' });
      }
      let password = opts.password;
      if (password !== undefined) process.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
      if (opts.passwordStdin) {
        if (!opts.username) throw invalidArgument('--password-stdin needs --username', { hint: 'pass -u USER' });
        password = await readStdin();
      }
      let username = opts.username;
      const tty = Boolean(process.stdin.isTTY);
      if (!username) {
        if (!tty) throw invalidArgument('login needs a user name', { hint: 'pass -u USER --password-stdin' });
        username = await ask('Username: ');
      }
      if (password === undefined) {
        if (!tty) throw invalidArgument('login needs a password', { hint: 'pipe it into --password-stdin' });
        password = await askHidden('Password: ');
      }
      await (await import('../../registry/login.js')).login(server, username, password);
      process.stdout.write('Login Succeeded\n');
    });
}
