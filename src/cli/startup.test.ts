/**
 * Start-up cost: `kiln --version`, `images` and `ps -a` load only what they
 * use. Run under node with a module-load hook, each command's loaded files
 * are listed: --version loads no command, and the two everyday listings load
 * neither the registry client, the Kubernetes client and the YAML
 * parser, nor gRPC — those are for the commands that talk to something;
 * `--help` lists the commands without loading them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { kilnBin } from '../testing/kiln.js';
import { withTempDir } from '../testing/tempdir.js';

const HOOKS = `export async function load(url, context, next) {
  if (url.startsWith('file:')) process.stderr.write('LOADED ' + url + '\\n');
  return next(url, context);
}`;
const REGISTER = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOKS)}`)});`;

/** The files a command line loads, and its exit code and stdout. */
function loaded(args: string[], home: string): Promise<{ code: number; stdout: string; stderr: string; files: string[] }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
    for (const k of ['KUBECONFIG', 'KILN_BACKEND', 'KILN_HOST']) delete env[k];
    const child = spawn(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(REGISTER)}`, kilnBin(), ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const files = [...err.matchAll(/^LOADED (.*)$/gm)].map((m) => m[1]!);
      resolve({ code: code ?? -1, stdout: out, stderr: err.replace(/^LOADED .*\n/gm, ''), files });
    });
  });
}

const HEAVY = /node_modules\/(yaml|@kubernetes|@grpc|protobufjs|tar-stream)\/|\/registry\/client\.js$/;

test('kiln --version loads no command and no heavy dependency', () =>
  withTempDir(async (dir) => {
    const r = await loaded(['--version'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\d+\.\d+\.\d+/);
    assert.deepEqual(r.files.filter((f) => f.includes('/cli/commands/') || HEAVY.test(f)), []);
  }));

test('kiln --help and kiln alone list the commands without loading them', () =>
  withTempDir(async (dir) => {
    for (const args of [['--help'], []]) {
      const r = await loaded(args, dir);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^Usage: kiln \[options\] \[command\]\n[^]*\n {2}images\|ls \[options\] \[repository\] +List images\n/);
      assert.deepEqual(r.files.filter((f) => f.includes('/cli/commands/') || HEAVY.test(f)), []);
    }
    const one = await loaded(['pull', '--help'], dir);
    assert.match(one.stdout, /^Usage: kiln pull \[options\] <name>\n/);
    assert.deepEqual(one.files.filter((f) => f.includes('/cli/commands/')).map((f) => path.basename(f)), ['pull.js']);
  }));

for (const args of [['images'], ['ps', '-a']]) {
  test(`kiln ${args.join(' ')} loads neither the registry client, yaml, the Kubernetes client nor gRPC`, () =>
    withTempDir(async (dir) => {
      const r = await loaded(['--root', path.join(dir, 'root'), ...args], dir);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^(REPOSITORY|CONTAINER ID) /);
      assert.ok(r.files.some((f) => f.endsWith(`/cli/commands/${args[0]}.js`)), 'the hook sees kiln load its modules');
      assert.deepEqual(r.files.filter((f) => HEAVY.test(f)), []);
    }));
}

test('with a kubeconfig but no certificates from `kiln install`, --backend auto reads no YAML and stays local', () =>
  withTempDir(async (dir) => {
    await mkdir(path.join(dir, '.kube'));
    await writeFile(path.join(dir, '.kube', 'config'), 'apiVersion: v1\nclusters: [{name: k, cluster: {server: "https://127.0.0.1:1"}}]\n');
    const r = await loaded(['--root', path.join(dir, 'root'), 'ps', '-a'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.files.filter((f) => /node_modules\/yaml\//.test(f)), []);
  }));
