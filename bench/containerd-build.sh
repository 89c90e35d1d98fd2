#!/usr/bin/env bash
# The builder benchmark's Dockerfile (3 RUN + 3 COPY over a $FILES-file context
# on the debootstrap base) made usable by containerd's pods, two ways, same
# containerd, same run:
#   kiln     kiln build --backend containerd: steps run on containerd's own
#            snapshots (each step's upper dir committed as its layer's snapshot),
#            layer blobs straight into containerd's content store, image record
#            with the CRI label; nothing unpacked twice
#   today    buildah bud, buildah push to a local registry, ctr image pull
# Cold builds (--no-cache) each run; medians of $RUNS runs; ratio today/kiln.
# kiln is the packaged dist/kiln (packaged again when older than its sources: bench/lib/kiln-exe.sh),
# or KILN_EXE=PATH. PEER_EXE=PATH: the other side is that kiln (e.g. main's dist/kiln copied), same
# command, own --root, instead of buildah: a before/after pair in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/registry.sh
. bench/lib/build-context.sh
. bench/lib/stats.sh
. bench/lib/scratch-fs.sh
. bench/lib/containerd.sh
cache=$(bash scripts/test-images.sh --debian)
runs=${RUNS:-5}
files=${FILES:-5000}
work=/var/tmp/kiln-bench-ctd-build.$$
rm -rf "$work"; scratch_fs "$work"; mkdir -p "$work/tmp"
B=(buildah --root "$work/buildah/root" --runroot "$work/buildah/run" --storage-driver overlay)
cpid=
cleanup() {
  "${B[@]}" rm --all >/dev/null 2>&1 || true; "${B[@]}" rmi --all --force >/dev/null 2>&1 || true
  # SIGTERM stops it cleanly (shims, mounts, dir); its fifo may be held open by other children.
  [ -n "$cpid" ] && { kill -TERM "$cpid" 2>/dev/null; wait "$cpid" 2>/dev/null || true; }
  stop_registry "$work/reg"; scratch_fs_end "$work"
}
trap cleanup EXIT
now() { date +%s.%N; }
base=docker.io/bench/debian:1

TMPDIR=$work/tmp start_containerd ctd
cpid=$ctd_pid
r=$(start_registry "$work/reg")
# kiln as users run it: the one executable (npm run package, which setup.sh runs), else the module tree.
if [ -n "${KILN_EXE:-}" ]; then KILN=("$KILN_EXE"); else . bench/lib/kiln-exe.sh; kiln_exe; fi
K=("${KILN[@]}" --backend containerd --address "$sock" --root "$work/kiln")
peer=${PEER_EXE:-}
P=("$peer" --backend containerd --address "$sock" --root "$work/peer")

# The base on every side: in containerd (kiln import), in buildah (from kiln's layout), in the registry.
"${KILN[@]}" --root "$work/src" import "$cache/debian-rootfs.tar" "$base" >/dev/null
"${K[@]}" import "$cache/debian-rootfs.tar" "$base" >/dev/null
if [ -z "$peer" ]; then
  "${B[@]}" pull -q "oci:$work/src:$base" >/dev/null
  "${B[@]}" tag "$("${B[@]}" images -q | head -1)" "$base"
fi
ctx=$work/ctx
gen "$ctx" "$files"

kiln_build() {
  t0=$(now)
  "${K[@]}" build -q --no-cache --build-arg "BASE=$base" -t "bench/kiln:$1" "$ctx" >/dev/null
  t1=$(now); echo "$t1 - $t0" | bc >>"$work/t-kiln"
}
today_build() {
  t0=$(now)
  if [ -n "$peer" ]; then
    "${P[@]}" build -q --no-cache --build-arg "BASE=$base" -t "bench/peer:$1" "$ctx" >/dev/null
    t1=$(now); echo "$t1 - $t0" | bc >>"$work/t-today"; return
  fi
  "${B[@]}" bud -q --runtime /usr/sbin/runc --isolation chroot --layers --no-cache --pull-never --format docker \
    --build-arg "BASE=$base" -t "$r/bench/today:$1" "$ctx" >/dev/null
  "${B[@]}" push -q --tls-verify=false "$r/bench/today:$1" >/dev/null
  ctr -a "$sock" -n k8s.io images pull -q --plain-http "$r/bench/today:$1" >/dev/null
  t1=$(now); echo "$t1 - $t0" | bc >>"$work/t-today"
}
load0=$(load_line)
# interleaved, order rotated: odd runs kiln first, even runs the other way first
for i in $(seq "$runs"); do
  if [ $((i % 2)) = 1 ]; then kiln_build "$i"; today_build "$i"; else today_build "$i"; kiln_build "$i"; fi
done
listed=$(ctr -a "$sock" -n k8s.io images ls -q)
case $listed in *bench/kiln:1*) ;; *) echo "kiln's image is not in containerd" >&2; exit 1 ;; esac

echo "into containerd: 3 RUN + 3 COPY over $files files on debootstrap; cold; $runs interleaved runs; $(scratch_fs_line); load (1/5/15 min) before $load0, after $(load_line)"
if [ -n "$peer" ]; then
  echo "kiln build --backend containerd: ${KILN[*]} $(stat_line "$work/t-kiln")   $peer $(stat_line "$work/t-today")"
  echo "peer / kiln: $(ratio_line "$work/t-today" "$work/t-kiln" | sed 's/^ratio //')"
  exit 0
fi
echo "kiln build --backend containerd $(stat_line "$work/t-kiln")   buildah bud + push + ctr pull $(stat_line "$work/t-today")"
echo "today / kiln: $(ratio_line "$work/t-today" "$work/t-kiln" | sed 's/^ratio //') (kiln this many times faster; aim >= 3x)"
