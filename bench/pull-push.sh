#!/usr/bin/env bash
# Pull and push of the debootstrap image against a local registry, kiln vs
# skopeo (docker:// <-> oci:), same work in the same run; prints ratios and
# kiln's peak memory. Each side gets an empty registry / store per run.
# kiln runs as users run it: the one executable dist/kiln, packaged again when
# older than its sources (bench/lib/kiln-exe.sh). KILN_BASE=EXE adds another
# kiln executable (an earlier commit's dist/kiln) to every round, so a change is
# measured against its base under the same load.
# Every side's files (kiln's stores, skopeo's layouts, the registries' storage) are on a journalled ext4 of the
# bench's own (bench/lib/scratch-fs.sh; BENCH_FS=host for the host's filesystem).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/registry.sh
. bench/lib/stats.sh
. bench/lib/scratch-fs.sh
cache=$(bash scripts/test-images.sh --debian)
runs=${RUNS:-5}
work=/var/tmp/kiln-bench-pp.$$
rm -rf "$work"; scratch_fs "$work"
trap 'for d in "$work"/reg*; do stop_registry "$d"; done; scratch_fs_end "$work"' EXIT
. bench/lib/kiln-exe.sh; kiln_exe
k() { "${KILN[@]}" "$@"; }
now() { date +%s.%N; }
# timed NAME CMD...: wall seconds >> $work/NAME, CPU seconds (user + system) >> $work/NAME.cpu, peak RSS KB >> $work/NAME.mem
timed() {
  local name=$1 t0 t1; shift
  t0=$(now); /usr/bin/time -f '%U %S %M' -o "$work/last.time" "$@" >/dev/null; t1=$(now)
  echo "$t1 - $t0" | bc >>"$work/$name"
  awk '{print $1 + $2}' "$work/last.time" >>"$work/$name.cpu"; awk '{print $3}' "$work/last.time" >>"$work/$name.mem"
}

k --root "$work/src" import "$cache/debian-rootfs.tar" bench/debian:1 >/dev/null
size=$(k --root "$work/src" images --format json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s)[0].size))')
echo "image: debootstrap minbase, $((size / 1000000)) MB compressed; $runs interleaved runs each (odd runs kiln first, even runs skopeo first); kiln is ${KILN[*]}; $(scratch_fs_line)"
load0=$(load_line)

# kiln_run I [NAME EXE]: push then pull into an empty store, timed as kpush/kpull (or NAMEpush/NAMEpull)
kiln_run() {
  local i=$1 name=${2:-k} exe=("${@:3}")
  [ ${#exe[@]} -gt 0 ] || exe=("${KILN[@]}")
  # push
  r=$(start_registry "$work/reg-$name$i")
  k --root "$work/src" tag bench/debian:1 "$r/k/debian:1"
  timed "${name}push" "${exe[@]}" --root "$work/src" push -q "$r/k/debian:1"
  # pull, into an empty store
  timed "${name}pull" "${exe[@]}" --root "$work/dst-$name$i" pull -q "$r/k/debian:1"
  stop_registry "$work/reg-$name$i"; rm -rf "$work/reg-$name$i" "$work/dst-$name$i"
}
base_run() { if [ -n "${KILN_BASE:-}" ]; then kiln_run "$1" b "$KILN_BASE"; fi; }
skopeo_run() {
  local i=$1
  # push: skopeo
  r=$(start_registry "$work/reg-s$i")
  timed spush skopeo copy -q --dest-tls-verify=false "oci:$work/src:docker.io/bench/debian:1" "docker://$r/s/debian:1"
  timed spull skopeo copy -q --src-tls-verify=false "docker://$r/s/debian:1" "oci:$work/sdst-$i:debian:1"
  stop_registry "$work/reg-s$i"; rm -rf "$work/reg-s$i" "$work/sdst-$i"
}
for i in $(seq "$runs"); do
  if [ $((i % 2)) = 1 ]; then kiln_run "$i"; skopeo_run "$i"; base_run "$i"; else base_run "$i"; skopeo_run "$i"; kiln_run "$i"; fi
done

echo "load (1/5/15 min): before $load0, after $(load_line)"
echo "pull: kiln $(stat_line "$work/kpull")  skopeo $(stat_line "$work/spull")  $(ratio_line "$work/kpull" "$work/spull") (aim <= 0.8)"
echo "push: kiln $(stat_line "$work/kpush")  skopeo $(stat_line "$work/spush")  $(ratio_line "$work/kpush" "$work/spush") (aim <= 1.0)"
echo "CPU (user + system): pull kiln $(stat_line "$work/kpull.cpu")  skopeo $(stat_line "$work/spull.cpu");  push kiln $(stat_line "$work/kpush.cpu")  skopeo $(stat_line "$work/spush.cpu")"
if [ -n "${KILN_BASE:-}" ]; then
  echo "base ($KILN_BASE): pull $(stat_line "$work/bpull") $(ratio_line "$work/bpull" "$work/spull") vs skopeo, kiln/base $(ratio_line "$work/kpull" "$work/bpull")"
  echo "base ($KILN_BASE): push $(stat_line "$work/bpush") $(ratio_line "$work/bpush" "$work/spush") vs skopeo, kiln/base $(ratio_line "$work/kpush" "$work/bpush")"
  echo "base CPU: pull $(stat_line "$work/bpull.cpu")  push $(stat_line "$work/bpush.cpu")"
fi
mem=$(cat "$work"/kpu*.mem | sort -n | tail -1)
echo "kiln peak memory (RSS): $((mem / 1024)) MB"
