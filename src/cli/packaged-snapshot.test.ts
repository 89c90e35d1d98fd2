/**
 * dist/kiln starts from a V8 startup snapshot made at package time
 * (scripts/sea-loader.cjs, scripts/package.mjs): kiln's bundle and the modules
 * of the everyday commands are initialised there, in the package step's
 * process. What belongs to the process that runs a command must still be its
 * own: the environment (KILN_ROOT, KILN_BACKEND, HOME and the docker config
 * under it), the working directory a relative path resolves against, the
 * clock, and the command line. Each is changed between runs of the same
 * executable and the command shows the new value; stderr carries nothing of
 * node's snapshot machinery.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { kilnExe, testCache } from '../testing/kiln.js';
import { withTempDir } from '../testing/tempdir.js';

/** dist/kiln with ARGS in CWD, with ENV over a copy of this process's environment without kiln's own variables. */
function run(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['KILN_ROOT', 'KILN_BACKEND', 'KILN_HOST', 'KUBECONFIG', 'KILN_SEA_CACHE_REPORT']) delete base[k];
  const r = spawnSync(kilnExe(), args, { cwd, env: { ...base, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('dist/kiln runs from its startup snapshot with the cwd, environment and arguments of each run', () =>
  withTempDir(async (dir) => {
    const [a, b] = [path.join(dir, 'a'), path.join(dir, 'b')];
    await mkdir(a);
    await mkdir(b);
    const report = run(['--version'], dir, { KILN_SEA_CACHE_REPORT: '1' });
    assert.equal(report.code, 0);
    assert.match(report.stderr, /^kiln: code cache kiln\.js: in the startup snapshot$/m);

    // A relative --root is resolved against each run's own working directory.
    const imported = run(['--root', 'r', 'import', path.join(testCache(), 'busybox-rootfs.tar'), 'snap/in-a:1'], a);
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal(imported.stderr, '');
    const inA = run(['--root', 'r', 'images', '--format', '{{.Repository}}:{{.Tag}} {{.CreatedSince}}'], a);
    assert.equal(inA.stderr, '');
    // The clock is this run's: the image was made moments ago, not when the executable was packaged.
    assert.match(inA.stdout, /^snap\/in-a:1 (Less than a second|\d+ seconds?) ago\n$/);
    assert.equal(run(['--root', 'r', 'images', '-q'], b).stdout, '');

    // KILN_ROOT and KILN_BACKEND are read by each run.
    const viaEnv = run(['images', '--format', '{{.Repository}}'], b, { KILN_ROOT: path.join(a, 'r') });
    assert.equal(viaEnv.stdout, 'snap/in-a\n');
    const backend = run(['--root', 'r', 'images'], a, { KILN_BACKEND: 'bogus' });
    assert.equal(backend.code, 1);
    assert.match(backend.stderr, /^kiln: unknown backend "bogus"/);

    // HOME: the docker config of each run's home.
    for (const home of ['h1', 'h2']) {
      await mkdir(path.join(dir, home, '.docker'), { recursive: true });
      await writeFile(path.join(dir, home, '.docker', 'config.json'), JSON.stringify({ auths: { [`${home}.example:5000`]: { auth: 'dTpw' } } }));
    }
    const out1 = run(['logout', 'h1.example:5000'], dir, { HOME: path.join(dir, 'h1') });
    assert.equal(out1.stdout, 'Removing login credentials for h1.example:5000\n');
    const out2 = run(['logout', 'h1.example:5000'], dir, { HOME: path.join(dir, 'h2') });
    assert.equal(out2.stdout, 'Not logged in to h1.example:5000\n');
    assert.deepEqual(JSON.parse(await readFile(path.join(dir, 'h2', '.docker', 'config.json'), 'utf8')).auths, { 'h2.example:5000': { auth: 'dTpw' } });
  }));
