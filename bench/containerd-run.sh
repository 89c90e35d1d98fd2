#!/usr/bin/env bash
# `run --rm IMAGE true` on containerd: kiln's containerd backend vs
# `ctr run --rm`, same private containerd, same busybox image (imported by
# kiln, so both find it unpacked), host network for both (ctr has no CNI);
# median of RUNS runs and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib/containerd.sh
runs=${RUNS:-5}
work=$(mktemp -d /var/tmp/kiln-bench-ctdrun.XXXX)
pids=()
cleanup() {
  exec {cfd}>&- 2>/dev/null || true
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
start_containerd ctd
k() { node dist/cli/main.js --root "$work/root" --backend containerd --address "$sock" --namespace k8s.io "$@"; }
busybox=$(node -e "import('./dist/testing/runtime-fixture.js').then((m) => console.log(m.busyboxTar()))")
k import "$busybox" bench/busybox:1 >/dev/null
echo "image: busybox (kiln import); $runs runs each, median; --network host"
for i in $(seq "$runs"); do
  t0=$(now); k run --rm --network host bench/busybox:1 true; t1=$(now)
  echo "$t1 - $t0" | bc >>"$work/kiln"
  t0=$(now); ctr -a "$sock" -n k8s.io run --rm --net-host docker.io/bench/busybox:1 "bench-$i" true; t1=$(now)
  echo "$t1 - $t0" | bc >>"$work/ctr"
done
kt=$(median <"$work/kiln"); ct=$(median <"$work/ctr")
printf 'containerd run --rm true: kiln %.2fs  ctr %.2fs  ratio %.2fx\n' "$kt" "$ct" "$(echo "$kt / $ct" | bc -l)"
