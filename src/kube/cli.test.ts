/**
 * The kube side of the CLI without a cluster: no kubeconfig, an unknown
 * context, an API server that is not there (a closed port on 127.0.0.1), and
 * `--backend auto` choosing kube only when this machine installed kiln in the
 * current context. Each failure is one line naming the context and what to do.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { kiln } from '../testing/kiln.js';
import { freePort } from '../testing/ports.js';
import { removeDir, tempDir } from '../testing/tempdir.js';
import { clientCertDir } from './client-certs.js';

let dir: string;
let home: string;
let kubeconfig: string;
let server: string;
const env = () => ({ HOME: home, KUBECONFIG: '', KILN_BACKEND: 'auto' });

const config = (servers: Record<string, string>, current: string) => `apiVersion: v1
kind: Config
clusters:
${Object.entries(servers).map(([n, s]) => `- name: ${n}\n  cluster: {server: "${s}", insecure-skip-tls-verify: true}`).join('\n')}
users:
- name: u
  user: {token: t0k3n}
contexts:
${Object.keys(servers).map((n) => `- name: ${n}\n  context: {cluster: ${n}, user: u}`).join('\n')}
current-context: ${current}
`;

before(async () => {
  dir = await tempDir('kiln-kube-cli-');
  home = path.join(dir, 'home');
  await mkdir(home);
  server = `https://127.0.0.1:${await freePort()}`;
  kubeconfig = path.join(dir, 'config');
  await writeFile(kubeconfig, config({ lab: server, other: 'https://127.0.0.1:1' }, 'lab'));
});
after(() => removeDir(dir));

const root = () => path.join(dir, 'root');
const oneLine = (stderr: string) => {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line: ${stderr}`);
  return lines[0]!;
};

describe('no cluster to talk to', () => {
  test('no kubeconfig at all: install, uninstall and --backend kube say so', async () => {
    for (const args of [['install'], ['uninstall'], ['--backend', 'kube', 'images'], ['system', 'install']]) {
      const r = await kiln(args, { root: root(), env: env() });
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(oneLine(r.stderr), `kiln: no kubeconfig: KUBECONFIG is not set and ${home}/.kube/config does not exist (pass -k/--kubeconfig FILE or set KUBECONFIG to the file kubectl uses)`);
    }
  });

  test('KUBECONFIG naming missing files, and -k naming a missing file', async () => {
    const r = await kiln(['install'], { root: root(), env: { ...env(), KUBECONFIG: `${dir}/a:${dir}/b` } });
    assert.equal(oneLine(r.stderr), `kiln: no kubeconfig: KUBECONFIG names ${dir}/a, ${dir}/b, and none exists (set KUBECONFIG to the file kubectl uses, or pass -k/--kubeconfig)`);
    const k = await kiln(['-k', `${dir}/nope`, 'install'], { root: root(), env: env() });
    assert.equal(oneLine(k.stderr), `kiln: kubeconfig ${dir}/nope does not exist (pass -k/--kubeconfig with the file kubectl uses)`);
  });

  test('an API server that is not there: install, uninstall and --backend kube name the context and server', async () => {
    for (const args of [['install'], ['uninstall'], ['--backend', 'kube', 'images'], ['--backend', 'kube', 'system', 'info'], ['--backend', 'kube', 'info']]) {
      const r = await kiln(['-k', kubeconfig, ...args], { root: root(), env: env() });
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(oneLine(r.stderr), `kiln: cannot reach the Kubernetes API server of context "lab" (${server}): connection refused (is the cluster running? kubectl get nodes should work; pick another context with -x or kubeconfig with -k/KUBECONFIG)`);
    }
  });

  test('-x picks another context (KUBECONFIG honoured); an unknown one lists those there are', async () => {
    const r = await kiln(['-x', 'other', 'install'], { root: root(), env: { ...env(), KUBECONFIG: kubeconfig } });
    assert.match(oneLine(r.stderr), /^kiln: cannot reach the Kubernetes API server of context "other" \(https:\/\/127\.0\.0\.1:1\): connection refused/);
    const u = await kiln(['-k', kubeconfig, '--context', 'nope', 'install'], { root: root(), env: env() });
    assert.equal(oneLine(u.stderr), `kiln: context "nope" is not in ${kubeconfig} (use one of: lab, other)`);
  });

  test('bad flags are refused before any call', async () => {
    const r = await kiln(['-k', kubeconfig, 'install', '--image-pull-policy', 'Sometimes'], { root: root(), env: env() });
    assert.equal(oneLine(r.stderr), 'kiln: --image-pull-policy Sometimes: not one of Always, IfNotPresent, Never');
  });
});

describe('--backend auto', () => {
  test('without client certificates for the current context it stays local; with them it goes to the cluster', async () => {
    const local = await kiln(['images'], { root: root(), env: { ...env(), KUBECONFIG: kubeconfig } });
    assert.equal(local.code, 0, local.stderr);
    assert.match(local.stdout, /^REPOSITORY/);
    const certs = clientCertDir(server, 'kiln', home);
    await mkdir(certs, { recursive: true });
    await writeFile(path.join(certs, 'key.pem'), 'x');
    const kube = await kiln(['images'], { root: root(), env: { ...env(), KUBECONFIG: kubeconfig } });
    assert.equal(kube.code, 1);
    assert.match(oneLine(kube.stderr), /^kiln: cannot reach the Kubernetes API server of context "lab"/);
    // Another namespace has no certificates here: local again.
    const other = await kiln(['-n', 'elsewhere', 'images'], { root: root(), env: { ...env(), KUBECONFIG: kubeconfig } });
    assert.equal(other.code, 0, other.stderr);
  });
});
