/**
 * The calls in flight on one gRPC connection (to containerd or to a kiln
 * agent). grpc-js waits for a reconnect on unref'd timers, so while a call is
 * in flight this holds the process open — otherwise a CLI whose server went
 * away could reach an empty event loop and exit 0 with a call unsettled. Once
 * the connection is known to be lost, every call in flight is cancelled and
 * later calls fail at once with the same error instead of waiting.
 */
import type { KilnError } from '../errors.js';

export class InflightCalls {
  private readonly active = new Set<{ cancel(): void }>();
  private keepalive: NodeJS.Timeout | undefined;
  /** The error that ended the connection, once it is lost. */
  lost: KilnError | undefined;

  /** Tracks a call; the returned function ends its tracking (call it on close, error or end). */
  begin(call: { cancel(): void }): () => void {
    if (this.active.size === 0) this.keepalive = setInterval(() => undefined, 1 << 30);
    this.active.add(call);
    return () => {
      if (this.active.delete(call) && this.active.size === 0) clearInterval(this.keepalive);
    };
  }

  /** Records the connection as lost with `err` and cancels every call in flight; returns `err`. */
  lose(err: KilnError): KilnError {
    this.lost = err;
    this.cancelAll();
    return err;
  }

  cancelAll(): void {
    for (const c of [...this.active]) c.cancel();
    clearInterval(this.keepalive);
  }
}
