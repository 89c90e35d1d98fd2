/**
 * The packaged executable keeps its large dependencies in bundles of their own
 * (scripts/package.mjs SPLITS), compiled on first use: the commands that need
 * the registry client (undici) and the Kubernetes client still reach them, and
 * say what failed in one line when the far end is not there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { kilnExe } from '../testing/kiln.js';
import { freePort } from '../testing/ports.js';
import { withTempDir } from '../testing/tempdir.js';

function exe(args: string[], home: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
  for (const k of ['KUBECONFIG', 'KILN_BACKEND', 'KILN_HOST']) delete env[k];
  return spawnSync(kilnExe(), args, { env, encoding: 'utf8', timeout: 60_000 });
}

test('dist/kiln pull reaches the registry client in its own bundle', () =>
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
