/**
 * The agent API (agent.proto, copied into proto/kiln/agent/v1/ at build time)
 * loaded for both sides: the service definition the server registers and the
 * client constructor the remote backend calls through.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { failedPrecondition } from '../../errors.js';
import { packagedAsset } from '../../self.js';
import { serviceConstructor } from '../grpc-service.js';

const FILE = 'kiln/agent/v1/agent.proto';
/** The asset name of the compiled API in the packaged executable. */
export const PACKAGED = 'agent-api.json';

/** The largest message either side accepts: byte streams travel in chunks of at most CHUNK_SIZE. */
export const MAX_MESSAGE = 4 << 20;
/** Bytes per Chunk / FileChunk message. */
export const CHUNK_SIZE = 1 << 20;

/** Channel and server options both sides use. */
export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': MAX_MESSAGE,
  'grpc.max_send_message_length': MAX_MESSAGE,
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 20_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.http2.min_ping_interval_without_data_ms': 10_000,
};

function protoRoot(): string {
  const root = fileURLToPath(new URL('../../../proto/', import.meta.url));
  if (!existsSync(`${root}/${FILE}`)) {
    throw failedPrecondition(`the agent API proto is missing from ${root}`, { hint: 'run npm run build (scripts/protos.sh copies src/engine/remote/agent.proto into proto/)' });
  }
  return root;
}

let loaded: grpc.ServiceClientConstructor | undefined;

/** Messages as plain objects: field names as written, oneofs named in their oneof's field, unset fields absent. */
const AS_OBJECT: protobuf.IConversionOptions = { longs: Number, enums: String, defaults: false, oneofs: true };

/** The generated client constructor of kiln.agent.v1.Engine; `.service` is the server's definition. */
export function engineService(): grpc.ServiceClientConstructor {
  if (!loaded) {
    // The executable carries the API compiled to JSON (scripts/package.mjs, with keepCase) instead of the .proto file.
    const json = packagedAsset(PACKAGED);
    let root: protobuf.Root;
    if (json !== undefined) root = protobuf.Root.fromJSON(JSON.parse(json) as protobuf.INamespace);
    else {
      const dir = protoRoot();
      root = new protobuf.Root();
      root.resolvePath = (_origin, target) => `${dir}/${target}`;
      root.loadSync(FILE, { keepCase: true });
    }
    loaded = serviceConstructor(root, 'kiln.agent.v1.Engine', AS_OBJECT);
  }
  return loaded;
}

/** Messages as the service presents them (oneofs: the set field's name in the oneof's name). */
export interface JsonMsg {
  json: string;
}
export interface ChunkMsg {
  data?: Buffer;
  json?: string;
}
export interface ProgressMsg {
  event_json?: string;
  result_json?: string;
  kind?: 'event_json' | 'result_json';
}

export const toJson = (v: unknown): JsonMsg => ({ json: JSON.stringify(v ?? null) });
export const fromJson = <T>(m: { json?: string } | undefined): T => (m?.json ? (JSON.parse(m.json) as T) : (undefined as T));
