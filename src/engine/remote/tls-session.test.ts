/**
 * TLS session resumption to an agent: the ticket file (mode 0600, beside the
 * client's certificates, one per address and identity), a resumed second
 * connection, and the fallbacks — a damaged file, an agent that cannot take
 * the ticket (restarted), an agent the client's CA did not sign — each a
 * full handshake (or the refusal it always was), never a failure of its own.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile, stat, writeFile, copyFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import tls, { type TLSSocket } from 'node:tls';
import { makeAgentCerts } from '../../tls/certs.js';
import { readTls, type TlsFiles } from '../../tls/client.js';
import { removeDir, tempDir } from '../../testing/tempdir.js';
import { AgentCredentials, sessionFile, TlsSessionFile } from './tls-session.js';

let dir: string;
let mine: TlsFiles;
let foreign: { ca: string; cert: string; key: string };

/** A TLS server as the agent's listener is: the client must present a certificate of `ca`. */
async function agentLike(server: { ca: string; cert: string; key: string }, port = 0): Promise<{ port: number; close(): Promise<void> }> {
  const [ca, cert, key] = await Promise.all([readFile(server.ca), readFile(server.cert), readFile(server.key)]);
  const s = tls.createServer({ ca, cert, key, requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['h2'] }, (c) => c.end('hello'));
  s.listen(port, '127.0.0.1');
  await once(s, 'listening');
  return { port: (s.address() as net.AddressInfo).port, close: () => new Promise((r) => s.close(() => r())) };
}

/** One connection the way the remote backend makes it: the session file of (address, identity), then the handshake. */
async function handshake(port: number, files = mine): Promise<{ reused: boolean; file: string }> {
  const material = await readTls(files);
  const file = sessionFile(files, `tcp://127.0.0.1:${port}`, material);
  const session = await TlsSessionFile.open(file);
  const connector = new AgentCredentials(material, '127.0.0.1', session)._createSecureConnector(undefined, {});
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  try {
    const { socket: s } = await connector.connect(socket);
    const reused = (s as TLSSocket).isSessionReused();
    let text = '';
    s.on('data', (d: Buffer) => (text += d));
    await once(s, 'end');
    assert.equal(text, 'hello');
    s.destroy();
    await session.settled();
    return { reused, file };
  } finally {
    socket.destroy();
  }
}

before(async () => {
  dir = await tempDir('kiln-tls-session-');
  await Promise.all([makeAgentCerts(path.join(dir, 'mine'), ['localhost', '127.0.0.1']), makeAgentCerts(path.join(dir, 'foreign'), ['localhost', '127.0.0.1'])]);
  const f = (who: string, name: string) => path.join(dir, who, name);
  mine = { ca: f('mine', 'ca.pem'), cert: f('mine', 'cert.pem'), key: f('mine', 'key.pem') };
  foreign = { ca: f('foreign', 'ca.pem'), cert: f('foreign', 'server-cert.pem'), key: f('foreign', 'server-key.pem') };
});
after(() => removeDir(dir));

const agentFiles = () => ({ ca: mine.ca, cert: path.join(dir, 'mine', 'server-cert.pem'), key: path.join(dir, 'mine', 'server-key.pem') });

describe('TLS session resumption to the agent', () => {
  test('the first connection keeps the ticket in a 0600 file beside the client certificate; the next one resumes with it', async () => {
    const agent = await agentLike(agentFiles());
    try {
      const first = await handshake(agent.port);
      assert.equal(first.reused, false);
      assert.equal(path.dirname(first.file), path.dirname(mine.cert!));
      assert.equal((await stat(first.file)).mode & 0o777, 0o600);
      const ticket = await readFile(first.file);
      assert.ok(ticket.length > 0);
      const second = await handshake(agent.port);
      assert.equal(second.file, first.file);
      assert.equal(second.reused, true);
      assert.deepEqual(await readFile(second.file), ticket, 'a resumed session keeps the ticket it came with');
    } finally {
      await agent.close();
    }
  });

  test('the file is per agent address and per client identity', async () => {
    const material = await readTls(mine);
    const a = sessionFile(mine, 'tcp://127.0.0.1:2376', material);
    assert.notEqual(a, sessionFile(mine, 'tcp://127.0.0.1:2377', material));
    assert.notEqual(a, sessionFile(mine, 'tcp://127.0.0.1:2376', { ...material, cert: Buffer.from('another certificate') }));
    assert.match(path.basename(a), /^kiln-session-[0-9a-f]{24}$/);
  });

  test('a damaged ticket file costs a full handshake, and the new ticket replaces it', async () => {
    const agent = await agentLike(agentFiles());
    try {
      const { file } = await handshake(agent.port);
      await writeFile(file, 'not a TLS session', { mode: 0o600 });
      const r = await handshake(agent.port);
      assert.equal(r.reused, false);
      assert.notEqual((await readFile(file)).toString(), 'not a TLS session');
      assert.equal((await handshake(agent.port)).reused, true);
    } finally {
      await agent.close();
    }
  });

  test('an agent that cannot take the ticket (restarted: new ticket keys) gets a full handshake; one the CA did not sign is refused, ticket or not', async () => {
    const agent = await agentLike(agentFiles());
    const { port } = agent;
    const { file } = await handshake(port);
    const ticket = await readFile(file);
    await agent.close();
    const restarted = await agentLike(agentFiles(), port);
    try {
      const r = await handshake(port);
      assert.equal(r.reused, false);
      assert.notDeepEqual(await readFile(file), ticket);
    } finally {
      await restarted.close();
    }
    // Another agent (another CA's certificate) at an address whose file holds a good ticket of ours.
    const wrong = await agentLike(foreign);
    try {
      const material = await readTls(mine);
      await copyFile(file, sessionFile(mine, `tcp://127.0.0.1:${wrong.port}`, material));
      await assert.rejects(handshake(wrong.port), (e: Error) => /self[- ]signed|unable to (get|verify)|certificate/i.test(e.message));
    } finally {
      await wrong.close();
    }
  });
});
