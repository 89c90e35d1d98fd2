/**
 * The image commands end to end, as a user runs them: the built CLI against a
 * real distribution registry on 127.0.0.1, with skopeo and umoci as oracles.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startRegistry } from '../testing/registry.js';
import { kiln, kilnOk, testCache } from '../testing/kiln.js';

const busybox = path.join(testCache(), 'busybox-rootfs.tar');
let reg: Awaited<ReturnType<typeof startRegistry>>;
let tmp: string;
let root: string;

const skopeo = (...args: string[]) => execFileSync('skopeo', args, { encoding: 'utf8' });

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'kiln-images-'));
  root = path.join(tmp, 'root');
  reg = await startRegistry({});
});
after(async () => {
  await reg?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

test('import, tag, images, inspect, history', async () => {
  const imp = await kilnOk(['import', '-c', 'CMD ["echo","hi"]', '-c', 'ENV A=b', '-c', 'WORKDIR /srv', busybox, 'demo/bb:1'], { root });
  const id = imp.stdout.trim();
  assert.match(id, /^sha256:[a-f0-9]{64}$/);
  await kilnOk(['tag', 'demo/bb:1', 'demo/bb:2'], { root });
  const list = await kilnOk(['images'], { root });
  const lines = list.stdout.trim().split('\n');
  assert.match(lines[0]!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
  assert.equal(lines.filter((l) => l.startsWith('demo/bb ') && l.includes(id.slice(7, 19))).length, 2);
  const q = await kilnOk(['images', '-q'], { root });
  assert.equal(q.stdout, id.slice(7, 19) + '\n');
  const filtered = await kilnOk(['images', 'other/repo'], { root });
  assert.equal(filtered.stdout.trim().split('\n').length, 1);
  const [info] = JSON.parse((await kilnOk(['inspect', 'demo/bb:1'], { root })).stdout) as [{ Id: string; Config: { Cmd: string[]; Env: string[]; WorkingDir: string }; RepoTags: string[] }];
  assert.equal(info.Id, id);
  assert.deepEqual(info.Config.Cmd, ['echo', 'hi']);
  assert.ok(info.Config.Env.includes('A=b'));
  assert.equal(info.Config.WorkingDir, '/srv');
  assert.deepEqual(info.RepoTags, ['demo/bb:1', 'demo/bb:2']);
  const hist = await kilnOk(['history', '--format', 'json', id.slice(7, 15)], { root });
  assert.equal((JSON.parse(hist.stdout) as unknown[]).length, 1);
  // The store is an OCI layout that skopeo and umoci read.
  const sk = JSON.parse(skopeo('inspect', '--config', `oci:${root}:docker.io/demo/bb:1`)) as { config: { Cmd: string[] } };
  assert.deepEqual(sk.config.Cmd, ['echo', 'hi']);
  const umoci = execFileSync('umoci', ['ls', '--layout', root], { encoding: 'utf8' });
  assert.match(umoci, /docker\.io\/demo\/bb:1/);
});

test('push, rmi, pull round trip agrees with skopeo', async () => {
  const name = `${reg.host}/demo/bb:1`;
  await kilnOk(['tag', 'demo/bb:1', name], { root });
  const push = await kilnOk(['push', name], { root });
  const m = /1: digest: (sha256:[a-f0-9]{64}) size: (\d+)/.exec(push.stdout);
  assert.ok(m, push.stdout);
  const remote = JSON.parse(skopeo('inspect', '--tls-verify=false', `docker://${name}`)) as { Digest: string };
  assert.equal(remote.Digest, m[1]);
  // A second push finds every blob there already.
  const again = await kilnOk(['push', name], { root });
  assert.match(again.stdout, /Layer already exists/);
  const rmi = await kilnOk(['rmi', name], { root });
  assert.match(rmi.stdout, new RegExp(`Untagged: ${reg.host}/demo/bb:1`));
  const pull = await kilnOk(['pull', name], { root });
  assert.match(pull.stdout, new RegExp(`Digest: ${m[1]}`));
  assert.match(pull.stdout, new RegExp(`${reg.host}/demo/bb:1\n$`));
  const check = await kilnOk(['system', 'check'], { root });
  assert.equal(check.stdout, 'store is consistent\n');
});

test('pulls what skopeo pushed, and save is read by skopeo', async () => {
  const other = path.join(tmp, 'other');
  await kilnOk(['import', '-c', 'CMD ["true"]', busybox, 'x/y:z'], { root: other });
  skopeo('copy', '--dest-tls-verify=false', `oci:${other}:docker.io/x/y:z`, `docker://${reg.host}/from/skopeo:v1`);
  const pull = await kilnOk(['pull', `${reg.host}/from/skopeo:v1`], { root });
  assert.match(pull.stdout, /Status: Downloaded newer image/);
  const archive = path.join(tmp, 'save.tar');
  await kilnOk(['save', '-o', archive, `${reg.host}/from/skopeo:v1`], { root });
  const fromArchive = JSON.parse(skopeo('inspect', '--config', `docker-archive:${archive}`)) as { config: { Cmd: string[] } };
  assert.deepEqual(fromArchive.config.Cmd, ['true']);
  const fresh = path.join(tmp, 'fresh');
  const load = await kilnOk(['load', '-i', archive], { root: fresh });
  assert.match(load.stdout, new RegExp(`Loaded image: ${reg.host}/from/skopeo:v1`));
  const a = JSON.parse((await kilnOk(['inspect', `${reg.host}/from/skopeo:v1`], { root })).stdout) as [{ Id: string }];
  const b = JSON.parse((await kilnOk(['inspect', `${reg.host}/from/skopeo:v1`], { root: fresh })).stdout) as [{ Id: string }];
  assert.equal(a[0].Id, b[0].Id);
});

test('bad input: one clear line and exit 1', async () => {
  const unknown = await kiln(['pull', `${reg.host}/demo/bb:nope`], { root });
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stderr.trim().split('\n').length, 1, unknown.stderr);
  assert.match(unknown.stderr, new RegExp(`${reg.host}/demo/bb`));
  const malformed = await kiln(['pull', 'Bad/Name'], { root });
  assert.equal(malformed.code, 1);
  assert.match(malformed.stderr, /must be lowercase/);
  const down = await kiln(['pull', '127.0.0.1:1/x/y'], { root });
  assert.equal(down.code, 1);
  assert.match(down.stderr, /127\.0\.0\.1:1/);
  assert.doesNotMatch(down.stderr, /\n\s+at /, 'no stack trace without --debug');
  const missing = await kiln(['rmi', 'no/such:image'], { root });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no such image: no\/such:image/);
});

test('rmi removes the blobs no image needs', async () => {
  const r = path.join(tmp, 'rmi');
  await kilnOk(['import', busybox, 'a/b:c'], { root: r });
  await kilnOk(['rmi', 'a/b:c'], { root: r });
  const info = JSON.parse((await kilnOk(['system', 'info', '--format', 'json'], { root: r })).stdout) as { blobs: number; images: number };
  assert.equal(info.images, 0);
  assert.equal(info.blobs, 0);
  assert.ok(statSync(path.join(r, 'index.json')).isFile());
});
