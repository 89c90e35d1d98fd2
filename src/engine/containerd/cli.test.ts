/**
 * The containerd backend as a k3s user meets it: the built CLI with
 * `--backend containerd --address SOCK` against Debian's containerd (CRI on),
 * checked with containerd's own tools: `ctr images ls`, the CRI ImageService
 * (what the kubelet asks), committed overlayfs snapshots, and `ctr run`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { startContainerd, type TestContainerd } from '../../testing/containerd.js';
import { criImageService, type CriImageService } from '../../testing/cri.js';
import { kiln, kilnBin, kilnOk, testCache } from '../../testing/kiln.js';
import { startRegistry, type TestRegistry } from '../../testing/registry.js';
import { removeDir, tempDir } from '../../testing/tempdir.js';
import { chainIds } from '../../oci/config.js';

const busybox = path.join(testCache(), 'busybox-rootfs.tar');
let ctd: TestContainerd;
let reg: TestRegistry;
let cri: CriImageService;
let tmp: string;
const run = randomBytes(3).toString('hex');
const createHashHex = (s: string) => createHash('sha256').update(s).digest('hex');

before(async () => {
  [ctd, reg, tmp] = await Promise.all([startContainerd(), startRegistry(), tempDir('kiln-ctd-cli-')]);
  cri = criImageService(ctd.address);
});
after(async () => {
  cri?.close();
  await Promise.all([ctd?.stop(), reg?.stop()]);
  await removeDir(tmp);
});

/** kiln on the test containerd (its --root is unused there but keeps a stray local store out of $HOME). */
const onCtd = (args: string[], extra: string[] = []) => kilnOk(['--backend', 'containerd', '--address', ctd.address, ...extra, ...args], { root: path.join(tmp, 'unused') });
const local = (args: string[]) => kilnOk(args, { root: path.join(tmp, 'local') });

async function ctrNames(namespace = 'k8s.io'): Promise<string[]> {
  return (await ctd.ctr(['images', 'ls', '-q'], { namespace })).trim().split('\n').filter(Boolean);
}

/** The top chain ID of an image, from `kiln inspect`. */
async function topChain(name: string): Promise<string> {
  const [info] = JSON.parse((await onCtd(['inspect', name])).stdout) as [{ RootFS: { Layers: string[] } }];
  return chainIds(info.RootFS.Layers).at(-1)!;
}

async function committedSnapshots(): Promise<string[]> {
  const out = await ctd.ctr(['snapshots', '--snapshotter', 'overlayfs', 'ls']);
  return out.split('\n').filter((l) => /\sCommitted\s*$/.test(l)).map((l) => l.split(/\s+/)[0]!);
}

test('pull: ctr and the CRI see the image, it is already unpacked, ctr run runs it, rmi removes it', async () => {
  // A registry image made offline: busybox imported and pushed with the local backend.
  const name = `${reg.host}/kiln-test/bb-${run}:1`;
  await local(['import', '-c', 'CMD ["/bin/sh","-c","echo hello from kiln"]', busybox, name]);
  const pushed = (await local(['push', name])).stdout;
  const digest = /sha256:[a-f0-9]{64}/.exec(pushed)?.[0];
  assert.ok(digest, pushed);

  await onCtd(['pull', name]);
  assert.ok((await ctrNames()).includes(name), 'ctr -n k8s.io images ls lists it');
  const [info] = JSON.parse((await onCtd(['inspect', name])).stdout) as [{ Id: string }];

  const status = await cri.imageStatus(name);
  assert.ok(status, 'CRI ImageStatus finds it');
  assert.equal(status.id, info.Id);
  assert.deepEqual(status.repo_tags, [name]);
  assert.deepEqual(status.repo_digests, [`${reg.host}/kiln-test/bb-${run}@${digest}`]);
  assert.equal((await cri.imageStatus(`${reg.host}/kiln-test/bb-${run}@${digest}`))?.id, info.Id, 'the kubelet finds it by digest too');
  assert.ok((await cri.listImages()).some((i) => i.id === info.Id && i.repo_tags.includes(name)), 'CRI ListImages lists it');

  // Already unpacked into overlayfs under the chain ID containerd and the CRI look for.
  const chain = await topChain(name);
  const before = await committedSnapshots();
  assert.ok(before.includes(chain), `snapshot ${chain} committed`);
  const out = await ctd.ctr(['run', '--rm', name, `kiln-run-${run}`]);
  assert.equal(out, 'hello from kiln\n');
  assert.deepEqual((await committedSnapshots()).sort(), before.sort(), 'ctr run needed no unpack');

  const rmi = await onCtd(['rmi', name]);
  assert.match(rmi.stdout, new RegExp(`Deleted: ${info.Id}`));
  assert.equal((await ctrNames()).some((n) => n.includes(`bb-${run}`) || n === info.Id), false, 'no record left for ctr');
  assert.equal(await cri.imageStatus(name), undefined, 'gone for the CRI');
});

