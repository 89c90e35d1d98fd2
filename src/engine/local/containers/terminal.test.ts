import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { kilnBin } from '../../../testing/kiln.js';
import { containerFixture, IMAGE, type ContainerFixture } from './test-support.js';

let fx: ContainerFixture;
before(async () => {
  fx = await containerFixture();
});
after(() => fx.cleanup());

/** Runs kiln on a pseudo-terminal (util-linux `script`) whose input stays open, as a user's terminal does; resolves to the bytes the terminal got. */
function onTerminal(args: string[]): Promise<Buffer> {
  const line = [process.execPath, kilnBin(), '--root', fx.root, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', line, '/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.on('error', reject);
    child.on('close', () => resolve(Buffer.concat(out)));
    // the terminal's input is left open (no end-of-file) until kiln is done
  });
}

test('run -it and exec -it on a terminal write exactly what the container wrote (no stray NUL or doubled \\r)', async () => {
  const run = await onTerminal(['run', '--rm', '-it', '--network', 'none', IMAGE, 'echo', 'x']);
  assert.deepEqual([...run], [...Buffer.from('x\r\n')]);
  await fx.ok(['run', '-d', '--name', 'tty', '--network', 'none', IMAGE, 'sleep', '300']);
  const exec = await onTerminal(['exec', '-it', 'tty', 'echo', 'x']);
  assert.deepEqual([...exec], [...Buffer.from('x\r\n')]);
  const status = await onTerminal(['exec', '-it', 'tty', 'sh', '-c', 'printf "a\\nb\\n"; exit 3']);
  assert.equal(status.toString(), 'a\r\nb\r\n');
  await fx.ok(['rm', '-f', 'tty']);
});
