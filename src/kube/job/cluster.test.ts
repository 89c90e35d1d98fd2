/**
 * Build Jobs on a real one-node cluster (src/testing/kube): kiln's own image
 * in the node's containerd (`system agent-image`), registries (plain, and
 * htpasswd) listening on the node's address in its network namespace, where
 * pods reach them; the CLI runs there too (the API server listens there only).
 * A build Job pushes (the digest printed is what the registry serves, the
 * image has the files and config the Dockerfile says, a RUN step's output is
 * printed), a failing RUN exits non-zero naming the Dockerfile line, two
 * builds run at once, the push credentials reach the push but no RUN step,
 * and every Job, pod and Secret is gone afterwards.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { testCache, type RunResult } from '../../testing/kiln.js';
import { startCluster, type TestCluster } from '../../testing/kube/cluster.js';
import { nodeKiln, type NodeKiln } from '../../testing/kube/node-kiln.js';
import { startRegistry, type TestRegistry } from '../../testing/registry.js';
import { removeDir, tempDir } from '../../testing/tempdir.js';

let cluster: TestCluster;
let reg: TestRegistry;
let authReg: TestRegistry;
let dir: string;
let home: string;
let node: NodeKiln;
const figures: string[] = [];
const PASSWORD = 'pw-Zq81-never-in-a-layer';

/** kiln as a user runs it, where the kubeconfig works (the node's network namespace). */
const kiln = (args: string[], o: { input?: string; home?: string } = {}): Promise<RunResult> => node.run(args, { input: o.input, env: o.home ? { HOME: o.home } : {} });
const kilnOkIn = (args: string[], o: { input?: string } = {}): Promise<RunResult> => node.ok(args, o);
/** The digest the registry serves for a tag (OCI or Docker manifest). */
async function servedDigest(r: TestRegistry, repoTag: string, user?: string): Promise<string> {
  const [repo, tag] = repoTag.split(':');
  const accept = 'application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json';
  const head = await cluster.exec(['curl', '-sfI', ...(user ? ['-u', user] : []), '-H', `Accept: ${accept}`, `${r.url}/v2/${repo}/manifests/${tag}`]);
  return /docker-content-digest: (sha256:[0-9a-f]{64})/i.exec(head)?.[1] ?? `no digest in: ${head}`;
}
/** What kiln made in the cluster for build Jobs and has not removed. */
async function leftovers(): Promise<string> {
  return (await cluster.kubectl(['get', 'jobs,pods,secrets', '-A', '-l', 'app.kubernetes.io/name=kiln-build', '-o', 'name'])).trim();
}
/** The leftovers once they are gone, or what is still there after 60 s (deletions the cluster's controllers finish). */
async function leftoversAfterwards(): Promise<string> {
  for (const end = Date.now() + 60_000; ; await new Promise((r) => setTimeout(r, 200))) {
    const left = await leftovers();
    if (left === '' || Date.now() > end) return left;
  }
}
async function context(name: string, files: Record<string, string>): Promise<string> {
  const ctx = path.join(dir, 'contexts', name);
  await mkdir(ctx, { recursive: true });
  for (const [f, text] of Object.entries(files)) await writeFile(path.join(ctx, f), text);
  return ctx;
}
const jobArgs = (...more: string[]) => ['build', '--job', '--insecure-registry', reg.host, '--insecure-registry', authReg.host, ...more];

before(async () => {
  dir = await tempDir('kiln-build-jobs-');
  home = path.join(dir, 'home');
  await mkdir(home);
  cluster = await startCluster();
  node = nodeKiln(cluster, dir, { HOME: home, KILN_REGISTRIES_CONFIG: path.join(dir, 'registries.yaml') });
  const netns = `/run/netns/${cluster.netns}`;
  [reg, authReg] = await Promise.all([
    startRegistry({ listen: cluster.nodeIP, netns }),
    startRegistry({ listen: cluster.nodeIP, netns, auth: 'htpasswd', users: { builder: PASSWORD } }),
  ]);
  await writeFile(path.join(dir, 'registries.yaml'), `insecure: ["${reg.host}", "${authReg.host}"]\n`);
  // kiln's own image where the kubelet finds it (IfNotPresent: no registry needed), and a base image in the registry.
  await node.onNode(['system', 'agent-image']);
  await kilnOkIn(['--backend', 'local', 'import', path.join(testCache(), 'busybox-rootfs.tar'), `${reg.host}/busybox:1`]);
  await kilnOkIn(['--backend', 'local', 'push', `${reg.host}/busybox:1`]);
});
after(async () => {
  for (const f of figures) process.stdout.write(`# ${f}\n`);
  await reg?.stop();
  await authReg?.stop();
  await cluster?.stop();
  await removeDir(dir);
});