test('import and load on containerd are images containerd can run', async () => {
  const imported = `kiln-test/imp-${run}:1`;
  const id = (await onCtd(['import', '-c', 'CMD ["/bin/echo","imported"]', busybox, imported])).stdout.trim();
  assert.ok((await ctrNames()).includes(`docker.io/${imported}`));
  assert.equal((await cri.imageStatus(`docker.io/${imported}`))?.id, id);
  assert.equal(await ctd.ctr(['run', '--rm', `docker.io/${imported}`, `kiln-imp-${run}`]), 'imported\n');

  // An archive written by the local backend, loaded into containerd.
  const archive = path.join(tmp, 'loaded.tar');
  const loaded = `kiln-test/load-${run}:1`;
  const localId = (await local(['import', '-c', 'CMD ["/bin/echo","loaded"]', busybox, loaded])).stdout.trim();
  await local(['save', '-o', archive, loaded]);
  const r = await onCtd(['load', '-i', archive]);
  assert.match(r.stdout, new RegExp(`Loaded image: ${loaded}`));
  assert.equal((await cri.imageStatus(`docker.io/${loaded}`))?.id, localId);
  assert.equal(await ctd.ctr(['run', '--rm', `docker.io/${loaded}`, `kiln-load-${run}`]), 'loaded\n');

  const images = (await onCtd(['images'])).stdout;
  assert.match(images, new RegExp(`kiln-test/imp-${run}\\s+1\\s+${id.slice(7, 19)}`));
  assert.match(images, new RegExp(`kiln-test/load-${run}\\s+1\\s+${localId.slice(7, 19)}`));
});

test('system info, --namespace, auto-detection by --address and KILN_BACKEND', async () => {
  const info = (await onCtd(['system', 'info'])).stdout;
  assert.match(info, /^Backend: containerd$/m);
  assert.match(info, new RegExp(`^Socket: ${ctd.address}$`, 'm'));
  assert.match(info, /^Namespace: k8s\.io$/m);
  assert.match(info, /^Snapshotter: overlayfs$/m);
  assert.match(info, /^containerd: 1\.\d+/m);

  const ns = `kiln-ns-${run}`;
  await onCtd(['import', busybox, `kiln-test/ns-${run}:1`], ['--namespace', ns]);
  assert.deepEqual((await ctrNames(ns)).filter((n) => !n.startsWith('sha256:')), [`docker.io/kiln-test/ns-${run}:1`]);
  assert.equal((await ctrNames()).includes(`docker.io/kiln-test/ns-${run}:1`), false, 'not in k8s.io');

  const auto = await kilnOk(['--address', ctd.address, 'system', 'info'], { root: path.join(tmp, 'unused'), env: { KILN_BACKEND: 'auto' } });
  assert.match(auto.stdout, /^Backend: containerd$/m);
  const env = await kilnOk(['--address', ctd.address, 'system', 'info'], { root: path.join(tmp, 'unused'), env: { KILN_BACKEND: 'containerd' } });
  assert.match(env.stdout, /^Backend: containerd$/m);
  const forcedLocal = await kilnOk(['--backend', 'local', 'system', 'info'], { root: path.join(tmp, 'local') });
  assert.match(forcedLocal.stdout, /^Backend: local$/m);
});

