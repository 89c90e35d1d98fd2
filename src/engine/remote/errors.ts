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
const isUnreachable = (e: ServiceError) => e.code === status.UNAVAILABLE && /No connection established|failed to connect|ENOENT|ECONNREFUSED|EACCES|EHOSTUNREACH|ENOTFOUND|Name resolution/i.test(text(e));
/** The connection went away during the call (the agent stopped or restarted). */
const isDropped = (e: ServiceError) => (e.code === status.UNAVAILABLE || e.code === status.INTERNAL) && /Connection dropped|ECONNRESET|EPIPE|socket hang up|Connection closed|GOAWAY|RST_STREAM/i.test(text(e));

/** True when the failure is the transport's, not an answer from the agent. */
export const isConnectionLoss = (e: ServiceError): boolean => !e.metadata?.get('kiln-code').length && (isUnreachable(e) || isDropped(e) || (e.code === status.UNAVAILABLE && TLS.test(text(e))));

/** Client side: a failed call → the KilnError the user sees. `what` names the call (`pull busybox`). */
export function fromStatus(e: ServiceError, host: string, what: string, tls: boolean): KilnError {
  if (e instanceof KilnError) return e;
  const code = e.metadata?.get('kiln-code')[0];
  if (typeof code === 'string' && code in TO_GRPC) {
    const hint = e.metadata.get('kiln-hint')[0];
    return new KilnError(code as ErrorCode, e.details || e.message, { cause: e, ...(typeof hint === 'string' ? { hint } : {}) });
  }
  if (e.code === status.UNAVAILABLE && TLS.test(text(e))) return tlsRefused(host, e);
  if (isUnreachable(e)) return unreachable(host, e, tls);
  if (isDropped(e)) {
    return new KilnError('UNAVAILABLE', `lost the connection to the kiln agent at ${host} during ${what}`, {
      cause: e,
      hint: 'the agent stopped or restarted; run the command again once it is up',
    });
  }
  if (e.code === status.CANCELLED) return new KilnError('CANCELLED', `${what} cancelled`, { cause: e });
  return new KilnError(FROM_GRPC.get(e.code) ?? 'INTERNAL', `kiln agent at ${host}: ${what}: ${e.details || e.message}`, { cause: e });
}

export function unreachable(host: string, cause: unknown, tls: boolean): KilnError {
  const where = tls ? ' on that machine' : '';
  return new KilnError('UNAVAILABLE', `cannot reach the kiln agent at ${host}`, { cause, hint: `start it${where} with kiln agent --listen ${host}, or check --host / KILN_HOST` });
}

function tlsRefused(host: string, e: ServiceError): KilnError {
  const why = /altnames|hostname|IP: .* is not in the cert/i.test(text(e)) ? `its certificate does not name ${host.replace(/^tcp:\/\//, '').replace(/:\d+$/, '')}` : 'the TLS handshake failed (a certificate from another CA, or none)';
  return new KilnError('UNAUTHENTICATED', `the kiln agent at ${host} refused the connection: ${why}`, {
    cause: e,
    hint: 'use the client certificate the agent made (--tlscacert/--tlscert/--tlskey or KILN_CERT_PATH with ca.pem, cert.pem, key.pem)',
  });
}
