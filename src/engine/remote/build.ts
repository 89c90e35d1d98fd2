/**
 * The remote backend's build(): the Build RPC's client side (context sync up,
 * events and the result down). Owned by the rbuild work; until it lands the
 * remote backend says builds are not available.
 */
import { unimplemented } from '../../errors.js';
import type { BuildOptions, BuildResult } from '../engine.js';
import type { AgentConnection } from './connection.js';

export function remoteBuild(conn: AgentConnection, opts: BuildOptions): Promise<BuildResult> {
  void opts;
  return Promise.reject(unimplemented(`builds through the kiln agent at ${conn.host} are not available in this version`, { hint: 'build locally (without --host)' }));
}
