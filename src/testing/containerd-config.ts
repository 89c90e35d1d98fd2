/**
 * The part of a test containerd's config.toml every harness shares: its own
 * root, state, gRPC/ttrpc sockets and opt dir inside `dir`, and the
 * snapshotters and tracing plugins this machine has no use for turned off.
 * Callers append their [debug] section and the plugins' own tables.
 */
import path from 'node:path';

export const tomlString = (s: string): string => JSON.stringify(s);

/** Top-level keys, [grpc], [ttrpc] and `extra` (whole sections), then [plugins] with the opt plugin's table open. */
export function containerdConfigHead(dir: string, extra = ''): string {
  const q = tomlString;
  return `version = 2
root = ${q(path.join(dir, 'root'))}
state = ${q(path.join(dir, 'state'))}
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = ${q(path.join(dir, 'containerd.sock'))}

[ttrpc]
  address = ${q(path.join(dir, 'containerd.sock.ttrpc'))}
${extra}
[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = ${q(path.join(dir, 'opt'))}
`;
}