describe('kiln build --job', () => {
  test('one build Job: pushed digest is what the registry serves, RUN output printed, files and config as written, nothing left', async () => {
    const ctx = await context('app', {
      Dockerfile: `FROM ${reg.host}/busybox:1\nCOPY msg.txt /msg.txt\nRUN echo run-step-says-hello && echo built-in-a-pod > /built.txt\nENV GREETING=hello\nCMD ["cat", "/msg.txt"]\n`,
      'msg.txt': 'hello from a Job\n',
      'left-out.txt': 'excluded\n',
      '.dockerignore': 'left-out.txt\n',
    });
    const t0 = Date.now();
    const r = await kilnOkIn(jobArgs('--push', '-t', `${reg.host}/app:1`, '--metadata-file', path.join(dir, 'meta.json'), ctx));
    figures.push(`one build Job (busybox, one RUN): ${Date.now() - t0} ms`);
    const digest = r.stdout.trim();
    assert.match(digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(await servedDigest(reg, 'app:1'), digest);
    const meta = JSON.parse(await readFile(path.join(dir, 'meta.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual([meta['containerimage.digest'], meta['image.name']], [digest, `${reg.host}/app:1`]);
    assert.match(r.stderr, /run-step-says-hello/);
    assert.match(r.stderr, new RegExp(`pushed ${reg.host.replace(/\./g, '\\.')}/app:1 digest: ${digest}`));
    assert.equal(await leftovers(), '');

    await kilnOkIn(['--backend', 'local', 'pull', `${reg.host}/app:1`]);
    const inspect = JSON.parse((await kilnOkIn(['--backend', 'local', 'inspect', `${reg.host}/app:1`])).stdout) as { Config: { Env: string[]; Cmd: string[] } }[];
    assert.ok(inspect[0]!.Config.Env.includes('GREETING=hello'), JSON.stringify(inspect[0]!.Config.Env));
    assert.deepEqual(inspect[0]!.Config.Cmd, ['cat', '/msg.txt']);
    const run = await kilnOkIn(['--backend', 'local', 'run', '--rm', '--network', 'none', `${reg.host}/app:1`, 'sh', '-c', 'cat /msg.txt /built.txt; ls /left-out.txt 2>&1; ls /kiln 2>&1; true']);
    assert.match(run.stdout, /^hello from a Job\nbuilt-in-a-pod\nls: \/left-out\.txt: No such file or directory\nls: \/kiln: No such file or directory\n$/);
  });

  test('RUN as a user with supplementary groups (root /, the run-as helper): the step has the groups /etc/group gives it, as in kiln build', async () => {
    const ctx = await context('groups', {
      Dockerfile: `FROM ${reg.host}/busybox:1\n`
        + `RUN echo 'u:x:1234:1234::/home/u:/bin/sh' >> /etc/passwd && echo 'extra:x:2345:u' >> /etc/group && echo 'more:x:3456:root,u' >> /etc/group && mkdir -p /out && chown 1234 /out\n`
        + 'USER u\nRUN id -u > /out/ids && id -G >> /out/ids && echo as-user-ran\nUSER root\n',
    });
    const r = await kilnOkIn(jobArgs('--push', '-t', `${reg.host}/groups:1`, ctx));
    assert.match(r.stderr, /as-user-ran/);
    await kilnOkIn(['--backend', 'local', 'pull', `${reg.host}/groups:1`]);
    const ids = await kilnOkIn(['--backend', 'local', 'run', '--rm', '--network', 'none', `${reg.host}/groups:1`, 'cat', '/out/ids']);
    assert.equal(ids.stdout, '1234\n1234 2345 3456\n');
    assert.equal(await leftovers(), '');
  });

  test('a failing RUN: non-zero exit, the Dockerfile line in the output, the Job, pod and Secret gone', async () => {
    const ctx = await context('broken', { 'broken.Dockerfile': `FROM ${reg.host}/busybox:1\nRUN echo first-step-ran\nRUN echo about-to-fail && exit 3\n` });
    const file = path.join(ctx, 'broken.Dockerfile');
    const r = await kiln(jobArgs('-t', `${reg.host}/broken:1`, '-f', file, ctx));
    assert.notEqual(r.code, 0, r.stderr);
    assert.match(r.stderr, /first-step-ran/);
    // The Dockerfile as the user named it (-f), not the Job's copy of it (/kiln/Dockerfile).
    assert.ok(r.stderr.includes(`${file}:3: step [`), r.stderr);
    assert.match(r.stderr, /broken\.Dockerfile:3: step \[\d\/\d\] failed: `RUN echo about-to-fail && exit 3`: exit code 3/);
    assert.match(r.stderr.trim().split('\n').at(-1)!, /^kiln: build Job [\w-]+\/kiln-build-broken-\w+ failed: the build exited with 1 \(its output is above\)$/);
    assert.equal(await leftovers(), '');
    await assert.rejects(servedDigest(reg, 'broken:1'));
  });

  test('--cache-to/--cache-from type=registry: a second Job (a new pod) takes the steps from the registry cache and runs no RUN', async () => {
    const ctx = await context('cached', { Dockerfile: `FROM ${reg.host}/busybox:1\nRUN date +%s%N > /stamp && echo cached-step-ran-$((6*7))\n` });
    const cache = ['--cache-to', `type=registry,ref=${reg.host}/cache:jobs,mode=max`, '--cache-from', `${reg.host}/cache:jobs`];
    const first = await kilnOkIn(jobArgs('-t', `${reg.host}/cached:1`, ...cache, ctx));
    assert.match(first.stderr, /cached-step-ran-42/);
    const second = await kilnOkIn(jobArgs('-t', `${reg.host}/cached:2`, ...cache, ctx));
    assert.doesNotMatch(second.stderr, /cached-step-ran-42/);
    assert.match(second.stderr, /CACHED/);
    assert.equal(second.stdout.trim(), first.stdout.trim(), 'the same image');
    assert.equal(await leftovers(), '');
  });

  test('two builds at once: both pushed, output prefixed per build, one summary line each', async () => {
    const alpha = await context('alpha', { Dockerfile: `FROM ${reg.host}/busybox:1\nRUN echo alpha-step && sleep 2 && echo a > /which\n` });
    const beta = await context('beta', { Dockerfile: `FROM ${reg.host}/busybox:1\nRUN echo beta-step && sleep 2 && echo b > /which\n` });
    const t0 = Date.now();
    const r = await kilnOkIn(jobArgs('--parallel', '2', '-t', `${reg.host}/{name}:2`, alpha, beta));
    figures.push(`two build Jobs at once: ${Date.now() - t0} ms`);
    // At once: both pods ran before either's two-second RUN step was done.
    const at = (re: RegExp) => r.stderr.split('\n').findIndex((l) => re.test(l));
    const bothRunning = Math.max(at(/^\[alpha\] .*running: sending the context/), at(/^\[beta\] .*running: sending the context/));
    assert.ok(bothRunning >= 0 && bothRunning < Math.min(at(/^\[alpha\] #2 DONE/), at(/^\[beta\] #2 DONE/)), r.stderr);
    assert.match(r.stderr, /^\[alpha\] .*alpha-step/m);
    assert.match(r.stderr, /^\[beta\] .*beta-step/m);
    const lines = r.stdout.trim().split('\n').sort();
    assert.deepEqual(lines, [`${reg.host}/alpha@${await servedDigest(reg, 'alpha:2')}`, `${reg.host}/beta@${await servedDigest(reg, 'beta:2')}`]);
    assert.match(r.stderr, new RegExp(`^\\[alpha\\] pushed ${reg.host.replace(/\./g, '\\.')}/alpha:2 digest: sha256:`, 'm'));
    assert.equal(await leftovers(), '');
  });

  test('--keep-job --no-push -q: the Job, its pod and Secret stay for debugging; only the digest is printed', async () => {
    const ctx = await context('kept', { Dockerfile: `FROM ${reg.host}/busybox:1\nRUN echo kept-step\n` });
    const r = await kilnOkIn(jobArgs('--keep-job', '--no-push', '-q', '-t', `${reg.host}/kept:1`, ctx));
    assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
    assert.doesNotMatch(r.stderr, /kept-step/);
    const left = (await leftovers()).split('\n').sort();
    assert.deepEqual(left.map((l) => l.replace(/kiln-build-kept-\w+(-\w+)?$/, 'NAME')), ['job.batch/NAME', 'pod/NAME', 'secret/NAME']);
    const job = left[0]!.split('/')[1]!;
    assert.match(await cluster.kubectl(['logs', `job/${job}`]), /kept-step/);
    await assert.rejects(servedDigest(reg, 'kept:1'));
    await cluster.kubectl(['delete', 'job', job, '--cascade=foreground']);
    assert.equal(await leftoversAfterwards(), '', 'the Secret went with the Job (owner reference)');
  });

  test('Ctrl-C during the build: exit 130, and the Job, its pod and the Secret are deleted', async () => {
    const ctx = await context('slow', { Dockerfile: `FROM ${reg.host}/busybox:1\nRUN echo slow-step-started && sleep 60\n` });
    const [cmd, ...argv] = node.argv(jobArgs('-t', `${reg.host}/slow:1`, ctx));
    const child = spawn(cmd!, argv, { env: { ...process.env, HOME: home, KILN_REGISTRIES_CONFIG: path.join(dir, 'registries.yaml') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const started = new Promise<void>((resolve) => {
      const see = (c: Buffer) => {
        output += c.toString();
        if (output.includes('slow-step-started')) resolve();
      };
      child.stdout.on('data', see);
      child.stderr.on('data', see);
    });
    const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
    await started;
    assert.match(await leftovers(), /job\.batch\/kiln-build-slow-/);
    child.kill('SIGINT');
    assert.equal(await exited, 130, output);
    assert.match(output.trim().split('\n').at(-1)!, /^kiln: build cancelled by SIGINT$/);
    assert.equal(await leftoversAfterwards(), '');
  });

  test('registry credentials (htpasswd): the push is authorized, and no RUN step can read them', async () => {
    const probe = 'RUN (cat /kiln/.docker/config.json; ls /kiln-secret; env; cat /kiln/Dockerfile | head -1) > /probe.txt 2>&1; cat /probe.txt; echo probe-done';
    const ctx = await context('private', { Dockerfile: `FROM ${reg.host}/busybox:1\n${probe}\n` });
    // Without credentials the registry refuses the push.
    const anonymous = path.join(dir, 'anonymous-home');
    await mkdir(anonymous, { recursive: true });
    const refused = await kiln(jobArgs('-t', `${authReg.host}/private:1`, ctx), { home: anonymous });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /401|unauthori[sz]ed|authentication required/i);

    await kilnOkIn(['login', authReg.host, '-u', 'builder', '--password-stdin'], { input: PASSWORD });
    const r = await kilnOkIn(jobArgs('-t', `${authReg.host}/private:1`, ctx));
    assert.equal(await servedDigest(authReg, 'private:1', `builder:${PASSWORD}`), r.stdout.trim());
    assert.match(r.stderr, /probe-done/);
    const b64 = Buffer.from(`builder:${PASSWORD}`).toString('base64');
    for (const secret of [PASSWORD, b64]) assert.ok(!r.stderr.includes(secret), 'the password is not in the build output');
    assert.match(r.stderr, /cat: can't open '\/kiln\/\.docker\/config\.json': No such file or directory/);
    assert.match(r.stderr, /ls: \/kiln-secret: No such file or directory/);
    assert.equal(await leftovers(), '');
  });
});
