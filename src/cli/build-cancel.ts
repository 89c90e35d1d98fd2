/** A build from the CLI: Ctrl-C (SIGINT) and SIGTERM cancel it (exit 130), and its progress display is ended whatever happens. */
import { cancelled } from '../errors.js';
import { sharedController } from '../util/shared-signal.js';

export async function cancellableBuild<T>(progress: { done(): void }, hint: string | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = sharedController();
  const onSignal = (sig: NodeJS.Signals) => abort.abort(cancelled(`build cancelled by ${sig}`, { exitCode: 130, ...(hint ? { hint } : {}) }));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await fn(abort.signal);
  } finally {
    progress.done();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
