/**
 * The packaged executable keeps its large dependencies in bundles of their own
 * (scripts/package.mjs SPLITS), compiled on first use: the commands that need
 * the Kubernetes client still reach it, and say what failed in one line when
 * the far end is not there (so does the registry client, on node:http). A pull
 * or push to a plain-HTTP registry loads neither node:http2 nor node:https nor
 * node:tls (lazy, also with NODE_EXTRA_CA_CERTS set).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createRegistryClient } from '../registry/client.js';
import { streamOf, tinyImage } from '../testing/blobs.js';
import { kilnExe } from '../testing/kiln.js';
import { startRegistry } from '../testing/registry.js';
import { freePort } from '../testing/ports.js';
import { withTempDir } from '../testing/tempdir.js';

function exe(args: string[], home: string, extra: NodeJS.ProcessEnv = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, ...extra };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  for (const k of ['KUBECONFIG', 'KILN_BACKEND', 'KILN_HOST']) delete env[k];
  return spawnSync(kilnExe(), args, { env, encoding: 'utf8', timeout: 60_000 });
}

test('dist/kiln pull reaches the registry client', () =>
  withTempDir(async (dir) => {
    const port = await freePort();
    const r = exe(['--root', path.join(dir, 'root'), 'pull', `127.0.0.1:${port}/x:1`], dir);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`^kiln: cannot reach registry 127\\.0\\.0\\.1:${port}: .*\\n$`));
  }));

test('dist/kiln --backend kube reaches the Kubernetes client in its own bundle', () =>
  withTempDir(async (dir) => {
    const port = await freePort();
    const kubeconfig = path.join(dir, 'kubeconfig');
    await writeFile(
      kubeconfig,
      `apiVersion: v1\ncurrent-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\nclusters: [{name: k, cluster: {server: "https://127.0.0.1:${port}"}}]\nusers: [{name: u, user: {token: x}}]\n`,
    );
    const r = exe(['--root', path.join(dir, 'root'), '--backend', 'kube', '--kubeconfig', kubeconfig, 'ps'], dir);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`^kiln: cannot reach the Kubernetes API server of context "c" \\(https://127\\.0\\.0\\.1:${port}\\): connection refused .*\\n$`));
  }));

test('dist/kiln pull and push to a plain-HTTP registry load neither node:http2, node:https nor node:tls, NODE_EXTRA_CA_CERTS set or not', () =>
  withTempDir(async (dir) => {
    const reg = await startRegistry();
    try {
      const img = tinyImage(4096);
      const c = createRegistryClient({ credentials: { get: async () => undefined }, registries: {} });
      const repo = c.repository(reg.host, 'foo', ['pull', 'push']);
      for (const b of [img.config, img.layer]) await repo.pushBlob(b, async () => streamOf(b.bytes));
      await repo.putManifest('latest', img.manifest.bytes, img.mediaType);
      await c.close();
      // node's own list of the built-in modules the process loaded, written as it exits
      const hook = path.join(dir, 'modules.cjs');
      const list = path.join(dir, 'modules.txt');
      await writeFile(hook, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join('\\n')));`);
      const root = path.join(dir, 'root');
      for (const extra of [{ NODE_EXTRA_CA_CERTS: undefined }, { NODE_EXTRA_CA_CERTS: path.join(dir, 'extra-ca.pem') }]) {
        for (const args of [['pull', '-q', `${reg.host}/foo:latest`], ['push', '-q', `${reg.host}/foo:latest`]]) {
          const r = exe(['--root', root, ...args], dir, { ...extra, NODE_OPTIONS: `--require ${hook}`, KILN_REGISTRIES_CONFIG: path.join(dir, 'none.yaml') });
          assert.equal(r.status, 0, r.stderr);
          assert.equal(r.stderr, '');
          const loaded = (await readFile(list, 'utf8')).split('\n');
          assert.ok(loaded.includes('NativeModule http'), `${args[0]}: the list names what the registry client loads`);
          assert.deepEqual(loaded.filter((m) => /^NativeModule (http2|tls|https)$/.test(m)), [], `${args[0]} with NODE_EXTRA_CA_CERTS ${extra.NODE_EXTRA_CA_CERTS ?? 'unset'}`);
        }
      }
    } finally {
      await reg.stop();
    }
  }));
