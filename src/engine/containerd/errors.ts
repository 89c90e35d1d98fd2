/** containerd's gRPC status codes → kiln's error classes (the same set, one to one). */
import { status, type ServiceError } from '@grpc/grpc-js';
import { KilnError, type ErrorCode } from '../../errors.js';

const CODES: Partial<Record<number, ErrorCode>> = {
  [status.NOT_FOUND]: 'NOT_FOUND',
  [status.ALREADY_EXISTS]: 'ALREADY_EXISTS',
  [status.INVALID_ARGUMENT]: 'INVALID_ARGUMENT',
  [status.FAILED_PRECONDITION]: 'FAILED_PRECONDITION',
  [status.UNAUTHENTICATED]: 'UNAUTHENTICATED',
  [status.PERMISSION_DENIED]: 'PERMISSION_DENIED',
  [status.UNAVAILABLE]: 'UNAVAILABLE',
  [status.DATA_LOSS]: 'DATA_LOSS',
  [status.CANCELLED]: 'CANCELLED',
  [status.UNIMPLEMENTED]: 'UNIMPLEMENTED',
  [status.DEADLINE_EXCEEDED]: 'UNAVAILABLE',
};

const text = (e: ServiceError) => `${e.details ?? ''} ${e.message}`;
/** No containerd on the socket. */
const isUnreachable = (e: ServiceError) => e.code === status.UNAVAILABLE && /No connection established|failed to connect|ENOENT|ECONNREFUSED|EACCES/i.test(text(e));
/** containerd went away during the call (crashed or restarted). */
const isDropped = (e: ServiceError) => (e.code === status.UNAVAILABLE || e.code === status.INTERNAL) && /Connection dropped|ECONNRESET|EPIPE|socket hang up/i.test(text(e));

/** containerd is not there (any more): no call on this connection can succeed. */
export const isConnectionLoss = (e: ServiceError): boolean => !(e instanceof KilnError) && (isUnreachable(e) || isDropped(e));

export function fromGrpcError(e: ServiceError, what: string, address: string): KilnError {
  if (e instanceof KilnError) return e;
  if (isUnreachable(e)) return unreachable(address, e);
  if (isDropped(e)) {
    return new KilnError('UNAVAILABLE', `lost the connection to containerd at ${address} during ${what}`, {
      cause: e,
      hint: 'containerd stopped or restarted; run the command again once it is up (what was written so far is kept)',
    });
  }
  const code = CODES[e.code] ?? 'INTERNAL';
  return new KilnError(code, `containerd: ${what}: ${e.details || e.message}`, { cause: e });
}

export function unreachable(address: string, cause?: unknown): KilnError {
  return new KilnError('UNAVAILABLE', `cannot reach containerd at ${address}`, {
    cause,
    hint: 'start containerd (or k3s), or pass --address SOCKET / --backend local',
  });
}
