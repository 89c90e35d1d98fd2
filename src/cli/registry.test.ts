/**
 * The CLI against registries that ask for more than plain HTTP: Basic auth
 * through `kiln login`, TLS with a CA from registries.yaml, and a
 * multi-platform index resolved by `--platform`. Real docker-registry and
 * skopeo; the CLI is run as a user runs it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { startRegistry, type TestRegistry } from '../testing/registry.js';
import { kiln, kilnOk, oneLine, testCache } from '../testing/kiln.js';
import { layerTar } from '../testing/store-fixture.js';

const busybox = path.join(testCache(), 'busybox-rootfs.tar');
let tmp: string;

before(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'kiln-cli-registry-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

test('login with --password-stdin, push and pull with Basic auth, logout', async () => {
  const reg = await startRegistry({ auth: 'htpasswd', users: { alice: 's3cret-pw' } });
  try {
    const root = path.join(tmp, 'auth-root');
    const env = { DOCKER_CONFIG: path.join(tmp, 'docker-auth') };
    const name = `${reg.host}/team/bb:1`;
    await kilnOk(['import', busybox, name], { root, env });

    const denied = await kiln(['push', name], { root, env });
    assert.equal(denied.code, 1);
    assert.match(oneLine(denied.stderr), new RegExp(`${reg.host.replace('.', '\\.')}.*(unauthorized|authentication required)`, 'i'));

    const bad = await kiln(['login', '-u', 'alice', '--password-stdin', reg.host], { root, env, input: 'wrong\n' });
    assert.equal(bad.code, 1);
    assert.match(oneLine(bad.stderr), /unauthorized|incorrect|denied/i);
    assert.doesNotMatch(bad.stderr, /wrong/);

    const ok = await kilnOk(['login', '-u', 'alice', '--password-stdin', reg.host], { root, env, input: 's3cret-pw\n' });
    assert.match(ok.stdout, /Login Succeeded/);
    const file = path.join(env.DOCKER_CONFIG, 'config.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.ok((JSON.parse(readFileSync(file, 'utf8')) as { auths: Record<string, unknown> }).auths[reg.host]);

    const pushed = await kilnOk(['push', name], { root, env });
    assert.match(pushed.stdout, /digest: sha256:[a-f0-9]{64} size: \d+/);
    await kilnOk(['rmi', name], { root, env });
    await kilnOk(['pull', name], { root, env });
    const skopeo = execFileSync('skopeo', ['inspect', '--tls-verify=false', '--creds', 'alice:s3cret-pw', `docker://${name}`], { encoding: 'utf8' });
    const ids = await kilnOk(['images', '--digests', '--format', 'json'], { root, env });
    assert.ok(ids.stdout.includes((JSON.parse(skopeo) as { Digest: string }).Digest));

    await kilnOk(['logout', reg.host], { root, env });
    await kilnOk(['rmi', name], { root, env });
    const anon = await kiln(['pull', name], { root, env });
    assert.equal(anon.code, 1);
    assert.match(oneLine(anon.stderr), /unauthorized|authentication required/i);
  } finally {
    await reg.stop();
  }
});

test('TLS registry: the CA from registries.yaml is trusted; without it, one clear line', async () => {
  const reg = await startRegistry({ tls: true });
  try {
    const root = path.join(tmp, 'tls-root');
    const name = `${reg.host}/secure/bb:1`;
    const yaml = path.join(tmp, 'registries.yaml');
    writeFileSync(yaml, `configs:\n  "${reg.host}":\n    tls:\n      ca_file: ${reg.caFile}\n`);
    const env = { KILN_REGISTRIES_CONFIG: yaml, DOCKER_CONFIG: path.join(tmp, 'docker-tls') };
    await kilnOk(['import', busybox, name], { root, env });
    await kilnOk(['push', name], { root, env });
    await kilnOk(['rmi', name], { root, env });
    await kilnOk(['pull', name], { root, env });
    const listed = await kilnOk(['images', `${reg.host}/secure/bb`], { root, env });
    assert.match(listed.stdout, /secure\/bb\s+1\s+/);

    writeFileSync(yaml, `configs:\n  "${reg.host}":\n    tls:\n      insecure_skip_verify: false\n`);
    await kilnOk(['rmi', name], { root, env });
    const untrusted = await kiln(['pull', name], { root, env });
    assert.equal(untrusted.code, 1);
    assert.match(oneLine(untrusted.stderr), /certificate/i);
  } finally {
    await reg.stop();
  }
});

const sha = (b: Buffer | string): string => 'sha256:' + createHash('sha256').update(b).digest('hex');

/** An OCI layout holding one index with an amd64 and an arm64 image, each with a marker file. */
async function multiPlatformLayout(dir: string): Promise<void> {
  mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  const put = (b: Buffer | string): { digest: string; size: number } => {
    const digest = sha(b);
    writeFileSync(path.join(dir, 'blobs', 'sha256', digest.slice(7)), b);
    return { digest, size: Buffer.byteLength(b) };
  };
  const manifests = [];
  for (const [arch, variant] of [['amd64', undefined], ['arm64', 'v8']] as const) {
    const tarBytes = await layerTar({ 'arch.txt': `${arch}\n` });
    const layer = put(gzipSync(tarBytes));
    const config = put(
      JSON.stringify({
        architecture: arch,
        ...(variant ? { variant } : {}),
        os: 'linux',
        config: { Cmd: ['cat', '/arch.txt'] },
        rootfs: { type: 'layers', diff_ids: [sha(tarBytes)] },
        history: [{ created_by: `marker ${arch}` }],
      }),
    );
    const manifest = put(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
      }),
    );
    manifests.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, platform: { architecture: arch, os: 'linux', ...(variant ? { variant } : {}) } });
  }
  const index = put(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }));
  writeFileSync(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(
    path.join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', ...index, annotations: { 'org.opencontainers.image.ref.name': 'multi' } }] }),
  );
}

