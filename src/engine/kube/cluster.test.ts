/**
 * The kube backend against a real one-node cluster (src/testing/kube): kiln
 * install puts the agent (kiln's own image, put into the node's containerd
 * first) on the node; the CLI, run where the kubeconfig works (the node's
 * network namespace: the API server listens there only), reaches the agent
 * through the API server's port-forward; a build through it makes an image a
 * Deployment runs at once (imagePullPolicy Never and IfNotPresent); a user
 * with only the kiln-client Role can use it, one without rights is refused
 * in one line; uninstall leaves none of the objects install made.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { testCache, type RunResult } from '../../testing/kiln.js';
import { startCluster, type TestCluster } from '../../testing/kube/cluster.js';
import { nodeKiln, type NodeKiln } from '../../testing/kube/node-kiln.js';
import { removeDir, tempDir } from '../../testing/tempdir.js';
import { kilnVersion } from '../../version.js';
import { clientCertDir } from '../../kube/client-certs.js';

let cluster: TestCluster;
let dir: string;
let home: string;
let node: NodeKiln;
const version = kilnVersion();
const image = `kiln:${version}`;
const figures: string[] = [];

/** kiln as a user runs it, where the kubeconfig works (the node's network namespace); --backend auto. */
const kube = (args: string[], o: { kubeconfig?: string; env?: Record<string, string> } = {}): Promise<RunResult> => node.run(args, { ...o, env: { KILN_BACKEND: 'auto', ...o.env } });
const kubeOk = (args: string[], o: Parameters<typeof kube>[1] = {}): Promise<RunResult> => node.ok(args, { ...o, env: { KILN_BACKEND: 'auto', ...o.env } });
/** kiln on the node itself, straight on its containerd. */
const onNode = (args: string[]) => node.onNode(args);
const json = async <T>(args: string[]): Promise<T> => JSON.parse(await cluster.kubectl([...args, '-o', 'json'])) as T;
const installFlags = () => node.installFlags();
/** The admin kubeconfig's cluster: its server and CA (as base64 data). */
async function adminCluster(): Promise<{ server: string; ca: string }> {
  const view = JSON.parse(await cluster.kubectl(['config', 'view', '--raw', '--minify', '--flatten', '-o', 'json'])) as { clusters: { cluster: { server: string; 'certificate-authority-data': string } }[] };
  return { server: view.clusters[0]!.cluster.server, ca: view.clusters[0]!.cluster['certificate-authority-data'] };
}
const oneLine = (stderr: string) => {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line: ${stderr}`);
  return lines[0]!;
};

before(async () => {
  dir = await tempDir('kiln-kube-backend-');
  home = path.join(dir, 'home');
  await mkdir(home);
  cluster = await startCluster();
  node = nodeKiln(cluster, dir, { HOME: home });
  // kiln's own image, where the kubelet finds it (the DaemonSet uses imagePullPolicy Never).
  await onNode(['system', 'agent-image']);
});
after(async () => {
  for (const f of figures) process.stdout.write(`# ${f}\n`);
  await cluster?.stop();
  await removeDir(dir);
});

