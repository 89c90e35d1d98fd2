/**
 * A grpc-js client class for one service of a generated API module
 * (`#proto/agent-api`, `#proto/containerd-api`: protobuf.js's static code,
 * made at build time by scripts/protos-static.mjs): each method's path and
 * its (de)serializers, straight from the generated message classes. Nothing
 * is parsed or compiled at start: no descriptor, no reflection, no
 * proto-loader. The containerd and remote backends both call through this;
 * `.service` is the definition a server registers.
 */
import * as grpc from '@grpc/grpc-js';

/** Decoded messages as plain objects (snake_case fields as in the .proto files). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Message = Record<string, any>;

/** What toObject is asked for (protobuf.js's IConversionOptions, the members kiln sets). */
export interface AsObject {
  longs?: NumberConstructor | StringConstructor;
  enums?: StringConstructor;
  defaults?: boolean;
  oneofs?: boolean;
}

/** A generated message class: its static codec. */
export interface MessageClass {
  encode(message: object): { finish(): Uint8Array };
  decode(bytes: Uint8Array): object;
  fromObject(object: object): object;
  toObject(message: object, options?: object): Record<string, unknown>;
}

/** A generated API module: the message classes under their packages, and every service's methods. */
export interface ProtoApi {
  root: { readonly [name: string]: unknown };
  services: {
    readonly [service: string]: readonly { name: string; requestType: MessageClass; responseType: MessageClass; requestStream: boolean; responseStream: boolean }[];
  };
}

/** The encoded bytes as a Buffer without copying them (protobuf.js hands back a Buffer already under Node; a chunk carries 1 MiB). */
const asBuffer = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));

/** The client constructor of `fullName` (`pkg.v1.Service`) in `api`; decoded messages as `toObject(…, asObject)` gives them. */
export function serviceConstructor(api: ProtoApi, fullName: string, asObject: AsObject): grpc.ServiceClientConstructor {
  const methods = api.services[fullName];
  if (!methods) throw new Error(`the generated protobuf API has no service ${fullName}`);
  const def: Record<string, grpc.MethodDefinition<Message, Message>> = {};
  for (const { name, requestType: req, responseType: res, requestStream, responseStream } of methods) {
    def[name] = {
      path: `/${fullName}/${name}`,
      requestStream,
      responseStream,
      requestSerialize: (o: Message) => asBuffer(req.encode(req.fromObject(o)).finish()),
      requestDeserialize: (b: Buffer) => req.toObject(req.decode(b), asObject),
      responseSerialize: (o: Message) => asBuffer(res.encode(res.fromObject(o)).finish()),
      responseDeserialize: (b: Buffer) => res.toObject(res.decode(b), asObject),
    };
  }
  return grpc.makeGenericClientConstructor(def, fullName);
}

/** The generated message class named `fullName` (`containerd.events.ImageCreate`), if `api` has one. */
export function messageClass(api: ProtoApi, fullName: string): MessageClass | undefined {
  let node: unknown = api.root;
  for (const part of fullName.split('.')) {
    if (typeof node !== 'object' && typeof node !== 'function') return undefined;
    if (node === null || !Object.hasOwn(node, part)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  const c = node as Partial<MessageClass> | undefined;
  return typeof c?.decode === 'function' && typeof c.toObject === 'function' ? (c as MessageClass) : undefined;
}
