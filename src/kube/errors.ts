/**
 * Failures of calls to the Kubernetes API server → one KilnError naming the
 * context and the server: unreachable (connection refused, no route, DNS,
 * timeout, TLS), unauthenticated, forbidden (RBAC: which verb on what), not
 * found, and anything else with the API's own message.
 */
import { internal, isKilnError, KilnError, notFound, permissionDenied, unauthenticated, unavailable, alreadyExists } from '../errors.js';

export interface Target {
  context: string;
  server: string;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE']);

/** The Status message a failed API call carried, if its body is a Status. */
function statusMessage(body: unknown): string | undefined {
  if (typeof body === 'string') {
    try {
      return statusMessage(JSON.parse(body));
    } catch {
      return body.trim() || undefined;
    }
  }
  if (body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') return (body as { message: string }).message;
  return undefined;
}

/**
 * The client library's ApiException (HTTP status in `code`, the answer in `body`), told by its shape:
 * importing the class would load the library's whole index for every command that can fail.
 */
function apiStatus(e: unknown): { code: number; body: unknown } | undefined {
  const x = e as { code?: unknown; body?: unknown; headers?: unknown } | undefined;
  return e instanceof Error && typeof x?.code === 'number' && 'body' in x && 'headers' in x ? (x as { code: number; body: unknown }) : undefined;
}

export function where(t: Target): string {
  return `context "${t.context}" (${t.server})`;
}

/** `what` says what kiln was doing: "list nodes", "create DaemonSet kiln/kiln-agent". */
export function kubeError(e: unknown, t: Target, what: string): KilnError {
  if (isKilnError(e)) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const api = apiStatus(e);
  if (api) {
    const msg = statusMessage(api.body) ?? `HTTP ${api.code}`;
    const opts = { cause: e };
    switch (api.code) {
      case 401:
        return unauthenticated(`the API server of ${where(t)} refused the credentials (${what}): ${msg}`, { ...opts, hint: 'renew them (kubectl get nodes should work), or pick another context with -x' });
      case 403:
        return permissionDenied(`${what}: forbidden in ${where(t)}: ${msg}`, { ...opts, hint: 'ask a cluster admin for these rights, or use a context that has them (-x)' });
      case 404:
        return notFound(`${what}: not found in ${where(t)}: ${msg}`, opts);
      case 409:
        return alreadyExists(`${what}: ${msg}`, opts);
      default:
        return internal(`${what}: the API server of ${where(t)} answered ${api.code}: ${msg}`, opts);
    }
  }
  if (typeof code === 'string' && (UNREACHABLE.has(code) || code.startsWith('ERR_TLS') || code.includes('CERT'))) {
    const why = code === 'ECONNREFUSED' ? 'connection refused' : code;
    return unavailable(`cannot reach the Kubernetes API server of ${where(t)}: ${why}`, { cause: e, hint: 'is the cluster running? kubectl get nodes should work; pick another context with -x or kubeconfig with -k/KUBECONFIG' });
  }
  if (e instanceof Error && /timed? ?out|aborted/i.test(e.message)) {
    return unavailable(`the Kubernetes API server of ${where(t)} did not answer (${what})`, { cause: e, hint: 'is the cluster running? kubectl get nodes should work' });
  }
  return internal(`${what} in ${where(t)}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

/** Runs one API call; its failure becomes a kubeError. */
export async function call<T>(t: Target, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw kubeError(e, t, what);
  }
}

/** True when an API call failed with this HTTP status. */
export function isStatus(e: unknown, status: number): boolean {
  if (apiStatus(e)) return apiStatus(e)!.code === status;
  if (isKilnError(e) && apiStatus(e.cause)) return apiStatus(e.cause)!.code === status;
  return false;
}
