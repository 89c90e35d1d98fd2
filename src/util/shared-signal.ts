/**
 * A cancellation signal that many operations of one job listen on at once
 * (a build's layer downloads, RUNs and stages; every platform of a
 * multi-platform build). Each operation removes its listener when it ends, so
 * the count follows the work in flight, not a leak: Node's warning at 11
 * listeners ("Possible EventTarget memory leak detected"), meant to find
 * leaks, would only reach the user's terminal in the middle of the build's
 * output. The signal follows `parent` (AbortSignal.any holds no listener on it).
 */
import { setMaxListeners } from 'node:events';

export function sharedSignal(parent?: AbortSignal): AbortSignal {
  const signal = parent ? AbortSignal.any([parent]) : new AbortController().signal;
  setMaxListeners(0, signal);
  return signal;
}

/** The same for a controller this job owns (its own failure cancels the rest). */
export function sharedController(): AbortController {
  const ac = new AbortController();
  setMaxListeners(0, ac.signal);
  return ac;
}
