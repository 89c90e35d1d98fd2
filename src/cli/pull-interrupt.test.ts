/**
 * Ctrl-C during `kiln pull` (issue 14, defect 5): the pull ends as docker's
 * does (killed by the signal, nothing on stderr, the progress on stdout ends
 * with a finished line); the partial download it leaves is resumable state,
 * not damage (`system check` names it once and exits 0); the next pull
 * completes, and `system prune` removes a partial no pull came back for.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSlowProxy, type SlowProxy } from '../testing/proxy.js';
import { startRegistry, type TestRegistry } from '../testing/registry.js';
import { kiln, kilnCommand, kilnOk } from '../testing/kiln.js';
import { removeDir, tempDir } from '../testing/tempdir.js';

let tmp: string;
let registry: TestRegistry;
let proxy: SlowProxy;

before(async () => {
  tmp = await tempDir('kiln-pull-interrupt-');
  registry = await startRegistry();
  proxy = await startSlowProxy(Number(registry.host.split(':')[1]), 1 << 20);
  await mkdir(path.join(tmp, 'fs'));
  await writeFile(path.join(tmp, 'fs', 'random.bin'), randomBytes(6 << 20));
  execFileSync('tar', ['-C', path.join(tmp, 'fs'), '-cf', path.join(tmp, 'r.tar'), '.']);
  const src = { root: path.join(tmp, 'src') };
  await kilnOk(['import', path.join(tmp, 'r.tar'), `${registry.host}/slow:1`], src);
  await kilnOk(['push', `${registry.host}/slow:1`], src);
});
after(async () => {
  await proxy?.close();
  await registry?.stop();
  await removeDir(tmp);
});

/** Starts a pull through the slow proxy and interrupts it once its layer is downloading. */
async function interruptedPull(root: string): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  const cmd = kilnCommand(['--root', root, 'pull', `${proxy.host}/slow:1`]);
  const child = spawn(cmd.file, cmd.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const ingest = path.join(root, 'ingest');
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && !/Downloading/.test(stdout)) await sleep(50);
  // Some bytes of the layer on disk first.
  while (Date.now() < deadline && !(await readdir(ingest).catch(() => [] as string[])).some((n) => n.endsWith('.data'))) await sleep(50);
  await sleep(500);
  child.kill('SIGINT');
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
  return { code, signal, stdout, stderr };
}

test('Ctrl-C mid-pull: ends as docker does, the partial is resumable (check exits 0), the next pull completes', { timeout: 120_000 }, async () => {
  const root = path.join(tmp, 'a');
  const r = await interruptedPull(root);
  assert.ok(r.signal === 'SIGINT' || r.code === 130, `the pull ended ${r.code ?? r.signal}`);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /^1: Pulling from slow\n[0-9a-f]{12}: Downloading\n$/);
  const check = await kiln(['system', 'check'], { root });
  assert.equal(check.code, 0, check.stderr);
  const lines = check.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 2, check.stdout);
  assert.match(lines[0]!, new RegExp(`^resumable: ${path.join(root, 'ingest').replace(/[/.]/g, '\\$&')}/[0-9a-f]{64}\\.data: partial download \\(\\d+ bytes\\) of a process that is gone, kept so the next pull of it resumes \\(kiln system prune removes it\\)$`));
  assert.equal(lines[1], 'store is consistent');
  const again = await kilnOk(['pull', '-q', `${registry.host}/slow:1`], { root });
  assert.equal(again.stdout, `${registry.host}/slow:1\n`);
  assert.equal((await kilnOk(['system', 'check'], { root })).stdout, 'store is consistent\n');
});

test('Ctrl-C mid-pull, then system prune: the partial download is removed', { timeout: 120_000 }, async () => {
  const root = path.join(tmp, 'b');
  await interruptedPull(root);
  assert.equal((await readdir(path.join(root, 'ingest'))).filter((n) => n.endsWith('.data')).length, 1);
  await kilnOk(['system', 'prune', '-f'], { root });
  assert.deepEqual((await readdir(path.join(root, 'ingest'))).filter((n) => n.endsWith('.data')), []);
  assert.equal((await kilnOk(['system', 'check'], { root })).stdout, 'store is consistent\n');
});
