/**
 * Registry error bodies (`{errors:[{code,message,detail}]}`) kept and turned
 * into one kiln error line: `pulling HOST/REPO: unauthorized: authentication required`.
 */
import { STATUS_CODES } from 'node:http';
import type { Answer } from './answer.js';
import { KilnError, type ErrorCode } from '../../errors.js';

export interface RegistryErrorEntry {
  code: string;
  message?: string;
  detail?: unknown;
}

/** The registry's own error list, or [] when the body is not one. */
export function parseErrorBody(text: string): RegistryErrorEntry[] {
  try {
    const doc = JSON.parse(text) as { errors?: unknown };
    if (!Array.isArray(doc.errors)) return [];
    return doc.errors
      .filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string')
      .map((e) => ({ code: e.code as string, message: typeof e.message === 'string' ? e.message : undefined, detail: e.detail }));
  } catch {
    return []; // not JSON: the status line speaks instead
  }
}

/** `unauthorized: authentication required; denied: …` */
export function formatRegistryErrors(errors: RegistryErrorEntry[]): string {
  return errors.map((e) => `${e.code.toLowerCase().replace(/_/g, ' ')}${e.message ? `: ${e.message}` : ''}`).join('; ');
}

/** `404 Not Found`, and the registry's own errors when it sent some: `500 Internal Server Error: unknown: boom`. */
export function answerDetail(status: number, errors: RegistryErrorEntry[]): string {
  const words = `${status} ${STATUS_CODES[status] ?? ''}`.trim();
  return errors.length ? `${words}: ${formatRegistryErrors(errors)}` : words;
}

/** A KilnError that carries the registry's status and error list. */
export class RegistryError extends KilnError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly status: number,
    readonly errors: RegistryErrorEntry[],
    opts: { hint?: string; cause?: unknown } = {},
  ) {
    super(code, message, opts);
  }
}

const STATUS_WORDS: Record<number, string> = {
  401: 'unauthorized: authentication required',
  403: 'denied: requested access to the resource is denied',
  404: 'not found',
};

function codeFor(status: number): ErrorCode {
  if (status === 401) return 'UNAUTHENTICATED';
  if (status === 403) return 'PERMISSION_DENIED';
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'FAILED_PRECONDITION';
  if (status === 429 || status >= 500) return 'UNAVAILABLE';
  if (status === 405) return 'UNIMPLEMENTED';
  return 'INVALID_ARGUMENT';
}

export interface ErrorContext {
  /** `pulling 127.0.0.1:5000/foo` */
  what: string;
  /** registry as the user names it, for `kiln login` hints */
  domain: string;
  /** whether credentials were sent */
  hadCredentials: boolean;
  /** override the message (e.g. `manifest for X:tag not found`); a function gets the answer's detail (`404 Not Found`, or the registry's errors) */
  message?: string | ((detail: string) => string);
  /** override the hint */
  hint?: string;
}

/** Reads the response body (small) and builds the error. */
export async function responseError(res: Answer, ctx: ErrorContext): Promise<RegistryError> {
  const text = await res.text().catch(() => '');
  const errors = parseErrorBody(text);
  // HEAD answers carry no body: say what the status means
  const detail = errors.length ? formatRegistryErrors(errors) : (STATUS_WORDS[res.status] ?? `${res.status} ${res.statusText}`.trim());
  const code = codeFor(res.status);
  let hint: string | undefined;
  if (res.status === 401) {
    hint = ctx.hadCredentials ? `check the user name and password, then run kiln login ${ctx.domain}` : `run kiln login ${ctx.domain}`;
  } else if (res.status === 403) {
    hint = `check that your account may access this repository, or log in as one that may: kiln login ${ctx.domain}`;
  } else if (code === 'UNAVAILABLE') {
    hint = 'the registry is failing; try again later';
  }
  if (ctx.hint) hint = ctx.hint;
  const message = typeof ctx.message === 'function' ? ctx.message(answerDetail(res.status, errors)) : (ctx.message ?? `${ctx.what}: ${detail}`);
  return new RegistryError(code, message, res.status, errors, { hint });
}
