/** installedHere: the check `--backend auto` makes for an installed kiln agent, from the kubeconfig and ~/.kiln/kube. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { clientCertDir } from './client-certs.js';
import { installedHere } from './installed.js';
import { withTempDir } from '../testing/tempdir.js';

const KUBECONFIG = `apiVersion: v1
current-context: dev
contexts: [{name: dev, context: {cluster: c1, user: u}}, {name: other, context: {cluster: c2, user: u}}]
clusters: [{name: c1, cluster: {server: "https://127.0.0.1:6443"}}, {name: c2, cluster: {server: "https://10.0.0.1:6443"}}]
users: [{name: u, user: {token: x}}]
`;

test('installed: the current context has client certificates from kiln install', () =>
  withTempDir(async (home) => {
    const kubeconfig = path.join(home, 'config');
    await writeFile(kubeconfig, KUBECONFIG);
    const env = { HOME: home };
    assert.equal(await installedHere({ kubeconfig }, env), undefined, 'nothing installed: no ~/.kiln/kube');
    const dir = clientCertDir('https://127.0.0.1:6443', 'kiln', home);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'key.pem'), 'key');
    assert.equal(await installedHere({ kubeconfig }, env), dir);
    assert.equal(await installedHere({ kubeconfig, context: 'other' }, env), undefined, 'another cluster');
    assert.equal(await installedHere({ kubeconfig, namespace: 'team' }, env), undefined, 'another namespace');
    assert.equal(await installedHere({}, { HOME: home, KUBECONFIG: kubeconfig }), dir, 'KUBECONFIG names the file');
  }));

test('installed: an unreadable kubeconfig is "not installed", not an error', () =>
  withTempDir(async (home) => {
    await mkdir(path.join(home, '.kiln', 'kube'), { recursive: true });
    const kubeconfig = path.join(home, 'config');
    await writeFile(kubeconfig, 'clusters: [unclosed');
    assert.equal(await installedHere({ kubeconfig }, { HOME: home }), undefined);
  }));
