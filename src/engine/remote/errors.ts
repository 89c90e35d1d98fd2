/**
 * kiln errors across the agent API, both ways. The agent sends a KilnError as
 * the gRPC status of the same class, its message as the details and its code
 * and hint as metadata (`kiln-code`, `kiln-hint`); the client rebuilds the
 * same KilnError, so a user sees the agent's one line as if it were local.
 * Transport failures (no agent, TLS refused, connection lost) become one line
 * naming the host and what to do.
 */
import { Metadata, status, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { KilnError, isKilnError, type ErrorCode } from '../../errors.js';

const TO_GRPC: Record<ErrorCode, status> = {
  NOT_FOUND: status.NOT_FOUND,
  ALREADY_EXISTS: status.ALREADY_EXISTS,
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  PERMISSION_DENIED: status.PERMISSION_DENIED,
  UNAVAILABLE: status.UNAVAILABLE,
  DATA_LOSS: status.DATA_LOSS,
  CANCELLED: status.CANCELLED,
  UNIMPLEMENTED: status.UNIMPLEMENTED,
  INTERNAL: status.INTERNAL,
};
const FROM_GRPC = new Map<number, ErrorCode>(Object.entries(TO_GRPC).map(([k, v]) => [v, k as ErrorCode]));
FROM_GRPC.set(status.DEADLINE_EXCEEDED, 'UNAVAILABLE');

/** Agent side: any error → the status sent to the client. */
export function toStatus(e: unknown): Partial<StatusObject> {
  const metadata = new Metadata();
  if (isKilnError(e)) {
    metadata.set('kiln-code', e.code);
    if (e.hint) metadata.set('kiln-hint', e.hint);
    return { code: TO_GRPC[e.code], details: e.message, metadata };
  }
  const message = e instanceof Error ? e.message : String(e);
  metadata.set('kiln-code', 'INTERNAL');
  return { code: status.INTERNAL, details: `agent: ${message}`, metadata };
}

const text = (e: ServiceError) => `${e.details ?? ''} ${e.message}`;
const TLS = /certificate|handshake|SSL|TLS|alert|unknown ca|self.signed|altnames|ERR_TLS|wrong version/i;

/** No agent answers at the address (nothing listening, no socket, refused). */
const isUnreachable = (e: ServiceError) => e.code === status.UNAVAILABLE && /No connection established|ENOENT|ECONNREFUSED|EACCES|EHOSTUNREACH|ENOTFOUND|Name resolution/i.test(text(e));
/** The connection went away during the call (the agent stopped or restarted). */
const isDropped = (e: ServiceError) => (e.code === status.UNAVAILABLE || e.code === status.INTERNAL) && /Connection dropped|ECONNRESET|EPIPE|socket hang up|Connection closed|GOAWAY|RST_STREAM/i.test(text(e));

/** True when the failure is the transport's, not an answer from the agent. */
export const isConnectionLoss = (e: ServiceError): boolean => !e.metadata?.get('kiln-code').length && (isUnreachable(e) || isDropped(e) || (e.code === status.UNAVAILABLE && TLS.test(text(e))));

/** The client's TLS: none (unix socket), or whether it offered a certificate. */
export type ClientTls = 'none' | 'no-cert' | 'cert';

/** Client side: a failed call → the KilnError the user sees. `what` names the call (`pull busybox`). */
export function fromStatus(e: ServiceError, host: string, what: string, tls: ClientTls): KilnError {
  if (e instanceof KilnError) return e;
  const code = e.metadata?.get('kiln-code')[0];
  if (typeof code === 'string' && code in TO_GRPC) {
    const hint = e.metadata.get('kiln-hint')[0];
    return new KilnError(code as ErrorCode, e.details || e.message, { cause: e, ...(typeof hint === 'string' ? { hint } : {}) });
  }
  const refused = tls !== 'none' && e.code === status.UNAVAILABLE && !/ECONNREFUSED|ENOENT|EHOSTUNREACH|ENOTFOUND|Name resolution/.test(text(e)) ? tlsFailure(host, e, tls === 'cert') : undefined;
  if (refused) return new KilnError('UNAUTHENTICATED', refused.message, { cause: e, hint: refused.hint });
  if (isUnreachable(e)) return unreachable(host, e, tls !== 'none');
  if (isDropped(e)) {
    return new KilnError('UNAVAILABLE', `lost the connection to the kiln agent at ${host} during ${what}`, {
      cause: e,
      hint: 'the agent stopped or restarted; run the command again once it is up',
    });
  }
  if (e.code === status.CANCELLED) return new KilnError('CANCELLED', `${what} cancelled`, { cause: e });
  // An agent of an older kiln answers a call it does not know with UNIMPLEMENTED and no kiln code.
  if (e.code === status.UNIMPLEMENTED) {
    return new KilnError('UNIMPLEMENTED', `kiln agent at ${host}: ${what}: this agent's kiln is older than the client's and does not know the call`, { cause: e, hint: 'update the agent to this kiln version (kiln install --force with its image, or restart kiln agent from it)' });
  }
  return new KilnError(FROM_GRPC.get(e.code) ?? 'INTERNAL', `kiln agent at ${host}: ${what}: ${e.details || e.message}`, { cause: e });
}

export function unreachable(host: string, cause: unknown, tls: boolean): KilnError {
  const where = tls ? ' on that machine' : '';
  return new KilnError('UNAVAILABLE', `cannot reach the kiln agent at ${host}`, { cause, hint: `start it${where} with kiln agent --listen ${host}, or check --host / KILN_HOST` });
}

/** Why a TLS connection failed, from the side that said so; undefined when it is not a TLS failure. */
function tlsFailure(host: string, e: ServiceError, offered: boolean): { message: string; hint: string } | undefined {
  const t = text(e);
  const name = host.replace(/^tcp:\/\//, '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const client = 'pass the ca.pem, cert.pem and key.pem the agent made in ROOT/agent/tls with --tlscacert/--tlscert/--tlskey, or their directory as KILN_CERT_PATH';
  const noCert = { message: `the kiln agent at ${host} refused the connection: no client certificate was offered`, hint: client };
  if (/certificate required/i.test(t)) return noCert;
  if (/altnames|ERR_TLS_CERT_ALTNAME/i.test(t)) {
    return { message: `the certificate of the kiln agent at ${host} does not name ${name}`, hint: `dial a name it has, or make its certificate for ${name} (kiln agent --tls-host ${name}, or kiln agent certs --host ${name})` };
  }
  if (/self.signed|unable to (get|verify)|certificate (has expired|is not yet valid)|CERT_/i.test(t)) {
    return { message: `the kiln agent at ${host} presented a certificate the given CA does not vouch for (${e.details.replace(/^.*Last error: (Error: )?/, '').replace(/\. Resolution note:.*$/, '')})`, hint: client };
  }
  // TLS 1.3: the client's side of the handshake is done before the agent checks the client's
  // certificate, so a refused certificate shows as a connection closed (or reset) at once.
  if (/unknown ca|bad certificate|certificate unknown|decrypt error|Failed to connect|No connection established.*ECONNRESET/i.test(t)) {
    if (!offered) return noCert;
    return { message: `the kiln agent at ${host} refused the client certificate (not signed by the agent's CA)`, hint: client };
  }
  return TLS.test(t) ? { message: `TLS with the kiln agent at ${host} failed: ${e.details}`, hint: client } : undefined;
}
