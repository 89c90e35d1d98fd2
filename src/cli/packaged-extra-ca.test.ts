/**
 * NODE_EXTRA_CA_CERTS in the packaged executable (scripts/lib/lazy-extra-ca.mjs):
 * its node does not read the file at start (plain node does, and warns when it
 * cannot), and kiln's TLS connections still trust the file's certificates —
 * the registry client's (node:https) and fetch's (a build
 * context from an https URL) — and only with it set.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import path from 'node:path';
import { kiln, kilnExe, kilnOk, testCache } from '../testing/kiln.js';
import { makeCA, makeServerCert } from '../testing/pki.js';
import { startRegistry, type TestRegistry } from '../testing/registry.js';
import { removeDir, tempDir } from '../testing/tempdir.js';

let tmp: string;
let reg: TestRegistry;
let env: Record<string, string>;
const exeBefore = process.env.KILN_EXE;

before(async () => {
  tmp = await tempDir('kiln-extra-ca-');
  process.env.KILN_EXE = kilnExe();
  reg = await startRegistry({ tls: true });
  // https only, no CA of its own: the registry's CA can come from NODE_EXTRA_CA_CERTS alone.
  const yaml = path.join(tmp, 'registries.yaml');
  writeFileSync(yaml, `configs:\n  "${reg.host}":\n    tls:\n      insecure_skip_verify: false\n`);
  env = { KILN_REGISTRIES_CONFIG: yaml, DOCKER_CONFIG: path.join(tmp, 'docker') };
});
after(async () => {
  await reg?.stop();
  await removeDir(tmp);
  if (exeBefore === undefined) delete process.env.KILN_EXE;
  else process.env.KILN_EXE = exeBefore;
});

test('dist/kiln does not read NODE_EXTRA_CA_CERTS at start (node does, and warns about a missing file)', () => {
  const missing = { ...process.env, NODE_EXTRA_CA_CERTS: path.join(tmp, 'no-such.pem') };
  const node = spawnSync(process.execPath, ['-e', '0'], { env: missing, encoding: 'utf8' });
  assert.match(node.stderr, /Warning: Ignoring extra certs from `.*no-such\.pem`/);
  const r = spawnSync(kilnExe(), ['--version'], { env: missing, encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.equal(r.stderr, '');
});

test('dist/kiln push and pull trust a registry CA given only in NODE_EXTRA_CA_CERTS; without it, a certificate error', async () => {
  const root = path.join(tmp, 'root');
  const name = `${reg.host}/extra/bb:1`;
  await kilnOk(['import', path.join(testCache(), 'busybox-rootfs.tar'), name], { root, env });
  const untrusted = await kiln(['push', name], { root, env });
  assert.equal(untrusted.code, 1);
  assert.match(untrusted.stderr, /certificate/i);
  const trusted = { ...env, NODE_EXTRA_CA_CERTS: reg.caFile! };
  await kilnOk(['push', name], { root, env: trusted });
  await kilnOk(['rmi', name], { root, env });
  await kilnOk(['pull', name], { root, env: trusted });
  assert.match((await kilnOk(['images', `${reg.host}/extra/bb`], { root, env })).stdout, /extra\/bb\s+1\s+/);
  // A file that cannot be read: node's own warning, when the first TLS context is made, and no trust.
  await kilnOk(['rmi', name], { root, env });
  const missing = await kiln(['pull', name], { root, env: { ...env, NODE_EXTRA_CA_CERTS: path.join(tmp, 'no-such.pem') } });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^Warning: Ignoring extra certs from `.*no-such\.pem`, load failed: /m);
  assert.match(missing.stderr, /certificate/i);
});

test('dist/kiln build from an https URL (fetch) trusts NODE_EXTRA_CA_CERTS', async () => {
  const ca = await makeCA(tmp, 'url-ca');
  const cert = await makeServerCert(tmp, ca, 'url-server');
  const dockerfile = 'FROM scratch\nLABEL from=url\n';
  const server: Server = createServer({ cert: readFileSync(cert.certFile), key: readFileSync(cert.keyFile) }, (_req, res) => res.end(dockerfile));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `https://127.0.0.1:${(server.address() as { port: number }).port}/Dockerfile`;
    const root = path.join(tmp, 'url-root');
    const untrusted = await kiln(['build', '-q', '-t', 'url:1', url], { root, env });
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.stderr, /certificate/i);
    await kilnOk(['build', '-q', '-t', 'url:1', url], { root, env: { ...env, NODE_EXTRA_CA_CERTS: ca.certFile } });
    assert.match((await kilnOk(['inspect', '--format', '{{json .Config.Labels}}', 'url:1'], { root, env })).stdout, /"from":"url"/);
  } finally {
    server.close();
  }
});
