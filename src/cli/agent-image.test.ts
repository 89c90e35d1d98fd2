/**
 * `kiln system agent-image`: kiln's own image, made from the packaged
 * executable with nothing from a registry. It runs on runc from kiln's store
 * (kiln version, runc, openssl inside it), goes straight into containerd
 * where ctr runs it, is pushed to a real registry that skopeo reads the
 * version label from, comes out the same layer from node dist/cli/main.js
 * (which uses dist/kiln beside it), and without an executable is one line.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { startContainerd } from '../testing/containerd.js';
import { kilnBin, kilnExe, kilnOk, repoRoot } from '../testing/kiln.js';
import { startRegistry } from '../testing/registry.js';
import { removeDir, tempDir } from '../testing/tempdir.js';

const run = promisify(execFile);
const version = (JSON.parse(await readFile(path.join(repoRoot(), 'package.json'), 'utf8')) as { version: string }).version;
const tag = `kiln:${version}`;
const exe = { KILN_EXE: kilnExe() };
let tmp: string;

before(async () => {
  tmp = await tempDir('kiln-agent-image-');
});
after(() => removeDir(tmp));

const layers = async (root: string, env?: Record<string, string>) =>
  (await kilnOk(['inspect', '-f', '{{json .RootFS.Layers}}', tag], { root, ...(env ? { env } : {}) })).stdout.trim();

test('dist/kiln system agent-image: kiln:VERSION in the local store runs kiln, runc and openssl on runc; --push to a registry', async () => {
  const root = path.join(tmp, 'local');
  const registry = await startRegistry();
  try {
    const ref = `${registry.host}/tools/kiln:${version}`;
    const made = await kilnOk(['system', 'agent-image', '--push', ref], { root, env: exe });
    assert.match(made.stdout, new RegExp(`^kiln:${version.replaceAll('.', '\\.')} sha256:[a-f0-9]{64}\\n$`));
    assert.match(made.stderr, /kiln image from .*: \d+ files/);
    assert.match(made.stderr, /pushed .*\/tools\/kiln:.*: digest: sha256:[a-f0-9]{64}/);
    const images = await kilnOk(['images', '--format', '{{.Repository}}:{{.Tag}}'], { root });
    assert.equal(images.stdout, `${tag}\n${ref}\n`.split('\n').filter(Boolean).sort().join('\n') + '\n');

    const config = JSON.parse((await kilnOk(['inspect', '-f', '{{json .Config}}', tag], { root })).stdout) as { Entrypoint: string[]; Labels: Record<string, string> };
    assert.deepEqual(config.Entrypoint, ['/usr/local/bin/kiln']);
    assert.equal(config.Labels['org.opencontainers.image.version'], version);

    const ran = await kilnOk(['run', '--rm', '--network', 'none', tag, 'version'], { root });
    assert.equal(ran.stdout, `kiln version ${version}\nnode ${process.version}\nos/arch ${process.platform}/${process.arch}\n`);
    const runc = await kilnOk(['run', '--rm', '--network', 'none', '--entrypoint', '/usr/sbin/runc', tag, '--version'], { root });
    assert.match(runc.stdout, /^runc version /);
    const certs = await kilnOk(['run', '--rm', '--network', 'none', tag, 'agent', 'certs', '--dir', '/tmp/tls', '--host', 'node1'], { root });
    assert.match(certs.stdout, /^wrote 6 files to \/tmp\/tls/);

    const inspected = JSON.parse((await run('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`])).stdout) as { Labels: Record<string, string> };
    assert.equal(inspected.Labels['org.opencontainers.image.version'], version);
    assert.equal(inspected.Labels['org.opencontainers.image.title'], 'kiln');
  } finally {
    await registry.stop();
  }
});

test('from node dist/cli/main.js it packs dist/kiln beside it: the same layer', async () => {
  const a = path.join(tmp, 'from-exe');
  const b = path.join(tmp, 'from-node');
  await kilnOk(['system', 'agent-image', '-q'], { root: a, env: exe });
  const fromNode = await kilnOk(['system', 'agent-image', '-q'], { root: b });
  assert.match(fromNode.stdout, /^sha256:[a-f0-9]{64}\n$/);
  assert.equal(await layers(b), await layers(a));
});

test('from node without dist/kiln beside it: one line that says what to do', async () => {
  // A copy of the package with its dist/ but no executable in it.
  const pkg = path.join(tmp, 'pkg');
  await cp(path.join(repoRoot(), 'dist'), path.join(pkg, 'dist'), { recursive: true, filter: (src) => !/\/dist\/(kiln|sea)$/.test(src) && !src.endsWith('.test.js') });
  await writeFile(path.join(pkg, 'package.json'), await readFile(path.join(repoRoot(), 'package.json')));
  await symlink(path.join(repoRoot(), 'node_modules'), path.join(pkg, 'node_modules'));
  const main = path.join(pkg, path.relative(repoRoot(), kilnBin()));
  const r = await run(process.execPath, [main, '--root', path.join(tmp, 'none'), 'system', 'agent-image']).then(
    () => assert.fail('agent-image succeeded without an executable'),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, 'kiln: kiln system agent-image needs the packaged executable, and this kiln runs from node without dist/kiln beside it (run npm run package (it writes dist/kiln), then dist/kiln system agent-image)\n');
});

test('--backend containerd: straight into containerd (k8s.io), where ctr runs it', async () => {
  const ctd = await startContainerd();
  try {
    const root = path.join(tmp, 'ctd-client');
    await kilnOk(['--backend', 'containerd', '--address', ctd.address, '--namespace', 'k8s.io', 'system', 'agent-image', '-q'], { root, env: exe });
    const names = await ctd.ctr(['images', 'ls', '-q']);
    assert.match(names, new RegExp(`^docker\\.io/library/kiln:${version.replaceAll('.', '\\.')}$`, 'm'));
    const out = await ctd.ctr(['run', '--rm', `docker.io/library/${tag}`, `kiln-self-${process.pid}`, '/usr/local/bin/kiln', 'version'], { timeoutMs: 120_000 });
    assert.equal(out, `kiln version ${version}\nnode ${process.version}\nos/arch ${process.platform}/${process.arch}\n`);
  } finally {
    await ctd.stop();
  }
});
