import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { startRegistry, type TestRegistry } from '../../testing/registry.js';
import { repoRoot } from '../../testing/root.js';
import { tempDir, removeDir } from '../../testing/tempdir.js';

let reg: TestRegistry;
let home: string;
const kiln = path.join(repoRoot(), 'dist', 'cli', 'main.js');

function runKiln(args: string[], input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [kiln, ...args], {
      env: { ...process.env, HOME: home, DOCKER_CONFIG: path.join(home, '.docker'), KILN_REGISTRIES_CONFIG: path.join(home, 'none.yaml') },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}

before(async () => {
  reg = await startRegistry({ auth: 'htpasswd', users: { dave: 'pa55word' } });
  home = await tempDir();
});
after(async () => {
  await reg.stop();
  await removeDir(home);
});

test('kiln login --password-stdin, then logout', async () => {
  const ok = await runKiln(['login', '-u', 'dave', '--password-stdin', reg.host], 'pa55word\n');
  assert.equal(ok.stderr, '');
  assert.equal(ok.stdout, 'Login Succeeded\n');
  assert.equal(ok.code, 0);
  const file = path.join(home, '.docker', 'config.json');
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.equal(JSON.parse(await readFile(file, 'utf8')).auths[reg.host].auth, Buffer.from('dave:pa55word').toString('base64'));

  const out = await runKiln(['logout', reg.host]);
  assert.deepEqual([out.code, out.stdout], [0, `Removing login credentials for ${reg.host}\n`]);
  assert.equal((await runKiln(['logout', reg.host])).stdout, `Not logged in to ${reg.host}\n`);
});

test('kiln login -p warns; a wrong password fails with one line and never shows the password', async () => {
  const warned = await runKiln(['login', '-u', 'dave', '-p', 'pa55word', reg.host]);
  assert.equal(warned.code, 0);
  assert.equal(warned.stderr, 'WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');

  const bad = await runKiln(['login', '-u', 'dave', '--password-stdin', reg.host], 'hunter2');
  assert.equal(bad.code, 1);
  assert.equal(bad.stdout, '');
  assert.equal(
    bad.stderr,
    `kiln: login to ${reg.host} as dave: unauthorized: authentication required (check the user name and password, then run kiln login ${reg.host})\n`,
  );
  assert.doesNotMatch(bad.stderr, /hunter2/);
});

test('kiln login without a password on a pipe says what to pass', async () => {
  const r = await runKiln(['login', '-u', 'dave', reg.host]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'kiln: login needs a password (pipe it into --password-stdin)\n');
});
