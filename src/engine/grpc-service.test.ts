import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import agentApi from '#proto/agent-api';
import containerdApi from '#proto/containerd-api';
import { messageClass, serviceConstructor, type Message, type ProtoApi } from './grpc-service.js';
import { repoRoot } from '../testing/root.js';

/** The .proto files under proto/ as protobuf.js's reflection reads them (field names as written). */
function reflect(files: string[]): protobuf.Root {
  const dir = path.join(repoRoot(), 'proto');
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => path.join(dir, target);
  root.loadSync(files, { keepCase: true }).resolveAll();
  return root;
}

const CTD = 'github.com/containerd/containerd/api';
const AGENT_FILES = ['kiln/agent/v1/agent.proto'];
const CONTAINERD_FILES = [
  ...['version', 'introspection', 'leases', 'content', 'images', 'snapshots', 'diff', 'events', 'containers', 'tasks'].map((s) => `${CTD}/services/${s}/v1/${s}.proto`),
  `${CTD}/services/namespaces/v1/namespace.proto`,
  ...['image', 'task', 'container'].map((e) => `${CTD}/events/${e}.proto`),
];

function services(root: protobuf.NamespaceBase): protobuf.Service[] {
  return root.nestedArray.flatMap((o) => [...(o instanceof protobuf.Service ? [o] : []), ...(o instanceof protobuf.Namespace ? services(o) : [])]);
}

const name = (t: protobuf.Type | null | undefined) => t!.fullName.slice(1);

test('the generated API modules hold every method of the .proto services, with its message classes and streaming shape', () => {
  for (const [api, files, count] of [
    [agentApi, AGENT_FILES, 1],
    [containerdApi, CONTAINERD_FILES, 11],
  ] as const) {
    const declared = services(reflect(files));
    assert.equal(declared.length, count);
    assert.deepEqual(Object.keys(api.services).sort(), declared.map((s) => s.fullName.slice(1)).sort());
    for (const s of declared) {
      const generated = api.services[s.fullName.slice(1)]!;
      assert.deepEqual(
        generated.map((m) => [m.name, m.requestStream, m.responseStream]),
        s.methodsArray.map((m) => [m.name, m.requestStream === true, m.responseStream === true]),
        s.fullName,
      );
      for (const [i, m] of s.methodsArray.entries()) {
        assert.equal(generated[i]!.requestType, messageClass(api, name(m.resolvedRequestType)), `${s.fullName}/${m.name} request`);
        assert.equal(generated[i]!.responseType, messageClass(api, name(m.resolvedResponseType)), `${s.fullName}/${m.name} response`);
      }
    }
  }
  // Every event payload kiln decodes from an Any is there; lookups never walk outside the generated tree.
  for (const t of ['containerd.services.images.v1.ImageCreate', 'containerd.events.TaskExit', 'containerd.events.ContainerDelete']) assert.ok(messageClass(containerdApi, t), t);
  for (const t of ['containerd.events.Nope', '__proto__.constructor', 'containerd.constructor', 'containerd', '']) assert.equal(messageClass(containerdApi, t), undefined, t);
});

/** The method's (de)serializers as grpc-js calls them, from the client class kiln makes. */
function codec(api: ProtoApi, service: string, method: string, asObject: object) {
  const def = (serviceConstructor(api, service, asObject) as unknown as { service: grpc.ServiceDefinition })['service'][method]!;
  return { def, up: (o: Message) => def.requestSerialize(o), down: (b: Buffer) => def.responseDeserialize(b) as Message, req: (b: Buffer) => def.requestDeserialize(b) as Message, res: (o: Message) => def.responseSerialize(o) };
}

test('agent API messages: the bytes protobuf.js reflection gives, decoded to the shapes the remote backend reads (absent fields absent, oneofs named, bytes as Buffer)', () => {
  const AS = { longs: Number, enums: String, defaults: false, oneofs: true };
  const reflected = reflect(AGENT_FILES);
  const same = (type: string, o: Message, bytes: Buffer) => {
    const t = reflected.lookupType(type);
    assert.deepEqual(bytes, Buffer.from(t.encode(t.fromObject(o)).finish()), `${type} bytes`);
  };
  const build = codec(agentApi, 'kiln.agent.v1.Engine', 'Build', AS);
  const data = Buffer.from([0, 1, 2, 255]);
  const up: Message[] = [
    { start_json: '{"tags":["a:1"]}' },
    { manifest_json: '[]' },
    { file: { digest: 'sha256:ab', data, last: true } },
    { secret: { id: 's', value: Buffer.from('hush') } },
    { files_done: true },
    { file_batch: { files: [{ digest: 'sha256:ab', data, last: true }, { digest: 'sha256:e3', last: true }] } },
  ];
  for (const m of up) {
    const bytes = build.up(m);
    same('kiln.agent.v1.BuildUp', m, bytes);
    const back = build.req(bytes);
    assert.equal(back.kind, Object.keys(m)[0]);
    assert.deepEqual({ ...back, kind: undefined }, { ...m, kind: undefined });
  }
  // An empty file's chunk carries no data field: the agent reads it as absent.
  assert.deepEqual(build.req(build.up({ file: { digest: 'sha256:e3', data: Buffer.alloc(0), last: true } })).file, { digest: 'sha256:e3', last: true });
  assert.ok(Buffer.isBuffer(build.req(build.up(up[2]!)).file.data));
  for (const m of [{ need: { digests: ['sha256:ab'], batches: true } }, { need: {} }, { event_json: '{}' }, { result_json: '{"id":"x"}' }] as Message[]) {
    const bytes = build.res(m);
    same('kiln.agent.v1.BuildDown', m, bytes);
    assert.deepEqual(build.down(bytes), { ...m, kind: Object.keys(m)[0] });
  }
  const pull = codec(agentApi, 'kiln.agent.v1.Engine', 'Pull', AS);
  assert.deepEqual(pull.down(pull.res({ event_json: '{"id":"l"}' })), { event_json: '{"id":"l"}', kind: 'event_json' });
  assert.deepEqual(pull.req(pull.up({ json: '{"ref":"x"}' })), { json: '{"ref":"x"}' });
  const load = codec(agentApi, 'kiln.agent.v1.Engine', 'Load', AS);
  assert.deepEqual(load.req(load.up({ data, json: '{}' })), { data, json: '{}' });
  // What an older kiln (protobuf.js 7's reflection) sends for a set but empty field: the field, empty.
  assert.deepEqual(load.req(Buffer.from([0x12, 0x00])), {});
  assert.deepEqual(pull.down(Buffer.from([0x12, 0x00])), { result_json: '', kind: 'result_json' }, 'a oneof member keeps its presence');
  // Unknown fields (a newer kiln's) are skipped; a truncated message is refused.
  assert.deepEqual(pull.req(Buffer.from([0x0a, 0x01, 0x7b, 0x7a, 0x01, 0x00])), { json: '{' });
  assert.throws(() => pull.req(Buffer.from([0x0a, 0x05, 0x7b])), RangeError);
});

