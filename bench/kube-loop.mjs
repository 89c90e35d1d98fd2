// The edit → pod-ready loop on the harness cluster (src/testing/kube), in one run:
//   kiln      edit one file; kiln --backend kube dev --once (build through the agent, restart the
//             Deployment, wait for the rollout); the new pod answers with the new content
//   registry  edit one file; buildah bud; buildah push to a registry in the node's network
//             namespace; kubectl set image; the kubelet pulls; wait for the rollout; the pod answers
//   no-change kiln --backend kube build of an unchanged context
// Medians of RUNS rounds (default 3). Aims: kiln ≤ 0.3 × registry; no-change < 1 s.
import { spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cache, exe, kubeBench, main, median, run, secs } from './lib/kube-bench.mjs';

const RUNS = Number(process.env.RUNS ?? 3);
const { c, work, ns, inNs, kiln, install, stop } = await kubeBench('kube');
const B = ['buildah', '--root', path.join(work, 'buildah/root'), '--runroot', path.join(work, 'buildah/run'), '--storage-driver', 'overlay'];
let registry;
try {
  await install();
  const base = 'docker.io/bench/busybox:1';
  await kiln(['--backend', 'kube', 'import', path.join(cache, 'busybox-rootfs.tar'), base]);
  // buildah's base: the same rootfs, from a kiln OCI layout.
  const kroot = path.join(work, 'kroot');
  await run(process.execPath, [main, '--root', kroot, 'import', path.join(cache, 'busybox-rootfs.tar'), base]);
  await run(B[0], [...B.slice(1), 'pull', '-q', `oci:${kroot}:${base}`]);
  const id = (await run(B[0], [...B.slice(1), 'images', '-q'])).stdout.trim().split('\n')[0];
  await run(B[0], [...B.slice(1), 'tag', id, base]);

  const ctx = path.join(work, 'ctx');
  await mkdir(path.join(ctx, 'www'), { recursive: true });
  await writeFile(path.join(ctx, 'Dockerfile'), `FROM ${base}\nCOPY www /www\nCMD ["httpd", "-f", "-p", "8080", "-h", "/www"]\n`);
  const edit = (text) => writeFile(path.join(ctx, 'www/index.html'), text);

  // A registry inside the node's network namespace (containerd pulls 127.0.0.1 over plain HTTP).
  await writeFile(path.join(work, 'registry.yml'), `version: 0.1\nstorage: {filesystem: {rootdirectory: ${work}/registry}, delete: {enabled: true}}\nhttp: {addr: "127.0.0.1:5000"}\n`);
  registry = spawn('nsenter', [`--net=${ns}`, '--', '/usr/bin/docker-registry', 'serve', path.join(work, 'registry.yml')], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (await inNs(['busybox', 'wget', '-qO-', 'http://127.0.0.1:5000/v2/']).then(() => true, () => false)) break;
    await new Promise((r) => setTimeout(r, 100));
  }

  const deployment = (name, image, policy) => JSON.stringify({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: 'default' },
    spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'web', image, imagePullPolicy: policy, readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 } }] } } },
  });
  const answer = async (app) => {
    const pods = JSON.parse((await c.kubectl(['get', 'pods', '-l', `app=${app}`, '-o', 'json'])).toString()).items.filter((p) => !p.metadata.deletionTimestamp);
    return (await inNs(['busybox', 'wget', '-qO-', `http://${pods[0].status.podIP}:8080/`])).stdout;
  };

  await edit('v0\n');
  await kiln(['--backend', 'kube', 'build', '-q', '-t', 'demo:dev', ctx]);
  await c.kubectl(['apply', '-f', '-'], { input: deployment('demo-kiln', 'demo:dev', 'Never') });
  await c.kubectl(['rollout', 'status', 'deployment/demo-kiln', '--timeout=120s'], { timeoutMs: 130_000 });
  await run(B[0], [...B.slice(1), 'bud', '-q', '--runtime', '/usr/sbin/runc', '--isolation', 'chroot', '--layers', '--pull-never', '--format', 'docker', '-t', '127.0.0.1:5000/demo:r0', ctx]);
  await inNs([...B, 'push', '-q', '--tls-verify=false', '127.0.0.1:5000/demo:r0']);
  await c.kubectl(['apply', '-f', '-'], { input: deployment('demo-reg', '127.0.0.1:5000/demo:r0', 'IfNotPresent') });
  await c.kubectl(['rollout', 'status', 'deployment/demo-reg', '--timeout=120s'], { timeoutMs: 130_000 });

  const kilnMs = [];
  const regMs = [];
  const noChange = [];
  for (let i = 1; i <= RUNS; i++) {
    await edit(`kiln ${i}\n`);
    let t0 = Date.now();
    const dev = await kiln(['--backend', 'kube', 'dev', '--once', '-t', 'demo:dev', '--deployment', 'demo-kiln', ctx]);
    kilnMs.push(Date.now() - t0);
    process.stdout.write(`round ${i}: kiln dev --once: ${dev.stdout}`);
    if ((await answer('demo-kiln')) !== `kiln ${i}\n`) throw new Error(`demo-kiln does not answer "kiln ${i}"`);

    t0 = Date.now();
    await kiln(['--backend', 'kube', 'build', '-q', '-t', 'demo:dev', ctx]);
    noChange.push(Date.now() - t0);

    await edit(`registry ${i}\n`);
    t0 = Date.now();
    const ref = `127.0.0.1:5000/demo:r${i}`;
    await run(B[0], [...B.slice(1), 'bud', '-q', '--runtime', '/usr/sbin/runc', '--isolation', 'chroot', '--layers', '--pull-never', '--format', 'docker', '-t', ref, ctx]);
    await inNs([...B, 'push', '-q', '--tls-verify=false', ref]);
    await c.kubectl(['set', 'image', 'deployment/demo-reg', `web=${ref}`]);
    await c.kubectl(['rollout', 'status', 'deployment/demo-reg', '--timeout=120s'], { timeoutMs: 130_000 });
    regMs.push(Date.now() - t0);
    if ((await answer('demo-reg')) !== `registry ${i}\n`) throw new Error(`demo-reg does not answer "registry ${i}"`);
  }
  const k = median(kilnMs);
  const r = median(regMs);
  console.log(`kube loop: one-node harness cluster, busybox httpd, one file changed; medians of ${RUNS}; client ${exe.join(' ')}`);
  console.log(`edit → new pod Ready: kiln (build through kube + restart) ${secs(k)} s, registry path (buildah bud + push + kubelet pull) ${secs(r)} s, ratio ${(k / r).toFixed(2)}x (aim ≤ 0.3)`);
  console.log(`no-change rebuild through kube: ${secs(median(noChange))} s (aim < 1 s)`);
  console.log(`runs: kiln ${kilnMs.map(secs).join(' ')}; registry ${regMs.map(secs).join(' ')}; no-change ${noChange.map(secs).join(' ')}`);
} finally {
  registry?.kill('SIGTERM');
  await run(B[0], [...B.slice(1), 'rm', '--all']).catch(() => undefined);
  await run('umount', [path.join(work, 'buildah/root/overlay')]).catch(() => undefined);
  await stop();
}