test('containerd not running, or its socket not writable: one clear line naming the socket', async () => {
  const missing = path.join(tmp, 'no-such', 'containerd.sock');
  const r = await kiln(['--backend', 'containerd', '--address', missing, 'images'], { root: path.join(tmp, 'unused') });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, `kiln: cannot reach containerd at ${missing} (start containerd (or k3s), or pass --address SOCKET / --backend local)\n`);

  // The test containerd's socket sits in a root-only directory: another user cannot use it.
  const denied = spawnSync(process.execPath, [kilnBin(), '--root', path.join(tmp, 'nobody'), '--backend', 'containerd', '--address', ctd.address, 'images'], { uid: 65534, gid: 65534, encoding: 'utf8' });
  assert.equal(denied.status, 1, denied.stderr);
  assert.equal(denied.stderr, `kiln: containerd socket ${ctd.address} is not writable by this user (run kiln as root (sudo kiln …) or as a member of the socket's group)\n`);
});

test('images that ctr (or the kubelet) pulled, with an index as target, are listed, inspected and removed', async () => {
  // An image index in the registry, over a manifest pushed by the local backend.
  const repo = `${reg.host}/kiln-test/idx-${run}`;
  await local(['import', '-c', 'CMD ["/bin/echo","from an index"]', busybox, `${repo}:single`]);
  const pushed = (await local(['push', `${repo}:single`])).stdout;
  const digest = /digest: (sha256:[a-f0-9]{64}) size: (\d+)/.exec(pushed);
  assert.ok(digest, pushed);
  const index = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digest[1], size: Number(digest[2]), platform: { os: 'linux', architecture: 'amd64' } }],
  });
  const put = await fetch(`${reg.url}/v2/kiln-test/idx-${run}/manifests/multi`, { method: 'PUT', headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' }, body: index });
  assert.equal(put.status, 201);
  await ctd.ctr(['images', 'pull', '--plain-http', `${repo}:multi`]);

  const list = (await onCtd(['images', `${repo}:multi`])).stdout;
  const [info] = JSON.parse((await onCtd(['inspect', `${repo}:multi`])).stdout) as [{ Id: string; RepoDigests: string[] }];
  assert.match(list, new RegExp(`kiln-test/idx-${run}\\s+multi\\s+${info.Id.slice(7, 19)}`));
  assert.ok(info.RepoDigests.some((d) => d.endsWith(`@sha256:${createHashHex(index)}`)), `repo digest is the index's: ${info.RepoDigests.join(', ')}`);
  assert.match((await onCtd(['history', `${repo}:multi`])).stdout, /from an index|kiln import/);
  await onCtd(['rmi', `${repo}:multi`]);
  assert.equal((await ctrNames()).includes(`${repo}:multi`), false);
});

