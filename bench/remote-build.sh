#!/usr/bin/env bash
# kiln build through a kiln agent (TCP + mutual TLS on loopback) vs the same
# build with the local engine: a ~50 MB context (5,000 small files + 4 x 10 MB
# binaries) on busybox, 3 RUN + 3 COPY.
#   first     the first remote build of the context: everything is uploaded
#   one-file  one small file changed, built again: only that file is uploaded
#   no-change built again, nothing changed
# Bytes uploaded are the client's count (--metadata-file kiln.context.upload;
# `kiln -D build` prints the same); the aim for one-file is < 1 MB. The peer
# is the local build of the same context (ratio remote/local) and the size a
# context tarball (what a tar-per-build client would send) has.
set -euo pipefail
cd "$(dirname "$0")/.."
cache=$(bash scripts/test-images.sh)
work=/var/tmp/kiln-bench-rbuild.$$
rm -rf "$work"; mkdir -p "$work"
aroot=$work/agent-root
lroot=$work/local-root
agent_pid=
trap '[ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
base=docker.io/bench/busybox:1
now() { date +%s.%N; }
timed() { local t0 t1; t0=$(now); "$@" >/dev/null; t1=$(now); echo "$t1 - $t0" | bc; }

node dist/cli/main.js --root "$aroot" import "$cache/busybox-rootfs.tar" "$base" >/dev/null
node dist/cli/main.js --root "$lroot" import "$cache/busybox-rootfs.tar" "$base" >/dev/null

. bench/lib/build-context.sh
ctx=$work/ctx
gen "$ctx" 5000
for i in 1 2 3 4; do head -c 10000000 /dev/urandom >"$ctx/src/blob$i.bin"; done
size=$(du -sb "$ctx" | cut -f1)
tarsize=$(tar -C "$ctx" -cf - . | wc -c)

port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
node dist/cli/main.js --root "$aroot" agent --listen "tcp://127.0.0.1:$port" >"$work/agent.log" 2>&1 &
agent_pid=$!
for _ in $(seq 600); do grep -q '^ready' "$work/agent.log" && break; sleep 0.1; done
grep -q '^ready' "$work/agent.log" || { cat "$work/agent.log"; exit 1; }
export XDG_CACHE_HOME=$work/client-cache
rb() { KILN_HOST=tcp://127.0.0.1:$port KILN_CERT_PATH=$aroot/agent/tls node dist/cli/main.js --root "$work/client-root" build -q --build-arg "BASE=$base" --metadata-file "$work/meta.json" -t bench/app:1 "$ctx"; }
lb() { node dist/cli/main.js --root "$lroot" build -q --build-arg "BASE=$base" -t bench/app:1 "$ctx"; }
up() { node -e 'const u=require(process.argv[1])["kiln.context.upload"]; console.log(`${u.bytes} bytes in ${u.files} files (+ manifest ${u.manifestBytes} bytes)`)' "$work/meta.json"; }
mb() { echo "scale=2; $1 / 1000000" | bc; }

t_first=$(timed rb); u_first=$(up)
t_lfirst=$(timed lb)
echo "changed" >>"$ctx/src/b/d07/f22.txt"
t_one=$(timed rb); u_one=$(up)
t_lone=$(timed lb)
# no-change: 5 rounds, remote and local interleaved (order alternating); medians and the median of the paired ratios
nr=(); nl=(); np=()
for i in 1 2 3 4 5; do
  if (( i % 2 )); then r=$(timed rb); l=$(timed lb); else l=$(timed lb); r=$(timed rb); fi
  nr+=("$r"); nl+=("$l"); np+=("$(echo "$r / $l" | bc -l)")
done
u_none=$(up)
med() { printf '%s\n' "$@" | sort -g | sed -n 3p; }
t_none=$(med "${nr[@]}"); t_lnone=$(med "${nl[@]}"); p_none=$(med "${np[@]}")
echo "remote build: agent over TCP+mTLS on loopback, $(mb "$size") MB context ($(mb "$tarsize") MB as a tarball), busybox, 3 RUN + 3 COPY"
printf '%-10s remote %6.2fs  local %6.2fs  ratio %.2fx  uploaded %s\n' first "$t_first" "$t_lfirst" "$(echo "$t_first / $t_lfirst" | bc -l)" "$u_first"
printf '%-10s remote %6.2fs  local %6.2fs  ratio %.2fx  uploaded %s  (aim < 1 MB)\n' one-file "$t_one" "$t_lone" "$(echo "$t_one / $t_lone" | bc -l)" "$u_one"
printf '%-10s remote %6.2fs  local %6.2fs  ratio %.2fx (median of 5 paired; min remote %.2fs, local %.2fs)  uploaded %s\n' no-change "$t_none" "$t_lnone" "$p_none" "$(printf '%s\n' "${nr[@]}" | sort -g | head -1)" "$(printf '%s\n' "${nl[@]}" | sort -g | head -1)" "$u_none"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
