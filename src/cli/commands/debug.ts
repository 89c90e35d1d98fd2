/** `kiln debug parse FILE|-` (BuildKit-style parse dump) and `kiln debug expand [--env K=V]… WORD`. */
import fs from 'node:fs/promises';
import type { Command } from 'commander';
import { invalidArgument, isKilnError } from '../../errors.js';
import { parseDockerfile } from '../../dockerfile/parser/parse.js';
import { dump } from '../../dockerfile/parser/dump.js';
import { expandWord, expandWords, envFrom } from '../../dockerfile/shell/lex.js';

async function readInput(file: string): Promise<string> {
  if (file !== '-') return fs.readFile(file, 'utf8');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function envPairs(pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw invalidArgument(`--env ${JSON.stringify(p)}: expected NAME=VALUE`, { hint: 'write --env NAME=VALUE' });
    env[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return env;
}

export function register(program: Command): void {
  const debug = program.command('debug').description('Inspect how kiln reads Dockerfiles');
  debug
    .command('parse')
    .argument('<file>', 'Dockerfile path, or - for standard input')
    .description('Print the parse tree of a Dockerfile, one instruction per line')
    .action(async (file: string) => {
      const text = await readInput(file);
      process.stdout.write(dump(parseDockerfile(text, { file: file === '-' ? 'Dockerfile' : file })));
    });
  debug
    .command('expand')
    .argument('<word>', 'the word to expand, as it would appear in a Dockerfile')
    .option('-e, --env <NAME=VALUE>', 'a variable (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--words', 'split into words like EXPOSE and VOLUME do (one per line)')
    .option('--escape <char>', 'escape character (\\ or `)', '\\')
    .description('Expand $VARIABLES in a word the way Dockerfile instructions do')
    .action((word: string, opts: { env: string[]; words?: boolean; escape: string }) => {
      const env = envFrom(envPairs(opts.env));
      try {
        const out = opts.words ? expandWords(word, env, { escape: opts.escape }) : [expandWord(word, env, { escape: opts.escape })];
        process.stdout.write(out.join('\n') + '\n');
      } catch (e) {
        if (isKilnError(e, 'INVALID_ARGUMENT')) {
          throw invalidArgument(`cannot expand ${JSON.stringify(word)}: ${e.message}`, { hint: 'check quotes and ${...} syntax', cause: e });
        }
        throw e;
      }
    });
}
