/**
 * The remote backend's build(): prepares the context on this side
 * (build-context.ts) and runs the Build stream (build-client.ts) over the
 * agent connection; temp files of the preparation are removed after.
 */
import type { BuildOptions, BuildResult } from '../engine.js';
import { runRemoteBuild } from './build-client.js';
import { prepareBuild, refuseLocalOnly, type PreparedBuild } from './build-context.js';
import type { AgentConnection } from './connection.js';
import { CHUNK_SIZE } from './proto.js';

export async function remoteBuild(conn: AgentConnection, opts: BuildOptions): Promise<BuildResult> {
  refuseLocalOnly(opts, conn.host);
  let prepared: PreparedBuild | undefined;
  const call = { host: conn.host, open: () => conn.duplex('Build'), failure: conn.failure.bind(conn), chunkSize: CHUNK_SIZE };
  conn.warm(); // the handshake while the context is scanned
  try {
    return await runRemoteBuild(call, opts, async () => (prepared = await prepareBuild(opts, conn.host)));
  } finally {
    await prepared?.cleanup();
  }
}