test('kiln events on containerd prints what ctr tags and removes, filtered by image; --since in the past is refused', async () => {
  const src = `docker.io/kiln-test/evsrc-${run}:1`;
  await onCtd(['import', busybox, src]);
  const repo = `docker.io/kiln-test/ev-${run}`;
  const args = ['--root', path.join(tmp, 'unused'), '--backend', 'containerd', '--address', ctd.address, 'events', '--filter', 'type=image', '--filter', `image=kiln-test/ev-${run}`];
  const child = spawn(process.execPath, [kilnBin(), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  const line = (action: string, name: string) => new RegExp(`^\\S+ image ${action} ${name.replace(/[.]/g, '\\.')} \\(name=${name.replace(/[.]/g, '\\.')}\\)$`, 'm');
  const printed = async (re: RegExp, ms: number) => {
    for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) if (re.test(out)) return true;
    return re.test(out);
  };
  try {
    // containerd keeps no history: tag probe names until the subscription is live and prints one.
    let live = false;
    for (let i = 0; i < 30 && !live; i++) {
      await ctd.ctr(['images', 'tag', src, `${repo}:probe${i}`]);
      live = await printed(line('tag', `${repo}:probe${i}`), 1000);
    }
    assert.ok(live, `no event printed for a ctr tag within 30 s\nstdout: ${out}\nstderr: ${err}`);
    await ctd.ctr(['images', 'tag', src, `docker.io/kiln-test/other-${run}:1`]);
    await ctd.ctr(['images', 'tag', src, `${repo}:final`]);
    assert.ok(await printed(line('tag', `${repo}:final`), 10_000), out);
    await ctd.ctr(['images', 'rm', `${repo}:final`]);
    assert.ok(await printed(line('untag', `${repo}:final`), 10_000), out);
    assert.equal(out.includes(`other-${run}`), false, 'image= filters out other names');
    assert.ok(out.split('\n').filter(Boolean).every((l) => /^\d{4}-\d\d-\d\dT[\d:.]+Z image (tag|untag) /.test(l)), out);
  } finally {
    child.kill('SIGINT');
  }
  assert.equal(await exited, 0, err);
  assert.equal(err, '');

  const since = await kiln(args.slice(2).concat(['--since', '10m']), { root: path.join(tmp, 'unused') });
  assert.equal(since.code, 1);
  assert.equal(since.stdout, '');
  assert.match(since.stderr, /^kiln: containerd keeps no event history: cannot show events since \S+Z \(leave out --since to stream new events; the local backend keeps a log of past ones\)\n$/);
});

test('image pin: the name record gets the CRI pin label (ctr shows it), a rebuilt or retagged name keeps it, an ID pins every name, unpin takes it off; the local backend refuses', async () => {
  const name = `kiln.test/pinned-${run}:1`;
  const labelsOf = async () => {
    const out = await ctd.ctr(['images', 'ls'], { namespace: 'k8s.io' });
    const line = out.split('\n').find((l) => l.startsWith(`${name} `));
    assert.ok(line, `ctr lists ${name}:\n${out}`);
    return line.trim().split(/\s+/).at(-1)!;
  };
  await onCtd(['import', '-c', 'CMD ["true"]', busybox, name]);
  assert.equal(await labelsOf(), 'io.cri-containerd.image=managed');
  assert.equal((await onCtd(['image', 'pin', name])).stdout, `Pinned: ${name}\n`);
  assert.equal(await labelsOf(), 'io.cri-containerd.image=managed,io.cri-containerd.pinned=pinned');
  // A new image under the pinned name (a rebuild or retag) keeps the pin.
  await onCtd(['import', '-c', 'CMD ["false"]', busybox, name]);
  assert.equal(await labelsOf(), 'io.cri-containerd.image=managed,io.cri-containerd.pinned=pinned');
  assert.equal((await onCtd(['image', 'unpin', name])).stdout, `Unpinned: ${name}\n`);
  assert.equal(await labelsOf(), 'io.cri-containerd.image=managed');
  // By name only that name; by ID every name of the image.
  await onCtd(['tag', name, `${name}-b`]);
  assert.equal((await onCtd(['image', 'pin', `${name}-b`])).stdout, `Pinned: ${name}-b\n`);
  assert.equal(await labelsOf(), 'io.cri-containerd.image=managed');
  const id = (await onCtd(['inspect', '--format', '{{.Id}}', name])).stdout.trim();
  assert.deepEqual((await onCtd(['image', 'unpin', id])).stdout.trim().split('\n').sort(), [`Unpinned: ${name}`, `Unpinned: ${name}-b`]);
  await onCtd(['rmi', `${name}-b`]);
  const missing = await kiln(['--backend', 'containerd', '--address', ctd.address, 'image', 'pin', 'kiln.test/nosuch:1'], { root: path.join(tmp, 'unused') });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^kiln: no such image: kiln\.test\/nosuch:1/);
  const onLocal = await kiln(['image', 'pin', name], { root: path.join(tmp, 'local') });
  assert.equal(onLocal.code, 1);
  assert.equal(onLocal.stderr, "kiln: pinning keeps an image from the kubelet's image GC: kiln's own store has no kubelet (use --backend containerd (namespace k8s.io) or --backend kube)\n");
  await onCtd(['rmi', name]);
});
