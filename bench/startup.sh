#!/usr/bin/env bash
# Start-up of packaged executables side by side: `bench/startup.sh A B` (default
# A = node -e 0's peer, dist/kiln as B) runs --version, ps -a, images, a pull
# of an image already in the store from a loopback registry, a push with
# nothing to send and `run --rm --network none busybox true` with each, paired
# and interleaved (odd rounds A first), and prints CPU (user + system) and
# wall, min and median of RUNS rounds (default 7), with `node -e 0` beside.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/registry.sh
. bench/lib/stats.sh
a=$(realpath "${1:?usage: bench/startup.sh EXE-A EXE-B}"); b=$(realpath "${2:-dist/kiln}")
runs=${RUNS:-7}
cache=${KILN_TEST_CACHE:-/var/cache/kiln-test}
work=$(mktemp -d /var/tmp/kiln-bench.XXXX)
trap 'stop_registry "$work/reg"; rm -rf "$work"' EXIT
r=$(start_registry "$work/reg")
"$b" --root "$work/root" import "$cache/busybox-rootfs.tar" busybox:latest >/dev/null
"$b" --root "$work/root" tag busybox:latest "$r/b/busybox:1"
"$b" --root "$work/root" push -q "$r/b/busybox:1" >/dev/null
# timed NAME CMD...: CPU seconds >> $work/NAME.cpu, wall seconds >> $work/NAME.wall
timed() {
  local name=$1 t0 t1; shift
  t0=$(date +%s.%N); /usr/bin/time -f '%U %S' -o "$work/last.time" "$@" >/dev/null; t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc >>"$work/$name.wall"; awk '{print $1 + $2}' "$work/last.time" >>"$work/$name.cpu"
}
cmds=(version ps images pull push run)
args_of() {
  case $1 in
    version) echo --version ;; ps) echo ps -a ;; images) echo images ;;
    pull) echo pull -q "$r/b/busybox:1" ;; push) echo push -q "$r/b/busybox:1" ;;
    run) echo run --rm --network none busybox true ;;
  esac
}
round() {
  local exe=$1 tag=$2 c
  for c in "${cmds[@]}"; do
    # shellcheck disable=SC2046
    timed "$tag-$c" "$exe" --root "$work/root" $(args_of "$c")
  done
}
load0=$(load_line)
for i in $(seq "$runs"); do
  timed node node -e 0
  if [ $((i % 2)) = 1 ]; then round "$a" A; round "$b" B; else round "$b" B; round "$a" A; fi
done
echo "A: $a"; echo "B: $b"; echo "load (1/5/15 min): before $load0, after $(load_line); $runs paired rounds"
echo "node -e 0: CPU $(stat_line "$work/node.cpu")  wall $(stat_line "$work/node.wall")"
for c in "${cmds[@]}"; do
  echo "$c: CPU A $(stat_line "$work/A-$c.cpu")  B $(stat_line "$work/B-$c.cpu")  B/A $(ratio_line "$work/B-$c.cpu" "$work/A-$c.cpu")"
  echo "$c: wall A $(stat_line "$work/A-$c.wall")  B $(stat_line "$work/B-$c.wall")  B/A $(ratio_line "$work/B-$c.wall" "$work/A-$c.wall")"
done