test('containerd API messages: int64 as numbers, enums as names, defaults filled in, Any payloads decoded by type URL', () => {
  const AS = { longs: Number, enums: String, defaults: true, oneofs: true };
  const reflected = reflect(CONTAINERD_FILES);
  const info = codec(containerdApi, 'containerd.services.content.v1.Content', 'Info', AS);
  const res: Message = { info: { digest: 'sha256:ab', size: 5_000_000_000, created_at: { seconds: 1_700_000_000, nanos: 5 }, labels: { 'containerd.io/gc.root': 'x' } } };
  const bytes = info.res(res);
  const t = reflected.lookupType('containerd.services.content.v1.InfoResponse');
  assert.deepEqual(bytes, Buffer.from(t.encode(t.fromObject(res)).finish()));
  assert.deepEqual(info.down(bytes), {
    info: { digest: 'sha256:ab', size: 5_000_000_000, created_at: { seconds: 1_700_000_000, nanos: 5 }, updated_at: null, labels: { 'containerd.io/gc.root': 'x' } },
  });
  const status = codec(containerdApi, 'containerd.services.content.v1.Content', 'Write', AS);
  const w = status.down(status.res({ action: 'COMMIT', offset: 12, total: 12, digest: 'sha256:ab' }));
  assert.equal(w.action, 'COMMIT');
  assert.equal(w.offset, 12);
  assert.equal(w.started_at, null);
  const list = codec(containerdApi, 'containerd.services.images.v1.Images', 'List', AS);
  assert.deepEqual(list.down(Buffer.alloc(0)), { images: [] });
  assert.deepEqual(list.req(list.up({ filters: ['name==a'] })), { filters: ['name==a'] });
  // An events envelope's payload, as the events service streams it.
  const create = reflected.lookupType('containerd.services.images.v1.ImageCreate');
  const value = Buffer.from(create.encode(create.fromObject({ name: 'docker.io/library/a:1', labels: { k: 'v' } })).finish());
  const subscribe = codec(containerdApi, 'containerd.services.events.v1.Events', 'Subscribe', AS);
  const envelope = subscribe.down(subscribe.res({ topic: '/images/create', namespace: 'k8s.io', event: { type_url: 'containerd.services.images.v1.ImageCreate', value } }));
  assert.equal(envelope.topic, '/images/create');
  assert.ok(Buffer.isBuffer(envelope.event.value));
  const payload = messageClass(containerdApi, envelope.event.type_url)!;
  assert.deepEqual(payload.toObject(payload.decode(envelope.event.value), AS), { name: 'docker.io/library/a:1', labels: { k: 'v' } });
});

test('containerd API: every enum field of every message reads back as its value name', () => {
  const AS = { longs: Number, enums: String, defaults: true, oneofs: true };
  const types: protobuf.Type[] = [];
  const walk = (ns: protobuf.NamespaceBase) => {
    for (const o of ns.nestedArray) {
      if (o instanceof protobuf.Type) types.push(o);
      if (o instanceof protobuf.Namespace || o instanceof protobuf.Type) walk(o);
    }
  };
  walk(reflect(CONTAINERD_FILES));
  let fields = 0;
  for (const t of types) {
    const cls = messageClass(containerdApi, name(t));
    assert.ok(cls, `${t.fullName} is generated`);
    for (const f of t.fieldsArray) {
      if (!(f.resolvedType instanceof protobuf.Enum) || f.map) continue;
      const [value] = Object.keys(f.resolvedType.values).slice(-1);
      const set = { [f.name]: f.repeated ? [value] : value };
      assert.deepEqual(cls.toObject(cls.decode(cls.encode(cls.fromObject(set)).finish()), AS)[f.name], set[f.name], `${t.fullName}.${f.name}`);
      fields++;
    }
  }
  assert.ok(fields >= 3, `${fields} enum fields`);
});