test('a multi-platform index: the host platform by default, --platform picks another, an absent one is one line', async () => {
  const reg: TestRegistry = await startRegistry({});
  try {
    const layout = path.join(tmp, 'multi-layout');
    await multiPlatformLayout(layout);
    const name = `${reg.host}/multi/arch:1`;
    execFileSync('skopeo', ['copy', '--all', '--dest-tls-verify=false', `oci:${layout}:multi`, `docker://${name}`], { stdio: 'pipe' });
    const host = process.arch === 'arm64' ? 'arm64' : 'amd64';
    const other = host === 'amd64' ? 'arm64' : 'amd64';

    const root = path.join(tmp, 'multi-root');
    await kilnOk(['pull', name], { root });
    const [def] = JSON.parse((await kilnOk(['inspect', name], { root })).stdout) as [{ Architecture: string; Os: string }];
    assert.equal(def.Architecture, host);
    assert.equal(def.Os, 'linux');

    const root2 = path.join(tmp, 'multi-root2');
    await kilnOk(['pull', '--platform', `linux/${other}`, name], { root: root2 });
    const [picked] = JSON.parse((await kilnOk(['inspect', name], { root: root2 })).stdout) as [{ Architecture: string }];
    assert.equal(picked.Architecture, other);
    const hist = await kilnOk(['history', '--no-trunc', name], { root: root2 });
    assert.match(hist.stdout, new RegExp(`marker ${other}`));
    assert.doesNotMatch(hist.stdout, new RegExp(`marker ${host}`));

    const missing = await kiln(['pull', '--platform', 'linux/s390x', name], { root: path.join(tmp, 'multi-root3') });
    assert.equal(missing.code, 1);
    assert.match(oneLine(missing.stderr), /s390x/);
  } finally {
    await reg.stop();
  }
});
