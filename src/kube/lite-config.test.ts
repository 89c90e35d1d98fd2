/**
 * The kubeconfig read without the Kubernetes client: the plain cases give the
 * server, the TLS material and the token (what a port-forward and a GET
 * need); anything else gives undefined, so the command takes the client
 * library's path. The GET is made against a real HTTP server on 127.0.0.1.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { removeDir, tempDir } from '../testing/tempdir.js';
import { loadLiteKube } from './lite-config.js';

let dir: string;
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A kubeconfig with contexts lab (client certificate files, relative) and tok (CA data, a token, a server name). */
const config = (labUser: string) => `apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster: {server: "https://10.0.0.1:6443/", certificate-authority: certs/ca.pem}
- name: tok
  cluster: {server: "https://api.example:443", certificate-authority-data: ${b64('CA-DATA')}, tls-server-name: api.internal}
users:
- name: labuser
  user: ${labUser}
- name: tokuser
  user: {token: s3cret}
contexts:
- name: lab
  context: {cluster: lab, user: labuser}
- name: tok
  context: {cluster: tok, user: tokuser, namespace: elsewhere}
current-context: lab
`;

before(async () => {
  dir = await tempDir('kiln-lite-config-');
  await mkdir(path.join(dir, 'certs'));
  await writeFile(path.join(dir, 'certs', 'ca.pem'), 'CA-FILE');
  await writeFile(path.join(dir, 'certs', 'cert.pem'), 'CERT-FILE');
  await writeFile(path.join(dir, 'key.pem'), 'KEY-FILE');
  await writeFile(path.join(dir, 'config'), config('{client-certificate: certs/cert.pem, client-key: key.pem}'));
});
after(() => removeDir(dir));

const opts = async (kc: { applyToHTTPSOptions(o: object): Promise<void> }) => {
  const o: Record<string, unknown> = {};
  await kc.applyToHTTPSOptions(o);
  return o;
};

test('the current context: server without its trailing slash, files relative to the kubeconfig, the default namespace', async () => {
  const k = await loadLiteKube({ kubeconfig: path.join(dir, 'config') }, {});
  assert.ok(k);
  assert.equal(k.context, 'lab');
  assert.equal(k.server, 'https://10.0.0.1:6443');
  assert.equal(k.namespace, 'kiln');
  assert.deepEqual(k.kc.getCurrentCluster(), { name: 'lab', server: 'https://10.0.0.1:6443', skipTLSVerify: false });
  const o = await opts(k.kc);
  assert.equal(String(o.ca), 'CA-FILE');
  assert.equal(String(o.cert), 'CERT-FILE');
  assert.equal(String(o.key), 'KEY-FILE');
  assert.deepEqual(o.headers, {});
});

test('-x, -n and KUBECONFIG naming one file: inline CA, bearer token, TLS server name', async () => {
  const k = await loadLiteKube({ context: 'tok', namespace: 'builds' }, { KUBECONFIG: path.join(dir, 'config') });
  assert.ok(k);
  assert.equal(k.server, 'https://api.example:443');
  assert.equal(k.namespace, 'builds');
  const o = await opts(k.kc);
  assert.equal(String(o.ca), 'CA-DATA');
  assert.equal(o.servername, 'api.internal');
  assert.deepEqual(o.headers, { Authorization: 'Bearer s3cret' });
});

test('not a plain case → undefined (the client library loads it and says what is wrong)', async () => {
  const file = path.join(dir, 'config');
  assert.equal(await loadLiteKube({ context: 'nope', kubeconfig: file }, {}), undefined, 'unknown context');
  assert.equal(await loadLiteKube({ kubeconfig: path.join(dir, 'absent') }, {}), undefined, 'missing file');
  assert.equal(await loadLiteKube({}, { KUBECONFIG: `${file}:${file}` }), undefined, 'several files to merge');
  assert.equal(await loadLiteKube({}, { HOME: path.join(dir, 'nohome') }), undefined, 'no ~/.kube/config');
  for (const [what, user] of [
    ['exec plugin', '{exec: {command: aws, apiVersion: client.authentication.k8s.io/v1}}'],
    ['auth provider', '{auth-provider: {name: oidc}}'],
    ['basic auth', '{username: a, password: b}'],
    ['impersonation', '{token: t, as: admin}'],
  ]) {
    const f = path.join(dir, `config-${what.replace(/ /g, '-')}`);
    await writeFile(f, config(user));
    assert.equal(await loadLiteKube({ kubeconfig: f }, {}), undefined, what);
  }
  const proxied = path.join(dir, 'config-proxy');
  await writeFile(proxied, config('{token: t}').replace('certificate-authority: certs/ca.pem', 'certificate-authority: certs/ca.pem, proxy-url: "http://proxy:3128"'));
  assert.equal(await loadLiteKube({ kubeconfig: proxied }, {}), undefined, 'proxy-url');
});

test('get: the JSON of a path with the token; a non-2xx answer rejects with its status', async () => {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.authorization}`);
    if (req.url === '/api/v1/namespaces/kiln/pods/agent-1') res.end(JSON.stringify({ metadata: { name: 'agent-1' } }));
    else {
      res.statusCode = 404;
      res.end('{"kind":"Status","code":404}');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const f = path.join(dir, 'config-http');
    await writeFile(f, config('{token: s3cret}').replace('https://10.0.0.1:6443/', `http://127.0.0.1:${(server.address() as AddressInfo).port}`));
    const k = await loadLiteKube({ kubeconfig: f }, {});
    assert.ok(k);
    assert.deepEqual(await k.get('/api/v1/namespaces/kiln/pods/agent-1'), { metadata: { name: 'agent-1' } });
    await assert.rejects(k.get('/api/v1/namespaces/kiln/pods/gone'), (e: Error & { statusCode?: number }) => e.statusCode === 404);
    assert.deepEqual(seen, ['GET /api/v1/namespaces/kiln/pods/agent-1 Bearer s3cret', 'GET /api/v1/namespaces/kiln/pods/gone Bearer s3cret']);
  } finally {
    server.close();
  }
});
