#!/usr/bin/env bash
# Copies the containerd API .proto files kiln's containerd backend loads at
# run time (and their gogo/google imports) from Debian's Go source packages
# (golang-github-containerd-containerd-dev and its gogo dependencies) into
# proto/, which the packaged CLI carries, and kiln's own agent API
# (src/engine/remote/agent.proto) beside them; the containerd services are
# compiled into proto/containerd-api.json (scripts/protos-json.mjs), the
# descriptor the CLI loads. Nothing here is hand-written.
set -euo pipefail
cd "$(dirname "$0")/.."
agent() { mkdir -p proto/kiln/agent/v1 && cp src/engine/remote/agent.proto proto/kiln/agent/v1/; }
src=${KILN_GOCODE:-/usr/share/gocode/src}
ctd=$src/github.com/containerd/containerd
if [ ! -d "$ctd/api" ]; then
  if [ -d proto/github.com/containerd/containerd/api ]; then
    agent
    [ -f proto/containerd-api.json ] || node scripts/protos-json.mjs
    exit 0
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
rm -rf "$out" && mv "$out.tmp" "$out"
agent
node scripts/protos-json.mjs
