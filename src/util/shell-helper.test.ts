import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { ShellHelper } from './shell-helper.js';

const run = promisify(execFile);
const moduleUrl = new URL('./shell-helper.js', import.meta.url).href;

test('commands run in order with their output, exit code, stderr and working directory', async () => {
  const h = new ShellHelper();
  const [a, b, c] = await Promise.all([
    h.run(['sh', '-c', 'echo out; echo err >&2; printf "no newline"']),
    h.run(['pwd'], { cwd: '/tmp' }),
    h.run(['printf', '%s|', 'two words', "it's", '$HOME']),
  ]);
  assert.deepEqual(a, { stdout: 'out\nno newline', stderr: 'err\n' });
  assert.equal(b.stdout, '/tmp\n');
  assert.equal(c.stdout, "two words|it's|$HOME|", 'arguments reach the command as they are (no expansion)');
  await assert.rejects(h.run(['sh', '-c', 'echo went wrong >&2; exit 3']), (e: { code: unknown; stderr: string }) => e.code === 3 && e.stderr === 'went wrong\n');
  await assert.rejects(h.run(['kiln-no-such-command']), (e: { code: unknown }) => e.code === 'ENOENT');
  // A tab or a newline cannot go through the line format: the command runs through execFile, same result.
  assert.equal((await h.run(['printf', '%s', 'a\tb\nc'])).stdout, 'a\tb\nc');
  assert.equal((await h.run(['cat'])).stdout, '', 'stdin is /dev/null, not the request pipe');
  assert.equal((await h.run(['echo', 'after'])).stdout, 'after\n');
});

test('an idle shell does not keep the process alive, and dies with it when it is killed', async () => {
  const idle = await run(process.execPath, ['--input-type=module', '-e', `import { shellHelper } from '${moduleUrl}'; console.log((await shellHelper().run(['echo', 'done'])).stdout.trim());`], { timeout: 20_000 });
  assert.equal(idle.stdout.trim(), 'done', 'the process ended by itself once the command was answered');

  const child = spawn(process.execPath, ['--input-type=module', '-e', `import { shellHelper } from '${moduleUrl}'; await shellHelper().run(['true']); console.log('ready'); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((r) => child.stdout.once('data', () => r()));
  const shells = (await run('pgrep', ['-P', String(child.pid)])).stdout.trim().split('\n').map(Number);
  assert.equal(shells.length, 1, 'one shell, started by the first command');
  child.kill('SIGKILL');
  await new Promise((r) => child.on('close', r));
  for (const end = Date.now() + 30_000; ; ) {
    let alive = true;
    try {
      alive = !readFileSync(`/proc/${shells[0]}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
    } catch {
      alive = false;
    }
    if (!alive) break;
    assert.ok(Date.now() < end, 'the shell outlived its killed parent by 30 s');
    await new Promise((r) => setTimeout(r, 50));
  }
});

test('with no shell to start (an image without /bin/sh), every command runs through execFile, the first ones too', async () => {
  const h = new ShellHelper('/nonexistent/kiln-no-shell');
  const [a, b] = await Promise.all([h.run(['echo', 'one']), h.run(['pwd'], { cwd: '/tmp' })]);
  assert.deepEqual([a.stdout, b.stdout], ['one\n', '/tmp\n']);
  await assert.rejects(h.run(['sh', '-c', 'exit 4']), (e: { code: unknown }) => e.code === 4);
  assert.equal((await h.run(['echo', 'later'])).stdout, 'later\n');
});
