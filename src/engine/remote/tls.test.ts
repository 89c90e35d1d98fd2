/**
 * The agent's TCP listener takes only clients with a certificate its CA
 * signed, and a client takes only an agent its CA vouches for under the name
 * it dialled; every refusal is one line saying which and what to do.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
import path from 'node:path';
import { startAgent, type TestAgent } from '../../testing/agent.js';
import { kiln } from '../../testing/kiln.js';
import { removeDir, tempDir } from '../../testing/tempdir.js';
import { openRemoteEngine } from './engine.js';
import { makeAgentCerts } from '../../tls/certs.js';
import type { KilnError } from '../../errors.js';

let agent: TestAgent;
let dir: string;
let other: string;

before(async () => {
  dir = await tempDir('kiln-agent-tls-');
  other = path.join(dir, 'other');
  [agent] = await Promise.all([startAgent(), makeAgentCerts(other, ['localhost', '127.0.0.1'])]);
});
after(async () => {
  await agent?.stop();
  await removeDir(dir);
});

const infoWith = async (tls: { ca: string; cert?: string; key?: string }, host = agent.tcp!) => {
  const engine = await openRemoteEngine({ host, tls });
  try {
    return await engine.info();
  } finally {
    await engine.close();
  }
};
const refused = (re: RegExp) => (e: KilnError) => e.code === 'UNAUTHENTICATED' && re.test(e.message) && !e.message.includes('\n');

describe('kiln agent over TCP: mutual TLS', () => {
  test("a client with the agent's certificate gets through; the backend is remote, naming the host and the agent's engine", async () => {
    const info = await infoWith(agent.tlsFiles);
    assert.equal(info.backend, 'remote');
    assert.equal(info.root, agent.tcp);
    assert.equal(info.agent?.backend, 'local');
    assert.equal(info.agent?.root, agent.root);
  });

  test('a client certificate from another CA is refused', async () => {
    await assert.rejects(infoWith({ ca: agent.tlsFiles.ca, cert: path.join(other, 'cert.pem'), key: path.join(other, 'key.pem') }), refused(/refused the client certificate \(not signed by the agent's CA\)/));
  });

  test('an expired client certificate the agent\'s CA signed is refused as expired, saying when (API and CLI)', async () => {
    const out = path.join(dir, 'expired');
    const ossl = (args: string[]) => promisify(execFile)('openssl', args, { cwd: out });
    await promisify(execFile)('mkdir', ['-p', out]);
    await ossl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=kiln client', '-keyout', 'key.pem', '-out', 'c.csr']);
    const ext = path.join(out, 'ext.cnf');
    await writeFile(ext, 'extendedKeyUsage=clientAuth\n');
    await ossl(['x509', '-req', '-in', 'c.csr', '-CA', agent.tlsFiles.ca, '-CAkey', path.join(agent.certPath, 'ca-key.pem'), '-CAserial', path.join(out, 'ca.srl'), '-CAcreateserial', '-days', '-1', '-extfile', ext, '-out', 'cert.pem']);
    const notAfter = new X509Certificate(await readFile(path.join(out, 'cert.pem'))).validTo;
    const files = { ca: agent.tlsFiles.ca, cert: path.join(out, 'cert.pem'), key: path.join(out, 'key.pem') };
    const expired = new RegExp(`client certificate ${files.cert.replace(/[.]/g, '\\.')} expired on ${notAfter.replace(/ +/g, ' +')}`);
    await assert.rejects(infoWith(files), refused(expired));
    const r = await kiln(['--host', agent.tcp!, '--tlscacert', files.ca, '--tlscert', files.cert, '--tlskey', files.key, 'images'], { root: path.join(dir, 'client') });
    assert.equal(r.code, 1);
    assert.equal(r.stderr.split('\n').length, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^kiln: ${expired.source}`));
  });

  test('no client certificate is refused', async () => {
    await assert.rejects(infoWith({ ca: agent.tlsFiles.ca }), refused(/refused the connection: no client certificate was offered/));
  });

  test('an agent whose certificate another CA signed is refused by the client', async () => {
    await assert.rejects(infoWith({ ca: path.join(other, 'ca.pem'), cert: agent.tlsFiles.cert, key: agent.tlsFiles.key }), refused(/presented a certificate the given CA does not vouch for/));
  });

  test('an agent whose certificate does not name the address dialled is refused', async () => {
    const named = path.join(dir, 'named');
    await makeAgentCerts(named, ['agent.example']);
    const a2 = await startAgent({ unix: false, agentArgs: ['--tlscacert', path.join(named, 'ca.pem'), '--tlscert', path.join(named, 'server-cert.pem'), '--tlskey', path.join(named, 'server-key.pem')] });
    try {
      const files = { ca: path.join(named, 'ca.pem'), cert: path.join(named, 'cert.pem'), key: path.join(named, 'key.pem') };
      await assert.rejects(infoWith(files, a2.tcp!), refused(/certificate of the kiln agent at tcp:\/\/127\.0\.0\.1:\d+ does not name 127\.0\.0\.1/));
    } finally {
      await a2.stop();
    }
  });

  test('the CLI prints a refusal as one line and exits 1', async () => {
    const r = await kiln(['--tlscacert', agent.tlsFiles.ca, 'images'], { root: path.join(dir, 'client'), env: { KILN_HOST: agent.tcp!, KILN_CERT_PATH: other } });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^kiln: the kiln agent at tcp:\/\/127\.0\.0\.1:\d+ refused the client certificate \(not signed by the agent's CA\) \(pass the ca\.pem, cert\.pem and key\.pem the agent made in ROOT\/agent\/tls .*KILN_CERT_PATH\)\n$/);
  });

  test('a tcp:// host without certificates is refused before dialling', async () => {
    const r = await kiln(['--host', agent.tcp!, 'images'], { root: path.join(dir, 'client'), env: { KILN_CERT_PATH: '' } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^kiln: tcp:\/\/127\.0\.0\.1:\d+: a tcp:\/\/ agent needs TLS certificates \(pass --tlscacert/);
  });

  test('kiln agent certs makes a CA, a server certificate for the names asked and a client certificate, keys 0600', async () => {
    const out = path.join(dir, 'made');
    const r = await kiln(['agent', 'certs', '--dir', out, '--host', 'node1.example', '--host', '10.1.2.3', '--format', 'json'], { root: path.join(dir, 'client') });
    assert.equal(r.code, 0, r.stderr);
    const made = JSON.parse(r.stdout) as { files: string[]; hosts: string[] };
    assert.deepEqual(made.files.map((f) => path.basename(f)).sort(), ['ca-key.pem', 'ca.pem', 'cert.pem', 'key.pem', 'server-cert.pem', 'server-key.pem']);
    for (const f of ['ca-key.pem', 'server-key.pem', 'key.pem']) assert.equal((await stat(path.join(out, f))).mode & 0o777, 0o600, f);
    const ossl = (args: string[]) => promisify(execFile)('openssl', args).then((x) => x.stdout);
    for (const c of ['cert.pem', 'server-cert.pem']) assert.match(await ossl(['verify', '-CAfile', path.join(out, 'ca.pem'), path.join(out, c)]), /: OK\n$/);
    const sans = await ossl(['x509', '-in', path.join(out, 'server-cert.pem'), '-noout', '-ext', 'subjectAltName']);
    for (const n of ['DNS:node1.example', 'IP Address:10.1.2.3', 'DNS:localhost', 'IP Address:127.0.0.1']) assert.ok(sans.includes(n), `${n} in ${sans}`);
  });

  test('the keys the agent made are private (0600), its TLS directory 0700', async () => {
    for (const f of ['ca-key.pem', 'server-key.pem', 'key.pem']) assert.equal((await stat(path.join(agent.certPath, f))).mode & 0o777, 0o600, f);
    assert.equal((await stat(agent.certPath)).mode & 0o777, 0o700);
  });
});
