/** Bounded retry with exponential backoff for 5xx/429 answers, dropped connections and stalls. */
import type { Answer } from './answer.js';
import { isRetryableError, netErrorCode } from './neterror.js';

export interface RetryOptions {
  /** Total attempts, first included (default 4). */
  attempts?: number;
  /** First backoff in ms; each next one is 3× longer (default 100). */
  baseDelayMs?: number;
}

const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);

export const isRetryableStatus = (status: number): boolean => RETRY_STATUS.has(status);

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Calls `attempt` until it gives a non-retryable response or throws a
 * non-retryable error, at most `attempts` times; the last outcome is returned or thrown.
 */
export async function withRetry(attempt: () => Promise<Answer>, opts: RetryOptions = {}): Promise<Answer> {
  const attempts = Math.max(1, opts.attempts ?? 4);
  const base = opts.baseDelayMs ?? 100;
  for (let i = 1; ; i++) {
    let res: Answer;
    try {
      res = await attempt();
    } catch (e) {
      if (i >= attempts || !isRetryableError(netErrorCode(e))) throw e;
      await sleep(base * 3 ** (i - 1));
      continue;
    }
    if (i >= attempts || !isRetryableStatus(res.status)) return res;
    await sleep(base * 3 ** (i - 1));
  }
}
