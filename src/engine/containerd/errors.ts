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

/** True when the failure is the connection itself (no containerd on the socket). */
function isConnectionFailure(e: ServiceError): boolean {
  return e.code === status.UNAVAILABLE && /connect|No connection established|ENOENT|ECONNREFUSED|EACCES/i.test(e.details ?? e.message);
}

export function fromGrpcError(e: ServiceError, what: string, address: string): KilnError {
  if (e instanceof KilnError) return e;
  if (isConnectionFailure(e)) return unreachable(address, e);
  const code = CODES[e.code] ?? 'INTERNAL';
  return new KilnError(code, `containerd: ${what}: ${e.details || e.message}`, { cause: e });
}

export function unreachable(address: string, cause?: unknown): KilnError {
  return new KilnError('UNAVAILABLE', `cannot reach containerd at ${address}`, {
    cause,
    hint: 'start containerd (or k3s), or pass --address SOCKET / --backend local',
  });
}
