/** Connection-level failures of a request (request.ts): their code, and the kiln error a user sees. */
import { failedPrecondition, unavailable, type KilnError } from '../../errors.js';
import { formatSeconds, READ_PROGRESS_BYTES, TIMEOUT_ENV, type Timeouts } from './timeouts.js';
import { isStall } from './watchdog.js';

/** The system, TLS or kiln code behind a failed request (`ECONNREFUSED`, `KILN_CONNECTION_CLOSED`, TLS codes…). */
export function netErrorCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 5 && cur; i++) {
    const c = cur as { code?: unknown; errors?: unknown[]; cause?: unknown };
    if (typeof c.code === 'string') return c.code;
    if (Array.isArray(c.errors) && c.errors.length) cur = c.errors[0];
    else cur = c.cause;
  }
  return undefined;
}

const CERT_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
]);

export const isCertError = (code: string | undefined): boolean => code !== undefined && CERT_CODES.has(code);

/** A dropped connection worth retrying (or resuming). */
export const isResetError = (code: string | undefined): boolean =>
  code === 'ECONNRESET' || code === 'EPIPE' || code === 'KILN_CONNECTION_CLOSED' || code === 'ETIMEDOUT';

const STALL_CODES = new Set(['KILN_CONNECT_TIMEOUT', 'KILN_HEADERS_TIMEOUT', 'KILN_BODY_TIMEOUT', 'KILN_STALL']);

/** A registry that did not connect, answer or send in time: worth another attempt too. */
export const isStallError = (code: string | undefined): boolean => code !== undefined && STALL_CODES.has(code);

/** Worth another attempt (or a resume): a dropped connection or a stall. */
export const isRetryableError = (code: string | undefined): boolean => isResetError(code) || isStallError(code);

/** Where a failure happened, for its one line. */
export interface FailureContext {
  /** `GET /v2/foo/manifests/latest` */
  where?: string;
  timeouts?: Timeouts;
  /** attempts made */
  attempts?: number;
}

function stallError(host: string, code: string, e: unknown, c: FailureContext): KilnError {
  const t = c.timeouts;
  const tries = c.attempts && c.attempts > 1 ? `, ${c.attempts} attempts` : '';
  const where = c.where ? ` (${c.where}${tries})` : tries ? ` (${tries.slice(2)})` : '';
  if (code === 'KILN_CONNECT_TIMEOUT') {
    return unavailable(`cannot reach registry ${host}: connection timed out${t ? ` after ${formatSeconds(t.connectMs)}` : ''}${where}`, {
      cause: e,
      hint: `check that the registry is running and the address is right; ${TIMEOUT_ENV.connectMs} sets the limit`,
    });
  }
  if (code === 'KILN_HEADERS_TIMEOUT') {
    return unavailable(`registry ${host} stalled: no response headers within ${t ? formatSeconds(t.headersMs) : 'the headers timeout'}${where}`, {
      cause: e,
      hint: `the registry or a proxy in front of it stopped answering; try again later (${TIMEOUT_ENV.headersMs} sets the limit)`,
    });
  }
  const readMs = isStall(e) ? e.readMs : t?.readMs;
  return unavailable(`registry ${host} stalled: less than ${READ_PROGRESS_BYTES / 1024} KiB of the response in ${readMs ? formatSeconds(readMs) : 'the read timeout'}${where}`, {
    cause: e,
    hint: `the registry or a proxy in front of it stopped sending; try again later (${TIMEOUT_ENV.readMs} sets the limit)`,
  });
}

const WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connection timed out',
  KILN_CONNECTION_CLOSED: 'connection closed by the registry',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

/** `registry HOST: too many redirects for GET /v2/… (the last to URL)` */
export function tooManyRedirects(host: string, where: string | undefined, last?: string, cause?: unknown): KilnError {
  return unavailable(`registry ${host}: too many redirects${where ? ` for ${where}` : ''}${last ? ` (the last to ${last})` : ''}`, {
    cause,
    hint: 'the registry or a proxy in front of it redirects in a loop; check its address (a login page?) and its proxy configuration',
  });
}

/** `cannot reach registry HOST: connection refused` with a hint. */
export function connectionError(host: string, e: unknown, ctx: FailureContext = {}): KilnError {
  const code = netErrorCode(e);
  if (isStallError(code)) return stallError(host, code!, e, ctx);
  if (isCertError(code)) {
    return failedPrecondition(`cannot reach registry ${host}: TLS certificate not trusted (${code})`, {
      cause: e,
      hint: `add the registry's CA as configs."${host}".tls.ca_file in registries.yaml, or mark it insecure`,
    });
  }
  if (code?.startsWith('ERR_SSL_') || code === 'EPROTO') {
    return unavailable(`cannot reach registry ${host}: TLS handshake failed (${code})`, {
      cause: e,
      hint: `check configs."${host}".tls in registries.yaml (ca_file, cert_file, key_file)`,
    });
  }
  // a redirect to another scheme says where it went
  const what = (code && WORDS[code]) ?? (code && code !== 'KILN_BAD_REDIRECT' ? `${code}` : (e as Error)?.message ?? String(e));
  return unavailable(`cannot reach registry ${host}: ${what}`, {
    cause: e,
    hint: 'check that the registry is running and the address is right',
  });
}
