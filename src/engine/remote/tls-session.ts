/**
 * The client's TLS to a tcp:// agent, with session resumption across
 * commands. A full mutual-TLS handshake costs both sides their certificate
 * checks (the client's chain and name check of the agent's certificate, the
 * agent's chain check of the client's); a resumed one skips them. The agent's
 * session ticket is kept in a file beside the client's certificates, one per
 * agent address and client identity (CA and certificate), mode 0600 (a
 * ticket resumes the client's identity: as sensitive as its key), and never
 * printed. A ticket the agent cannot take (it restarted, the ticket is older
 * than the agent's session lifetime, another agent answers at that address,
 * the file is damaged) costs the full handshake, whose new ticket then
 * replaces it; a folder that cannot be written only means no resumption.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIP, type Socket } from 'node:net';
import path from 'node:path';
import { checkServerIdentity, connect, createSecureContext, type SecureContext } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { writeFileAtomic } from '../../util/fsutil.js';
import type { TlsFiles, TlsMaterial } from '../../tls/client.js';

type SecureConnector = ReturnType<grpc.ChannelCredentials['_createSecureConnector']>;

/** `<folder of the client certificate>/kiln-session-<key>`: the key names the agent's address and the client's identity. */
export function sessionFile(files: TlsFiles, address: string, tls: TlsMaterial): string {
  const key = createHash('sha256').update(`${address}\0`).update(tls.ca).update('\0').update(tls.cert ?? '').digest('hex').slice(0, 24);
  return path.join(path.dirname(files.cert ?? files.ca), `kiln-session-${key}`);
}

/** One agent's session ticket on disk: read once when the engine opens, replaced after a full handshake. */
export class TlsSessionFile {
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    readonly file: string,
    /** The stored ticket, if any (undefined: none, or unreadable). */
    readonly ticket: Buffer | undefined,
  ) {}

  static async open(file: string): Promise<TlsSessionFile> {
    const ticket = await readFile(file).catch(() => undefined);
    return new TlsSessionFile(file, ticket && ticket.length > 0 ? ticket : undefined);
  }

  /** Keeps a new ticket (in the background: a failed write only costs the next command a full handshake). */
  save(ticket: Buffer): void {
    this.saving = this.saving.then(() => writeFileAtomic(this.file, ticket, { durable: false, mode: 0o600 })).catch(() => undefined);
  }

  /** Resolves when the tickets handed to save() are written (or given up). */
  settled(): Promise<void> {
    return this.saving;
  }
}

/**
 * grpc-js channel credentials for an agent: mutual TLS with the client's material, the agent's
 * certificate checked against the host dialled (an IP address is not a valid SNI name: a placeholder
 * name is sent and the certificate still checked against the address), and the session resumed
 * from `session`'s ticket when the agent takes it.
 */
export class AgentCredentials extends grpc.ChannelCredentials {
  private readonly context: SecureContext;

  constructor(
    tls: TlsMaterial,
    private readonly host: string,
    private readonly session?: TlsSessionFile,
  ) {
    super();
    this.context = createSecureContext({ ca: tls.ca, ...(tls.cert ? { cert: tls.cert } : {}), ...(tls.key ? { key: tls.key } : {}) });
  }

  _isSecure(): boolean {
    return true;
  }

  _equals(other: grpc.ChannelCredentials): boolean {
    return other === this;
  }

  _createSecureConnector(_target: unknown, _options: unknown, callCredentials?: grpc.CallCredentials): SecureConnector {
    const creds = callCredentials ?? grpc.CallCredentials.createEmpty();
    return { connect: (socket) => this.connect(socket), waitForReady: () => Promise.resolve(), getCallCredentials: () => creds, destroy: () => undefined };
  }

  private connect(socket: Socket): Promise<{ socket: Socket; secure: boolean }> {
    const host = this.host;
    const ticket = this.session?.ticket;
    return new Promise((resolve, reject) => {
      const tls = connect(
        {
          socket,
          secureContext: this.context,
          ALPNProtocols: ['h2'],
          servername: isIP(host) ? 'kiln-agent.invalid' : host,
          checkServerIdentity: (_name, cert) => checkServerIdentity(host, cert),
          ...(ticket ? { session: ticket } : {}),
        },
        () => {
          if (!tls.authorized) reject(tls.authorizationError);
          else resolve({ socket: tls, secure: true });
        },
      );
      // The agent sends its tickets after a full handshake (none after a resumed one): the first is kept.
      tls.once('session', (t: Buffer) => this.session?.save(t));
      tls.on('error', reject);
    });
  }
}
