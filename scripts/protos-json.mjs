// Compiles the containerd API services kiln calls (proto/, copied by
// scripts/protos.sh) into one protobuf.js JSON descriptor,
// proto/containerd-api.json, so the CLI loads a parsed descriptor at start
// instead of parsing .proto files (src/engine/containerd/grpc.ts), with the
// event payloads it decodes.
import { writeFileSync, renameSync } from 'node:fs';
import protobuf from 'protobufjs';

const API = 'github.com/containerd/containerd/api/services';
const services = ['version', 'introspection', 'namespaces/v1/namespace', 'leases', 'content', 'images', 'snapshots', 'diff', 'events', 'containers', 'tasks'];
const files = services.map((s) => (s.includes('/') ? `${API}/${s}.proto` : `${API}/${s}/v1/${s}.proto`));
// Event payloads (the Any in an events Envelope) kiln decodes.
files.push('github.com/containerd/containerd/api/events/image.proto', 'github.com/containerd/containerd/api/events/task.proto', 'github.com/containerd/containerd/api/events/container.proto');
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => `proto/${target}`;
root.loadSync(files, { keepCase: true });
root.resolveAll();
writeFileSync('proto/containerd-api.json.tmp', JSON.stringify(root.toJSON()));
renameSync('proto/containerd-api.json.tmp', 'proto/containerd-api.json');
