#!/usr/bin/env bash
# Start-up of the gRPC commands of two packaged executables side by side:
# `bench/grpc-start.sh A B` (B defaults to dist/kiln) runs, RUNS rounds
# (default 9, odd rounds A first):
#   remote      `kiln --host tcp://… images` through each one's own agent (TCP + mutual TLS on loopback,
#               its own root and certificates, busybox imported): the remote client's fixed start
#   local       `kiln images` on a local store with the same image, for scale
#   containerd  `kiln --backend containerd images` on one private containerd (the test harness's)
# and prints CPU (user + system) and wall of each command, min and median, and the per-round ratios B/A,
# with the load beside them.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib/stats.sh
. bench/lib/containerd.sh
a=$(realpath "${1:?usage: bench/grpc-start.sh EXE-A [EXE-B]}"); b=$(realpath "${2:-dist/kiln}")
runs=${RUNS:-9}
cache=${KILN_TEST_CACHE:-/var/cache/kiln-test}
work=$(mktemp -d /var/tmp/kiln-bench-grpc.XXXX)
pids=()
cleanup() {
  [ -n "${cfd:-}" ] && exec {cfd}>&-
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
# agent TAG EXE: EXE's agent on a free loopback port, its root in $work/TAG-agent; sets port_TAG.
agent() {
  local tag=$1 exe=$2 port
  "$exe" --root "$work/$tag-agent" import "$cache/busybox-rootfs.tar" busybox:latest >/dev/null
  port=$(free_port)
  ( exec "$exe" --root "$work/$tag-agent" agent --listen "tcp://127.0.0.1:$port" >"$work/$tag-agent.log" 2>&1 ) &
  pids+=($!)
  for _ in $(seq 300); do grep -qs '^ready' "$work/$tag-agent.log" && break; sleep 0.1; done
  grep -qs '^ready' "$work/$tag-agent.log" || { cat "$work/$tag-agent.log"; exit 1; }
  printf -v "port_$tag" %s "$port"
}
agent A "$a"
agent B "$b"
"$b" --root "$work/local" import "$cache/busybox-rootfs.tar" busybox:latest >/dev/null
# A private containerd (stops when its stdin, held open on $cfd, closes), busybox imported into its namespace.
start_containerd ctd
"$b" --backend containerd --address "$sock" import "$cache/busybox-rootfs.tar" busybox:latest >/dev/null
# timed NAME CMD...: CPU seconds (user + system, from wait4: finer than /usr/bin/time's 10 ms) >> $work/NAME.cpu,
# wall seconds >> $work/NAME.wall
timed() {
  local name=$1; shift
  python3 -c '
import os, subprocess, sys, time
t0 = time.monotonic(); p = subprocess.Popen(sys.argv[3:], stdout=subprocess.DEVNULL)
_, status, ru = os.wait4(p.pid, 0); t1 = time.monotonic()
if status: sys.exit("bench: %s failed" % " ".join(sys.argv[3:]))
open(sys.argv[1], "a").write("%.4f\n" % (t1 - t0)); open(sys.argv[2], "a").write("%.4f\n" % (ru.ru_utime + ru.ru_stime))
' "$work/$name.wall" "$work/$name.cpu" "$@"
}
round() {
  local tag=$1 exe=$2 port_var=port_$1
  KILN_HOST=tcp://127.0.0.1:${!port_var} KILN_CERT_PATH=$work/$tag-agent/agent/tls timed "$tag-remote" "$exe" --root "$work/$tag-client" images
  timed "$tag-local" "$exe" --root "$work/local" images
  timed "$tag-containerd" "$exe" --backend containerd --address "$sock" images
}
load0=$(load_line)
for i in $(seq "$runs"); do
  if [ $((i % 2)) = 1 ]; then round A "$a"; round B "$b"; else round B "$b"; round A "$a"; fi
done
echo "A: $a"; echo "B: $b"; echo "load (1/5/15 min): before $load0, after $(load_line); $runs paired rounds"
# ms_line FILE: "min X ms median Y ms" (stats.sh's stat_line rounds to 10 ms)
ms_line() { sort -n "$1" | awk '{a[NR]=$1} END {printf "min %3.0f ms median %3.0f ms", a[1] * 1000, a[int((NR+1)/2)] * 1000}'; }
for c in remote local containerd; do
  echo "$c images: CPU A $(ms_line "$work/A-$c.cpu")  B $(ms_line "$work/B-$c.cpu")  B/A $(ratio_line "$work/B-$c.cpu" "$work/A-$c.cpu")"
  echo "$c images: wall A $(ms_line "$work/A-$c.wall")  B $(ms_line "$work/B-$c.wall")  B/A $(ratio_line "$work/B-$c.wall" "$work/A-$c.wall")"
done
