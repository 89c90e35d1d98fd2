/**
 * The agent API (agent.proto, generated into protobuf.js static code at build
 * time: #proto/agent-api, scripts/protos-static.mjs) for both sides: the
 * service definition the server registers and the client constructor the
 * remote backend calls through.
 */
import type * as grpc from '@grpc/grpc-js';
import api from '#proto/agent-api';
import { serviceConstructor, type AsObject } from '../grpc-service.js';

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

let loaded: grpc.ServiceClientConstructor | undefined;

/** Messages as plain objects: field names as written, oneofs named in their oneof's field, unset fields absent. */
const AS_OBJECT: AsObject = { longs: Number, enums: String, defaults: false, oneofs: true };

/** The generated client constructor of kiln.agent.v1.Engine; `.service` is the server's definition. */
export function engineService(): grpc.ServiceClientConstructor {
  loaded ??= serviceConstructor(api, 'kiln.agent.v1.Engine', AS_OBJECT);
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
