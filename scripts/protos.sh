#!/usr/bin/env bash
# Copies the containerd API .proto files kiln's containerd backend calls (and
# their gogo/google imports) from Debian's Go source packages
# (golang-github-containerd-containerd-dev and its gogo dependencies) into
# proto/, and kiln's own agent API (src/engine/remote/agent.proto) beside
# them; scripts/protos-static.mjs then generates protobuf.js static code from
# them (proto/agent-api.cjs, proto/containerd-api.cjs: `#proto/…` in
# package.json's imports), which is what kiln runs. Nothing here is
# hand-written; proto/ is build output (gitignored).
set -euo pipefail
cd "$(dirname "$0")/.."
agent() { mkdir -p "$1/kiln/agent/v1" && cp src/engine/remote/agent.proto "$1/kiln/agent/v1/"; }
src=${KILN_GOCODE:-/usr/share/gocode/src}
ctd=$src/github.com/containerd/containerd
if [ ! -d "$ctd/api" ]; then
  if [ -d proto/github.com/containerd/containerd/api ]; then
    agent proto
    exec node scripts/protos-static.mjs
  fi
  echo "protos: $ctd/api is missing; install golang-github-containerd-containerd-dev (scripts/setup.sh does)" >&2
  exit 1
fi
out=proto
rm -rf "$out.tmp" && mkdir -p "$out.tmp"
copy() { mkdir -p "$out.tmp/$2" && cp "$1" "$out.tmp/$2/"; }
for f in $(cd "$ctd/api" && ls services/{version,introspection,namespaces,leases,content,images,snapshots,diff,events,containers,tasks}/v1/*.proto \
           types/{descriptor,mount,platform,metrics}.proto types/task/task.proto events/*.proto); do
  copy "$ctd/api/$f" "github.com/containerd/containerd/api/$(dirname "$f")"
done
copy "$ctd/protobuf/plugin/fieldpath.proto" github.com/containerd/containerd/protobuf/plugin
copy "$src/github.com/gogo/protobuf/gogoproto/gogo.proto" gogoproto
for f in any empty timestamp field_mask descriptor; do
  copy "$src/github.com/gogo/protobuf/protobuf/google/protobuf/$f.proto" google/protobuf
done
copy "$src/github.com/gogo/googleapis/google/rpc/status.proto" google/rpc
agent "$out.tmp"
# The generated code of the last run comes along: protos-static.mjs regenerates it only when an input changed.
for f in "$out"/*.cjs "$out"/*.d.cts "$out"/static.sha256; do if [ -f "$f" ]; then cp "$f" "$out.tmp/"; fi; done
rm -rf "$out" && mv "$out.tmp" "$out"
node scripts/protos-static.mjs
