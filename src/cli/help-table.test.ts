/**
 * The top-level help's command list comes from a table (src/cli/help-table.ts)
 * so that `kiln --help` loads no command: the table must say what the commands
 * themselves register — each command of program.ts, in its order, with the usage
 * term and description commander shows. (A new or changed command fails here:
 * update COMMAND_HELP.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, Help } from 'commander';
import { repoRoot } from '../testing/kiln.js';
import { COMMAND_HELP } from './help-table.js';

test('COMMAND_HELP lists what the commands register, in program.ts order', async () => {
  const main = await readFile(path.join(repoRoot(), 'src', 'cli', 'program.ts'), 'utf8');
  const names = [...main.matchAll(/^ {2}'?([a-z-]+)'?: \(\) => import\('\.\/commands\/([a-z-]+)\.js'\),$/gm)].map((m) => m[1]!);
  assert.ok(names.length > 40, 'the COMMANDS table of program.ts is read');
  const program = new Command('kiln').enablePositionalOptions();
  for (const name of names) {
    const mod = (await import(`./commands/${name}.js`)) as { register: (p: Command) => void | Promise<void> };
    await mod.register(program);
  }
  const help = new Help();
  const actual = help
    .visibleCommands(program)
    .filter((c) => c.name() !== 'help')
    .map((c) => [c.name(), help.subcommandTerm(c), help.subcommandDescription(c)]);
  assert.deepEqual(COMMAND_HELP, actual);
});
