/**
 * The agent's Build handler: the Build RPC bound to a build session
 * (build-session.ts). A call the client cancels (Ctrl-C, or it went away)
 * aborts the build through its AbortSignal; the session then releases its
 * context slot before the handler returns.
 */
import type * as grpc from '@grpc/grpc-js';
import { cancelled } from '../../../errors.js';
import type { Engine } from '../../engine.js';
import { send } from '../chunks.js';
import { toStatus } from '../errors.js';
import { runBuildSession, type BuildUpMsg } from './build-session.js';

export interface BuildHandlerContext {
  engine: Engine;
  /** The agent's state directory (`<root>/agent`): synced contexts live here. */
  stateDir: string;
  /** The agent's log: one line per call (never secrets). */
  log: (line: string) => void;
}

export function buildHandler(ctx: BuildHandlerContext): grpc.handleBidiStreamingCall<BuildUpMsg, unknown> {
  return (call) => {
    const ac = new AbortController();
    call.once('cancelled', () => ac.abort(cancelled('the client cancelled the build')));
    const messages = call[Symbol.asyncIterator]() as AsyncIterator<BuildUpMsg>;
    const t0 = Date.now();
    runBuildSession(ctx, { messages, send: (m) => send(call, m), signal: ac.signal }).then(
      (r) => {
        ctx.log(`build ${[r.id.slice(0, 19), ...r.tags].join(' ')}: ok (${Date.now() - t0} ms, ${r.steps} steps, ${r.cached} cached)`);
        call.write({ result_json: JSON.stringify(r) });
        call.end();
      },
      (e) => {
        if (call.cancelled) ctx.log(`build: cancelled by the client after ${Date.now() - t0} ms`);
        else {
          ctx.log(`build: ${(e as { code?: string }).code ?? 'error'}: ${(e as Error)?.message ?? String(e)} (${Date.now() - t0} ms)`);
          call.emit('error', toStatus(e));
        }
      },
    );
  };
}
