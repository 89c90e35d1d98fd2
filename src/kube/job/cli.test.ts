/**
 * `kiln build --job` without a cluster: bad input is one line, before
 * anything is made — no cluster reachable (a closed port on 127.0.0.1), an
 * unknown context, no -t, a missing context directory or Dockerfile, several
 * contexts whose -t would push to one name, build flags a Job cannot honour.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { kiln } from '../../testing/kiln.js';
import { freePort } from '../../testing/ports.js';
import { removeDir, tempDir } from '../../testing/tempdir.js';

let dir: string;
let kubeconfig: string;
let ctx: string;
let server: string;

before(async () => {
  dir = await tempDir('kiln-job-cli-');
  server = `https://127.0.0.1:${await freePort()}`;
  kubeconfig = path.join(dir, 'config');
  await writeFile(kubeconfig, `apiVersion: v1\nkind: Config\nclusters:\n- name: lab\n  cluster: {server: "${server}", insecure-skip-tls-verify: true}\nusers:\n- name: u\n  user: {token: t0k3n}\ncontexts:\n- name: lab\n  context: {cluster: lab, user: u}\ncurrent-context: lab\n`);
  ctx = path.join(dir, 'app');
  await mkdir(ctx);
  await writeFile(path.join(ctx, 'Dockerfile'), 'FROM busybox\n');
});
after(() => removeDir(dir));

const job = (args: string[]) => kiln(['-k', kubeconfig, 'build', '--job', ...args], { root: path.join(dir, 'root'), env: { HOME: dir, KUBECONFIG: '' } });
const oneLine = (r: { code: number; stderr: string }) => {
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line: ${r.stderr}`);
  return lines[0]!;
};

test('no cluster reachable: one line naming the context and server', async () => {
  const line = oneLine(await job(['-t', 'reg.example/app:1', ctx]));
  assert.equal(line, `kiln: cannot reach the Kubernetes API server of context "lab" (${server}): connection refused (is the cluster running? kubectl get nodes should work; pick another context with -x or kubeconfig with -k/KUBECONFIG)`);
});

test('an unknown context: one line listing the known ones', async () => {
  const r = await kiln(['-k', kubeconfig, '-x', 'nope', 'build', '--job', '-t', 'reg.example/app:1', ctx], { root: path.join(dir, 'root'), env: { HOME: dir } });
  assert.equal(oneLine(r), `kiln: context "nope" is not in ${kubeconfig} (use one of: lab)`);
});

test('bad input before any cluster call: no -t, no context directory, no Dockerfile, one name for several builds, flags a Job cannot take', async () => {
  assert.equal(oneLine(await job([ctx])), 'kiln: kiln build --job pushes the image: no -t REGISTRY/NAME[:TAG] given (pass -t, or --no-push to only build)');
  assert.match(oneLine(await job(['-t', 'reg.example/app:1', path.join(dir, 'absent')])), /^kiln: build context .*absent: no such directory \(/);
  assert.match(oneLine(await job(['-t', 'reg.example/app:1', '-f', path.join(dir, 'Nope'), ctx])), /^kiln: Dockerfile .*Nope: no such file \(check the path given to -f\)$/);
  assert.match(oneLine(await job(['-t', 'reg.example/app:1', ctx, ctx])), /^kiln: several contexts: every -t must contain \{name\}/);
  assert.equal(oneLine(await job(['-t', 'reg.example/app:1', '--secret', 'id=a,src=b', '-o', 'type=local,dest=x', ctx])), 'kiln: kiln build --job does not take --secret, -o/--output (drop them, or build without --job)');
  assert.match(oneLine(await kiln(['build', ctx, ctx], { root: path.join(dir, 'root') })), /^kiln: kiln build takes one context, not 2 \(several contexts build at once as Jobs/);
});

test('caches a Job cannot take are one line: another type, two refs, --cache-from alone', async () => {
  const t = ['-t', 'reg.example/app:1'];
  assert.match(oneLine(await job([...t, '--cache-to', 'type=local,dest=x', ctx])), /^kiln: kiln build --job --cache-to type=local,dest=x: only type=registry \(a build Job takes one registry cache/);
  assert.match(oneLine(await job([...t, '--cache-to', 'reg.example/c:1', '--cache-from', 'reg.example/c:2', ctx])), /^kiln: kiln build --job takes one cache ref, not reg\.example\/c:1, reg\.example\/c:2 /);
  assert.match(oneLine(await job([...t, '--cache-from', 'type=registry,ref=reg.example/c:1', ctx])), /^kiln: kiln build --job --cache-from needs --cache-to with the same ref/);
  // One registry ref is taken: the build goes on to the cluster (unreachable here).
  assert.match(oneLine(await job([...t, '--cache-to', 'type=registry,ref=reg.example/c:1,mode=max', '--cache-from', 'reg.example/c:1', ctx])), /^kiln: cannot reach the Kubernetes API server/);
});
