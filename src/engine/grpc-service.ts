/**
 * A grpc-js client class for one service of a protobuf.js root: each
 * method's path and its (de)serializers, made straight from the parsed
 * descriptor. proto-loader's `loadPackageDefinition` would also build a
 * reflection descriptor of every file (encoded FileDescriptorProtos) that no
 * call uses: tens of milliseconds of every command's start. The
 * containerd and remote backends both call through this; `.service` is the
 * definition a server registers.
 */
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';

/** Decoded messages as plain objects (snake_case fields as in the .proto files). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Message = Record<string, any>;

/** The encoded bytes as a Buffer without copying them (protobuf.js hands back a Buffer already under Node; a chunk carries 1 MiB). */
const asBuffer = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));

/** The client constructor of `fullName` (`pkg.v1.Service`) in `root`; decoded messages as `toObject(…, asObject)` gives them. */
export function serviceConstructor(root: protobuf.Root, fullName: string, asObject: protobuf.IConversionOptions): grpc.ServiceClientConstructor {
  const def: Record<string, grpc.MethodDefinition<Message, Message>> = {};
  for (const m of root.lookupService(fullName).methodsArray) {
    m.resolve();
    const req = m.resolvedRequestType!;
    const res = m.resolvedResponseType!;
    def[m.name] = {
      path: `/${fullName}/${m.name}`,
      requestStream: m.requestStream === true,
      responseStream: m.responseStream === true,
      requestSerialize: (o: Message) => asBuffer(req.encode(req.fromObject(o)).finish()),
      requestDeserialize: (b: Buffer) => req.toObject(req.decode(b), asObject),
      responseSerialize: (o: Message) => asBuffer(res.encode(res.fromObject(o)).finish()),
      responseDeserialize: (b: Buffer) => res.toObject(res.decode(b), asObject),
    };
  }
  return grpc.makeGenericClientConstructor(def, fullName);
}
