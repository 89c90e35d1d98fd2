/**
 * The engine a command opens states its kind, and the exit rule reads it: a build is over when its action returns
 * only when the engine it closed was a kiln agent's (--host), not kiln's own store.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { startAgent } from '../testing/agent.js';
import { removeDir, tempDir } from '../testing/tempdir.js';
import { withEngine } from './engine.js';
import { OVER_ON_RETURN } from './program.js';

/** A subcommand of a program given these global flags, as the CLI parses them. */
function subcommand(flags: string[]): Command {
  const program = new Command().option('--root <dir>').option('--backend <name>').option('-H, --host <address>').exitOverride();
  const sub = program.command('build').action(() => undefined);
  program.parse(['node', 'kiln', ...flags, 'build']);
  return sub;
}

test("the local and the remote engine state their kind; build is over on return only after an agent's engine closed", async (t) => {
  const dir = await tempDir('kiln-cli-engine-');
  t.after(() => removeDir(dir));
  const agent = await startAgent({ tls: false });
  t.after(() => agent.stop());
  assert.equal(await withEngine(subcommand(['--root', dir, '--backend', 'local']), async (e) => e.kind), 'local');
  assert.equal(OVER_ON_RETURN.build!(), false);
  assert.equal(await withEngine(subcommand(['--host', agent.unix!]), async (e) => ({ kind: e.kind, backend: (await e.info()).backend })).then((r) => `${r.kind} ${r.backend}`), 'remote remote');
  assert.equal(OVER_ON_RETURN.build!(), true);
  assert.equal(OVER_ON_RETURN.push!(), true);
});
