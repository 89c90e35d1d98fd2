/**
 * The agent's Build handler (the Build RPC's server side: context sync,
 * events and the result). Owned by the rbuild work; until it lands the agent
 * answers UNIMPLEMENTED.
 */
import type * as grpc from '@grpc/grpc-js';
import { unimplemented } from '../../../errors.js';
import type { Engine } from '../../engine.js';
import { toStatus } from '../errors.js';

export interface BuildHandlerContext {
  engine: Engine;
  /** The agent's state directory (`<root>/agent`): where a build may keep synced contexts. */
  stateDir: string;
}

export function buildHandler(ctx: BuildHandlerContext): grpc.handleBidiStreamingCall<unknown, unknown> {
  void ctx;
  return (call) => {
    call.emit('error', toStatus(unimplemented('this kiln agent does not build yet', { hint: 'build locally (without --host)' })));
  };
}
