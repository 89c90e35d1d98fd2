/** `kiln debug parse FILE|-` (BuildKit-style parse dump) and `kiln debug expand [--env K=V]… WORD`. */
import fs from 'node:fs/promises';
import type { Command } from 'commander';
import { invalidArgument, isErrno, isKilnError, notFound } from '../../errors.js';
import { planBuild } from '../../dockerfile/stages/plan.js';
import { formatPlatform, parsePlatform } from '../../dockerfile/stages/platform.js';
import type { BuildPlan } from '../../dockerfile/stages/types.js';
import { printJSON, printTable } from '../output.js';
import { parseDockerfile } from '../../dockerfile/parser/parse.js';
import { dump } from '../../dockerfile/parser/dump.js';
import { expandWord, expandWords, envFrom } from '../../dockerfile/shell/lex.js';

async function readInput(file: string): Promise<string> {
  if (file !== '-') {
    try {
      return await fs.readFile(file, 'utf8');
    } catch (e) {
      if (isErrno(e, 'ENOENT')) throw notFound(`Dockerfile ${file}: no such file`, { hint: 'give the path of a Dockerfile, or - to read standard input', cause: e });
      throw e;
    }
  }
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function envPairs(pairs: string[], flag = '--env'): Record<string, string> {
  const env: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw invalidArgument(`${flag} ${JSON.stringify(p)}: expected NAME=VALUE`, { hint: `write ${flag} NAME=VALUE` });
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
    .command('plan')
    .argument('<file>', 'Dockerfile path, or - for standard input')
    .description('Show the stages a build would run, in order, with what each needs')
    .option('--target <stage>', 'build this stage')
    .option('--build-arg <NAME=VALUE>', 'a build argument (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--platform <os/arch>', 'target platform')
    .option('--format <format>', 'json for machine-readable output')
    .action(async (file: string, opts: { target?: string; buildArg: string[]; platform?: string; format?: string }) => {
      const platform = opts.platform === undefined ? undefined : parsePlatform(opts.platform);
      if (opts.platform !== undefined && !platform) throw invalidArgument(`--platform ${opts.platform}: expected os/arch[/variant]`, { hint: 'e.g. --platform linux/arm64' });
      const plan = planBuild(await readInput(file), {
        filename: file === '-' ? 'Dockerfile' : file,
        target: opts.target,
        buildArgs: envPairs(opts.buildArg, '--build-arg'),
        platform,
      });
      if (opts.format === 'json') printJSON(plan);
      else printPlan(plan);
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

function printPlan(plan: BuildPlan): void {
  const label = (i: number) => plan.stages.find((s) => s.index === i)?.name ?? String(i);
  printTable(
    ['STAGE', 'NAME', 'FROM', 'PLATFORM', 'LINES', 'STEPS', 'NEEDS'],
    plan.stages.map((s) => [
      String(s.index),
      s.name ?? '',
      s.base.kind === 'image' ? s.base.ref : s.base.kind === 'stage' ? `stage ${label(s.base.index)}` : 'scratch',
      s.platform ? formatPlatform(s.platform) : '',
      `${s.from.loc.startLine}-${s.instructions.at(-1)?.loc.endLine ?? s.from.loc.endLine}`,
      String(s.instructions.length),
      [...s.dependsOn.map(label), ...s.images].join(', '),
    ]),
  );
  if (plan.unusedBuildArgs.length > 0) process.stderr.write(`warning: build args not used by any ARG: ${plan.unusedBuildArgs.join(', ')}\n`);
}
