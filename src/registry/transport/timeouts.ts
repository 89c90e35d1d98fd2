/**
 * How long kiln waits for a registry: to connect (TCP and TLS), for the
 * response headers, and for the body to move on (less than READ_PROGRESS_BYTES
 * within the read timeout is a stall, so a body trickled a byte at a time is
 * one too). Defaults follow Docker's 30 s dial timeout; each can be set in
 * registries.yaml (`timeouts:`, or per host under `configs."HOST".timeouts`)
 * and overridden by KILN_REGISTRY_{CONNECT,HEADERS,READ}_TIMEOUT.
 */
import { invalidArgument } from '../../errors.js';

export interface Timeouts {
  /** TCP connect and TLS handshake. */
  connectMs: number;
  /** From the request sent to the last response header. */
  headersMs: number;
  /** Waiting for body bytes: a response that sends less than READ_PROGRESS_BYTES in this long is stalled. */
  readMs: number;
}

/** As registries.yaml spells them: `30s`, `500ms`, `2m`, or a number of seconds. */
export interface TimeoutsConfig {
  connect?: string | number;
  headers?: string | number;
  read?: string | number;
}

export const DEFAULT_TIMEOUTS: Timeouts = { connectMs: 30_000, headersMs: 60_000, readMs: 60_000 };

/** The least a body must deliver within the read timeout. */
export const READ_PROGRESS_BYTES = 1024;

export const TIMEOUT_ENV = { connectMs: 'KILN_REGISTRY_CONNECT_TIMEOUT', headersMs: 'KILN_REGISTRY_HEADERS_TIMEOUT', readMs: 'KILN_REGISTRY_READ_TIMEOUT' } as const;

const KEYS = { connectMs: 'connect', headersMs: 'headers', readMs: 'read' } as const;

/** `30s` → 30000; `500ms`, `2m`, `1.5` (seconds) too. */
export function parseDuration(value: string | number, where: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(String(value));
  const n = m ? Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000) : NaN;
  if (!Number.isFinite(n) || n <= 0) {
    throw invalidArgument(`${where}: ${JSON.stringify(value)} is not a duration`, { hint: 'write it like 30s, 500ms or 2m' });
  }
  return Math.round(n);
}

/** `0.3 s`, `60 s` */
export const formatSeconds = (ms: number): string => `${Number((ms / 1000).toFixed(3))} s`;

/**
 * The timeouts for one host: options given in code, then the environment,
 * then the host's registries.yaml entry, then the file's global one, then the defaults.
 */
export function resolveTimeouts(
  layers: { given?: Partial<Timeouts>; env?: NodeJS.ProcessEnv; host?: TimeoutsConfig; global?: TimeoutsConfig; file?: string },
): Timeouts {
  const out = { ...DEFAULT_TIMEOUTS };
  const env = layers.env ?? process.env;
  for (const k of Object.keys(DEFAULT_TIMEOUTS) as (keyof Timeouts)[]) {
    const file = layers.file ?? 'registries.yaml';
    const fromEnv = env[TIMEOUT_ENV[k]];
    if (layers.given?.[k] !== undefined) out[k] = layers.given[k]!;
    else if (fromEnv) out[k] = parseDuration(fromEnv, TIMEOUT_ENV[k]);
    else if (layers.host?.[KEYS[k]] !== undefined) out[k] = parseDuration(layers.host[KEYS[k]]!, `${file}: timeouts.${KEYS[k]}`);
    else if (layers.global?.[KEYS[k]] !== undefined) out[k] = parseDuration(layers.global[KEYS[k]]!, `${file}: timeouts.${KEYS[k]}`);
  }
  return out;
}