describe('kiln install, the kube backend, uninstall', () => {
  test('an agent image the node does not have: one line naming the node and the image', async () => {
    const r = await kube(['install', '--agent-image', 'kiln.test/absent:1', '--image-pull-policy', 'Never', '--timeout', '120', ...installFlags()]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, new RegExp(`^kiln: node ${cluster.nodeName} cannot get the agent image kiln.test/absent:1: ErrImageNeverPull: .*\\(put the image into the node's containerd`));
    await kubeOk(['uninstall']);
  });

  test('a --selector that matches no node: one line, nothing made', async () => {
    const r = await kube(['install', '--selector', 'disk=ssd', ...installFlags()]);
    assert.equal(r.code, 1);
    assert.match(oneLine(r.stderr), /^kiln: --selector disk=ssd matches no node in context "[^"]+" \(https:\/\/[^)]+\) \(see the nodes and their labels with kubectl get nodes --show-labels\)$/);
    await assert.rejects(cluster.kubectl(['get', 'namespace', 'kiln']), /NotFound|not found/);
  });

  test('install: objects made, the node labelled, the agent ready', async () => {
    const t0 = Date.now();
    const r = await kubeOk(['install', '--image-pull-policy', 'Never', ...installFlags()]);
    figures.push(`install to Ready: ${Date.now() - t0} ms wall (${/in ([\d.]+) s/.exec(r.stdout)?.[1]} s from the DaemonSet to Ready)`);
    for (const line of ['created Namespace kiln', 'created ServiceAccount kiln/kiln-agent', 'created Role kiln/kiln-client', 'created Secret kiln/kiln-agent-tls', 'created Service kiln/kiln-agent', 'created DaemonSet kiln/kiln-agent', `labelled node ${cluster.nodeName} node-role.kubernetes.io/builder=true`]) {
      assert.ok(r.stdout.includes(line + '\n'), `${line} in:\n${r.stdout}`);
    }
    assert.match(r.stdout, new RegExp(`kiln agent ready on node ${cluster.nodeName} in [\\d.]+ s \\(pod kiln/kiln-agent-\\w+, image ${image}\\)`));
    const ds = await json<{ spec: { template: { spec: { containers: { image: string; securityContext: { privileged: boolean } }[] } } }; status: { numberReady: number } }>(['-n', 'kiln', 'get', 'daemonset', 'kiln-agent']);
    assert.equal(ds.status.numberReady, 1);
    assert.equal(ds.spec.template.spec.containers[0]!.image, image);
    const node = await json<{ metadata: { labels: Record<string, string> } }>(['get', 'node', cluster.nodeName]);
    assert.equal(node.metadata.labels['node-role.kubernetes.io/builder'], 'true');
    const secret = await json<{ data: Record<string, string> }>(['-n', 'kiln', 'get', 'secret', 'kiln-agent-tls']);
    assert.deepEqual(Object.keys(secret.data).sort(), ['ca.pem', 'server-cert.pem', 'server-key.pem']);
    const certs = clientCertDir((await adminCluster()).server, 'kiln', home);
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) assert.equal((await stat(path.join(certs, f))).mode & 0o777, 0o600, f);
  });

  test("kiln's image in the agent pod: kubectl exec runs its kiln version, kubectl logs shows the agent serving", async () => {
    const pods = await json<{ items: { metadata: { name: string } }[] }>(['-n', 'kiln', 'get', 'pods', '-l', 'app.kubernetes.io/name=kiln-agent']);
    const pod = pods.items[0]?.metadata.name;
    assert.ok(pod, 'an agent pod');
    assert.equal(await cluster.kubectl(['-n', 'kiln', 'exec', pod, '--', '/usr/local/bin/kiln', '--version']), `${version}\n`);
    const logs = await cluster.kubectl(['-n', 'kiln', 'logs', pod]);
    assert.match(logs, /^kiln agent: serving the containerd engine \(.*\)\nlistening on tcp:\/\/0\.0\.0\.0:2376\nready\n/m);
  });

  test('install again: refused without --force', async () => {
    const r = await kube(['install', ...installFlags()]);
    assert.equal(r.code, 1);
    assert.match(oneLine(r.stderr), /^kiln: kiln is already installed in context "[^"]+" \(https:\/\/[^)]+\), namespace kiln \(kiln install --force replaces it; kiln uninstall removes it\)$/);
  });

  test('system info says where the agent runs', async () => {
    const r = await kubeOk(['--backend', 'kube', 'system', 'info']);
    assert.match(r.stdout, /^Backend: kube\n/);
    assert.match(r.stdout, new RegExp(`\\nAgent: kiln/kiln-agent-\\w+ on node ${cluster.nodeName}\\n`));
    assert.match(r.stdout, new RegExp(`\\nAgent version: ${version.replace(/\./g, '\\.')}\\n`));
    assert.match(r.stdout, /\nTunnel: tcp:\/\/127\.0\.0\.1:\d+ \(port-forward through the API server\)\n/);
  });

  test('import, build through the port-forward; the image is in the node containerd; a Deployment runs it (Never and IfNotPresent)', async () => {
    await kubeOk(['--backend', 'kube', 'import', path.join(testCache(), 'busybox-rootfs.tar'), 'kiln.test/busybox:1']);
    const ctx = path.join(dir, 'ctx');
    await mkdir(ctx);
    await writeFile(path.join(ctx, 'Dockerfile'), 'FROM kiln.test/busybox:1\nCOPY msg.txt /msg.txt\nRUN echo built-on-the-node > /built.txt\nCMD ["sh", "-c", "cat /msg.txt /built.txt; sleep 3600"]\n');
    await writeFile(path.join(ctx, 'msg.txt'), 'hello from kiln\n');
    const t0 = Date.now();
    const built = await kubeOk(['--backend', 'kube', 'build', '-t', 'demo:dev', ctx]);
    const kubeMs = Date.now() - t0;
    assert.match(built.stderr + built.stdout, /transferring context/);
    const t1 = Date.now();
    await onNode(['build', '--no-cache', '-t', 'demo:local', ctx]);
    figures.push(`build through kube: ${kubeMs} ms; the same build straight on the node's containerd: ${Date.now() - t1} ms`);
    const t2 = Date.now();
    await kubeOk(['--backend', 'kube', 'build', '-t', 'demo:dev', ctx]);
    figures.push(`no-change rebuild through kube: ${Date.now() - t2} ms`);

    const listed = await onNode(['images', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.ok(listed.stdout.split('\n').includes('demo:dev'), listed.stdout);
    for (const [name, policy] of [['demo-never', 'Never'], ['demo-ifnotpresent', 'IfNotPresent']] as const) {
      const deploy = {
        apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: 'default' },
        spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'demo', image: 'demo:dev', imagePullPolicy: policy, readinessProbe: { exec: { command: ['cat', '/built.txt'] }, periodSeconds: 1 } }] } } },
      };
      await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(deploy) });
      const t3 = Date.now();
      await cluster.kubectl(['rollout', 'status', `deployment/${name}`, '--timeout=120s'], { timeoutMs: 130_000 });
      figures.push(`Deployment ${name} Ready ${Date.now() - t3} ms after apply`);
      assert.equal(await cluster.kubectl(['logs', `deployment/${name}`]), 'hello from kiln\nbuilt-on-the-node\n');
    }
  });

  test('kiln dev --once: an edit is built through kube and the Deployment restarted; its new pod prints the new content', async () => {
    const ctx = path.join(dir, 'ctx');
    await writeFile(path.join(ctx, 'msg.txt'), 'hello again\n');
    const r = await kubeOk(['--backend', 'kube', 'dev', '--once', '-t', 'demo:dev', '--deployment', 'demo-never', ctx]);
    assert.match(r.stdout, /^#1 built demo:dev \([0-9a-f]{12}\) in [\d.]+ s; deployment default\/demo-never Ready in [\d.]+ s; total [\d.]+ s\n$/);
    figures.push(`kiln dev round (edit → build through kube → pod Ready): ${r.stdout.trim()}`);
    const pods = await json<{ items: { metadata: { name: string; deletionTimestamp?: string } }[] }>(['get', 'pods', '-l', 'app=demo-never']);
    const live = pods.items.filter((p) => !p.metadata.deletionTimestamp);
    assert.equal(live.length, 1);
    assert.equal(await cluster.kubectl(['logs', live[0]!.metadata.name]), 'hello again\nbuilt-on-the-node\n');
  });

  test('images, tag, image pin, rmi through the kube backend; --backend auto finds it', async () => {
    await kubeOk(['--backend', 'kube', 'tag', 'demo:dev', 'demo:v2']);
    const auto = await kubeOk(['images', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.ok(auto.stdout.split('\n').includes('demo:v2'), auto.stdout);
    // Pinned for the kubelet's image GC: the CRI label on the node's image record.
    assert.equal((await kubeOk(['--backend', 'kube', 'image', 'pin', 'demo:v2'])).stdout, 'Pinned: demo:v2\n');
    const pinned = await cluster.exec(['ctr', '--address', cluster.containerdSocket, '-n', 'k8s.io', 'images', 'ls', 'name==docker.io/library/demo:v2']);
    assert.match(pinned, /io\.cri-containerd\.pinned=pinned/);
    const rm = await kubeOk(['--backend', 'kube', 'rmi', 'demo:v2']);
    assert.equal(rm.stdout, 'Untagged: demo:v2\n');
    const after = await onNode(['images', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.ok(!after.stdout.split('\n').includes('demo:v2'));
  });

  test('the agent pod remembered between commands: deleted (the DaemonSet makes another) or never there, the next command still works in one go', async () => {
    const remembered = path.join(clientCertDir((await adminCluster()).server, 'kiln', home), 'agent-pod.json');
    const agentPod = async () => (await cluster.kubectl(['-n', 'kiln', 'get', 'pods', '-l', 'app.kubernetes.io/name=kiln-agent', '-o', 'jsonpath={.items[*].metadata.name}'])).trim();
    await kubeOk(['--backend', 'kube', 'images']);
    const first = await agentPod();
    assert.equal((JSON.parse(await readFile(remembered, 'utf8')) as { pod: string }).pod, first);
    await cluster.kubectl(['-n', 'kiln', 'delete', 'pod', first]);
    const r = await kubeOk(['--backend', 'kube', 'images', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.ok(r.stdout.split('\n').includes('demo:dev'), r.stdout);
    assert.equal(r.stderr, '');
    const second = await agentPod();
    assert.notEqual(second, first);
    assert.equal((JSON.parse(await readFile(remembered, 'utf8')) as { pod: string }).pod, second);
    // A remembered name no pod has (another cluster's, an old file): looked up again, no error.
    await writeFile(remembered, JSON.stringify({ pod: 'kiln-agent-gone0', node: 'n0' }));
    assert.equal((await kubeOk(['--backend', 'kube', 'tag', 'demo:dev', 'demo:again'])).stderr, '');
    assert.equal((JSON.parse(await readFile(remembered, 'utf8')) as { pod: string }).pod, second);
    await kubeOk(['--backend', 'kube', 'rmi', 'demo:again']);
  });

  test('a user with only the kiln-client Role (a bearer token) uses the backend, also through -x; one without rights is refused in one line', async () => {
    await cluster.kubectl(['-n', 'kiln', 'create', 'serviceaccount', 'builder']);
    await cluster.kubectl(['-n', 'kiln', 'create', 'serviceaccount', 'nobody']);
    await cluster.kubectl(['-n', 'kiln', 'create', 'rolebinding', 'builder', '--role', 'kiln-client', '--serviceaccount', 'kiln:builder']);
    const { server, ca } = await adminCluster();
    const config = async (sa: string) => {
      const token = (await cluster.kubectl(['-n', 'kiln', 'create', 'token', sa])).trim();
      const file = path.join(dir, `${sa}.kubeconfig`);
      await writeFile(file, `apiVersion: v1\nkind: Config\nclusters:\n- name: lab\n  cluster: {server: "${server}", certificate-authority-data: ${ca}}\nusers:\n- name: ${sa}\n  user: {token: ${token}}\ncontexts:\n- name: ${sa}\n  context: {cluster: lab, user: ${sa}}\ncurrent-context: ${sa}\n`);
      return file;
    };
    // Same server: the client certificates install kept are found for this kubeconfig too.
    const ok = await kubeOk(['--backend', 'kube', 'images', '--format', '{{.Repository}}:{{.Tag}}'], { kubeconfig: await config('builder') });
    assert.ok(ok.stdout.split('\n').includes('demo:dev'), ok.stdout);
    // -x: a context other than the current one (the current one names a server that is not there).
    const two = path.join(dir, 'two.kubeconfig');
    const token = (await cluster.kubectl(['-n', 'kiln', 'create', 'token', 'builder'])).trim();
    await writeFile(two, `apiVersion: v1\nkind: Config\nclusters:\n- name: lab\n  cluster: {server: "${server}", certificate-authority-data: ${ca}}\n- name: down\n  cluster: {server: "https://127.0.0.1:1"}\nusers:\n- name: b\n  user: {token: ${token}}\ncontexts:\n- name: lab\n  context: {cluster: lab, user: b}\n- name: down\n  context: {cluster: down, user: b}\ncurrent-context: down\n`);
    const down = await kube(['--backend', 'kube', 'images'], { kubeconfig: two });
    assert.match(oneLine(down.stderr), /^kiln: cannot reach the Kubernetes API server of context "down" \(https:\/\/127\.0\.0\.1:1\): connection refused/);
    const viaX = await kubeOk(['-x', 'lab', '--backend', 'kube', 'images', '--format', '{{.Repository}}:{{.Tag}}'], { kubeconfig: two });
    assert.ok(viaX.stdout.split('\n').includes('demo:dev'), viaX.stdout);
    const no = await kube(['--backend', 'kube', 'images'], { kubeconfig: await config('nobody') });
    assert.equal(no.code, 1);
    assert.match(oneLine(no.stderr), /^kiln: list pods in namespace kiln: forbidden in context "nobody" \(https:\/\/[^)]+\): pods is forbidden: User "system:serviceaccount:kiln:nobody" cannot list resource "pods" .*\(ask a cluster admin for these rights, or use a context that has them \(-x\)\)$/);
    await cluster.kubectl(['-n', 'kiln', 'delete', 'rolebinding', 'builder']);
    await cluster.kubectl(['-n', 'kiln', 'delete', 'serviceaccount', 'builder', 'nobody']);
  });

  test('the agent pod deleted mid-build: one line naming the pod and what to do; once it is back, the build works', async () => {
    const ctx = path.join(dir, 'ctx-slow');
    await mkdir(ctx);
    await writeFile(path.join(ctx, 'Dockerfile'), 'FROM kiln.test/busybox:1\nRUN echo step-started && sleep 30\n');
    const pod = (await cluster.kubectl(['-n', 'kiln', 'get', 'pods', '-l', 'app.kubernetes.io/name=kiln-agent', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
    const [cmd, ...argv] = node.argv(['--backend', 'kube', 'build', '--progress', 'plain', '-t', 'slow:1', ctx]);
    const child = spawn(cmd!, argv, { env: { ...process.env, HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const started = new Promise<void>((resolve) => {
      const see = (c: Buffer) => {
        output += c.toString();
        if (output.includes('step-started')) resolve();
      };
      child.stdout.on('data', see);
      child.stderr.on('data', see);
    });
    const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
    await started;
    await cluster.kubectl(['-n', 'kiln', 'delete', 'pod', pod, '--wait=false']);
    assert.equal(await exited, 1, output);
    const last = output.trim().split('\n').at(-1)!;
    assert.match(last, new RegExp(`^kiln: lost the connection to the kiln agent at kiln/${pod} on node ${cluster.nodeName} \\(context "[^"]+"\\) during the build: the agent stopped \\(the agent pod may have restarted: run the command again; kubectl -n kiln get pods shows it\\)$`));
    // Run again at once: the backend waits for the DaemonSet's new pod.
    await writeFile(path.join(ctx, 'Dockerfile'), 'FROM kiln.test/busybox:1\nRUN echo step-started\n');
    await kubeOk(['--backend', 'kube', 'build', '-t', 'slow:1', ctx]);
    const check = await onNode(['system', 'check']);
    assert.equal(check.stdout, 'store is consistent\n');
  });

  test('uninstall: every object install made is gone, the node label too, and the client certificates', async () => {
    await cluster.kubectl(['delete', 'deployment', 'demo-never', 'demo-ifnotpresent']);
    const r = await kubeOk(['uninstall']);
    for (const line of ['deleted DaemonSet kiln/kiln-agent', 'deleted Service kiln/kiln-agent', 'deleted Secret kiln/kiln-agent-tls', 'deleted Role kiln/kiln-client', 'deleted ServiceAccount kiln/kiln-agent', `removed the label node-role.kubernetes.io/builder from node ${cluster.nodeName}`, 'deleted Namespace kiln']) {
      assert.ok(r.stdout.includes(line + '\n'), `${line} in:\n${r.stdout}`);
    }
    for (const [kind, name] of [['daemonset', 'kiln-agent'], ['service', 'kiln-agent'], ['secret', 'kiln-agent-tls'], ['role', 'kiln-client'], ['serviceaccount', 'kiln-agent']] as const) {
      await assert.rejects(cluster.kubectl(['-n', 'kiln', 'get', kind, name]), /NotFound|not found/, `${kind} ${name}`);
    }
    await assert.rejects(cluster.kubectl(['get', 'namespace', 'kiln']), /NotFound|not found/);
    assert.equal((await cluster.kubectl(['get', 'pods', '-A', '-l', 'app.kubernetes.io/name=kiln-agent', '-o', 'name'])).trim(), '');
    const node = await json<{ metadata: { labels: Record<string, string> } }>(['get', 'node', cluster.nodeName]);
    assert.equal(node.metadata.labels['node-role.kubernetes.io/builder'], undefined);
    const after = await kube(['--backend', 'kube', 'images']);
    assert.equal(after.code, 1);
    assert.match(oneLine(after.stderr), /^kiln: kiln is not installed in context "[^"]+" \(https:[^)]+\), namespace kiln \(run kiln install/);
    const again = await kubeOk(['uninstall']);
    assert.match(again.stdout, /nothing to remove\n$/);
  });
});
