#!/usr/bin/env bash
# Pull of the debootstrap image from a local registry into containerd (CRI
# namespace k8s.io, unpacked into overlayfs, ready for a pod): kiln's
# containerd backend vs `ctr image pull`, each into a fresh containerd per
# run, same registry, same image; median of RUNS runs and the ratio.
# kiln runs as users run it: the one executable dist/kiln, packaged again when
# older than its sources (bench/lib/kiln-exe.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/registry.sh
cache=$(bash scripts/test-images.sh --debian)
runs=${RUNS:-3}
work=$(mktemp -d /var/tmp/kiln-bench-ctd.XXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  stop_registry "$work/reg"; rm -rf "$work"
}
trap cleanup EXIT
. bench/lib/kiln-exe.sh; kiln_exe
. bench/lib/containerd.sh
k() { "${KILN[@]}" "$@"; }
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

r=$(start_registry "$work/reg")
k --root "$work/src" import "$cache/debian-rootfs.tar" "$r/bench/debian:1" >/dev/null
k --root "$work/src" push -q "$r/bench/debian:1" >/dev/null
echo "image: debootstrap minbase from $r; $runs runs each, median; each into a fresh containerd, unpacked into overlayfs"

for i in $(seq "$runs"); do
  start_containerd "k$i"
  t0=$(now); k --backend containerd --address "$sock" pull -q "$r/bench/debian:1" >/dev/null; t1=$(now)
  echo "$t1 - $t0" | bc >>"$work/kiln"
  ctr -a "$sock" -n k8s.io run --rm "$r/bench/debian:1" "bench-k$i" /bin/true
  stop_containerd
  start_containerd "c$i"
  t0=$(now); ctr -a "$sock" -n k8s.io images pull -q --plain-http "$r/bench/debian:1" >/dev/null; t1=$(now)
  echo "$t1 - $t0" | bc >>"$work/ctr"
  stop_containerd
done

kt=$(median <"$work/kiln"); ct=$(median <"$work/ctr")
printf 'containerd pull: kiln %.2fs  ctr %.2fs  ratio %.2fx\n' "$kt" "$ct" "$(echo "$kt / $ct" | bc -l)"
