/**
 * kiln's error classes: a few stable codes (containerd's set), a message with
 * context (digest, path, registry, Dockerfile:LINE) and an optional hint that
 * says what to do. Only the CLI entry point catches these and prints them.
 */
export type ErrorCode =
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'INVALID_ARGUMENT'
  | 'FAILED_PRECONDITION'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'UNAVAILABLE'
  | 'DATA_LOSS'
  | 'CANCELLED'
  | 'UNIMPLEMENTED'
  | 'INTERNAL';

export interface ErrorOptions {
  /** What the user can do about it, printed after the message. */
  hint?: string;
  cause?: unknown;
  /** Exit code for the CLI (default 1). */
  exitCode?: number;
}

export class KilnError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, opts: ErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'KilnError';
    this.code = code;
    this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? 1;
  }
}

const make =
  (code: ErrorCode) =>
  (message: string, opts?: ErrorOptions): KilnError =>
    new KilnError(code, message, opts);

export const notFound = make('NOT_FOUND');
export const alreadyExists = make('ALREADY_EXISTS');
export const invalidArgument = make('INVALID_ARGUMENT');
export const failedPrecondition = make('FAILED_PRECONDITION');
export const unauthenticated = make('UNAUTHENTICATED');
export const permissionDenied = make('PERMISSION_DENIED');
export const unavailable = make('UNAVAILABLE');
export const dataLoss = make('DATA_LOSS');
export const cancelled = make('CANCELLED');
export const unimplemented = make('UNIMPLEMENTED');
export const internal = make('INTERNAL');

export function isKilnError(e: unknown, code?: ErrorCode): e is KilnError {
  return e instanceof KilnError && (code === undefined || e.code === code);
}

/** True for a Node system error with the given errno code (ENOENT, EEXIST…). */
export function isErrno(e: unknown, code: string): e is NodeJS.ErrnoException {
  return typeof e === 'object' && e !== null && (e as NodeJS.ErrnoException).code === code;
}
