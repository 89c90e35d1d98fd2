/**
 * A built image on its way out: `kiln build` keeps its new layers uncompressed
 * in the store, `kiln push` sends them gzip-compressed (as `docker push`), and
 * the image pulled back has the same image ID. Real docker-registry and skopeo.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startRegistry } from '../testing/registry.js';
import { kilnOk, testCache } from '../testing/kiln.js';

const GZIP_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';

test('kiln push of a built image sends gzip layers; pulled back, it has the same image ID', async (t) => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'kiln-build-push-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const reg = await startRegistry();
  t.after(() => reg.stop());
  const root = path.join(tmp, 'root');
  const base = `${reg.host}/base/busybox:1`;
  await kilnOk(['import', path.join(testCache(), 'busybox-rootfs.tar'), base], { root });
  const ctx = path.join(tmp, 'ctx');
  execFileSync('mkdir', ['-p', ctx]);
  writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${base}\nCOPY hello.txt /hello.txt\n`);
  writeFileSync(path.join(ctx, 'hello.txt'), 'hello '.repeat(1000));
  const name = `${reg.host}/team/app:1`;
  const id = (await kilnOk(['build', '-q', '-t', name, ctx], { root })).stdout.trim();
  assert.match(id, /^sha256:[a-f0-9]{64}$/);
  // The store is an OCI layout: the built layer is kept as a plain tar.
  const blob = (d: string): string => readFileSync(path.join(root, 'blobs', 'sha256', d.slice(7)), 'utf8');
  const index = JSON.parse(readFileSync(path.join(root, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
  const stored = index.manifests.find((m) => m.annotations?.['io.containerd.image.name'] === `${reg.host}/team/app:1` || m.annotations?.['org.opencontainers.image.ref.name'] === name);
  assert.ok(stored, `no index entry for ${name}: ${JSON.stringify(index)}`);
  const local = JSON.parse(blob(stored.digest)) as { layers: { mediaType: string }[] };
  assert.equal(local.layers[1]!.mediaType, 'application/vnd.oci.image.layer.v1.tar');

  await kilnOk(['push', '-q', name], { root });
  const raw = execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${name}`], { encoding: 'utf8' });
  const manifest = JSON.parse(raw) as { config: { digest: string }; layers: { mediaType: string }[] };
  assert.equal(manifest.layers.length, 2);
  assert.deepEqual(manifest.layers.map((l) => l.mediaType), [GZIP_LAYER, GZIP_LAYER]);
  assert.equal(manifest.config.digest, id);

  // Pushed again under another name: the same manifest (the gzip forms were kept).
  const other = `${reg.host}/team/other:1`;
  await kilnOk(['tag', name, other], { root });
  await kilnOk(['push', '-q', other], { root });
  const again = execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${other}`], { encoding: 'utf8' });
  assert.equal(again, raw);

  const fresh = path.join(tmp, 'fresh');
  await kilnOk(['pull', '-q', name], { root: fresh });
  const pulled = await kilnOk(['inspect', '-f', '{{.Id}}', name], { root: fresh });
  assert.equal(pulled.stdout.trim(), id);
  const file = await kilnOk(['run', '--rm', name, 'wc', '-c', '/hello.txt'], { root: fresh });
  assert.equal(file.stdout.trim(), '6000 /hello.txt');
});
