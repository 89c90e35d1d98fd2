/**
 * runc prints its own start failure ("runc run failed: …") on the stderr it
 * shares with the container. This filter holds such a chunk back until the
 * run ends, then drops it if runc did fail (the error is reported as a
 * KilnError instead), or passes it on if it was the container's own output.
 */
import { Transform, type TransformCallback } from 'node:stream';

const PREFIX = /^runc (run|exec) failed: /;

export class RuncStderrFilter extends Transform {
  private held: Buffer[] = [];
  private atLineStart = true;
  private settleWith!: (runcFailed: boolean) => void;
  private readonly settled = new Promise<boolean>((resolve) => (this.settleWith = resolve));

  /** Called once runc has ended: whether the held line was runc's. The stream ends only after this. */
  settle(runcFailed: boolean): void {
    this.settleWith(runcFailed);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.held.length > 0 || (this.atLineStart && PREFIX.test(chunk.subarray(0, 32).toString('latin1')))) this.held.push(chunk);
    else this.push(chunk);
    this.atLineStart = chunk.length > 0 && chunk[chunk.length - 1] === 0x0a;
    cb();
  }

  override _flush(cb: TransformCallback): void {
    void this.settled.then((runcFailed) => {
      if (!runcFailed) for (const c of this.held) this.push(c);
      this.held = [];
      cb();
    });
  }
}
