#!/usr/bin/env bash
# kiln executor vs kiln build vs buildah bud, same work in the same run, on the
# debootstrap base (kaniko#875: 10 RUN steps; kaniko#1392: a fully cached rebuild):
#   cold      every step run: kiln build --no-cache (base stored, unpacked once);
#             executor with a fresh state dir and root (pulls the base from a
#             loopback registry, unpacks it into the root, runs, snapshots);
#             executor --no-cache with the base already in its store
#   cached    the same build again, every step from the cache
#   new pod   the executor on a fresh state dir with --cache --cache-repo: every step from the registry cache
# Medians of $RUNS runs (default 3). The executor runs on the host with --root
# DIR (RUN steps through chroot); in a container it runs the same code on /.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/registry.sh
cache=$(bash scripts/test-images.sh --debian)
runs=${RUNS:-3}
work=/var/tmp/kiln-bench-executor.$$
rm -rf "$work"; mkdir -p "$work"
kroot=$work/kiln
B=(buildah --root "$work/buildah/root" --runroot "$work/buildah/run" --storage-driver overlay)
trap '"${B[@]}" rm --all >/dev/null 2>&1 || true; umount "$work/buildah/root/overlay" 2>/dev/null || true; stop_registry "$work/reg"; rm -rf "$work"' EXIT
reg=$(start_registry "$work/reg")
base=$reg/bench/debian:1
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timed() { local t0 t1; t0=$(now); "$@" >/dev/null 2>"$work/last.err" || { cat "$work/last.err" >&2; return 1; }; t1=$(now); echo "$t1 - $t0" | bc; }
sample() { local out=$1; shift; local t; if t=$(timed "$@"); then echo "$t" >>"$out"; else echo fail >>"$out"; fi; }
fmt() { grep -q fail "$1" && echo fail || printf '%.2f' "$(median <"$1")"; }

node dist/cli/main.js --root "$kroot" import "$cache/debian-rootfs.tar" "$base" >/dev/null
node dist/cli/main.js --root "$kroot" push "$base" >/dev/null
"${B[@]}" pull -q "oci:$kroot:$base" >/dev/null
"${B[@]}" tag "$("${B[@]}" images -q | head -1)" "$base"

ctx=$work/ctx
mkdir -p "$ctx"
{
  echo "FROM $base"
  for i in $(seq 10); do
    echo "RUN mkdir -p /opt/s$i && cp -a /usr/share/doc /opt/s$i/doc && seq 1 500000 > /opt/s$i/blob && rm -rf /opt/s$((i - 1))/doc"
  done
} >"$ctx/Dockerfile"

kb() { node dist/cli/main.js --root "$kroot" build -q -t bench/app:1 "$@" "$ctx"; }
bb() { "${B[@]}" bud -q --runtime /usr/sbin/runc --isolation chroot --layers --pull-never --format docker -t bench/app:1 "$@" "$ctx"; }
ex() { local state=$1; shift; node dist/cli/main.js --root "$kroot" executor --context "dir://$ctx" --root "$state/root" --state-dir "$state/kiln" --no-push "$@"; }
fresh() { rm -rf "$work/ex-fresh"; ex "$work/ex-fresh"; }
# A new pod with --cache: nothing local, every step from the registry cache (kaniko#1392's rebuild).
remote() { rm -rf "$work/ex-remote"; ex "$work/ex-remote" --cache --cache-repo "$reg/bench/cache"; }

kb >/dev/null; bb >/dev/null; ex "$work/ex" >/dev/null; remote >/dev/null 2>&1
for i in $(seq "$runs"); do
  sample "$work/k-cold" kb --no-cache
  sample "$work/b-cold" bb --no-cache
  sample "$work/e-fresh" fresh
  sample "$work/e-cold" ex "$work/ex" --no-cache
  sample "$work/k-cached" kb
  sample "$work/b-cached" bb
  sample "$work/e-cached" ex "$work/ex"
  sample "$work/e-remote" remote
done
echo "executor: debootstrap base ($(du -sh "$cache/debian-rootfs.tar" | cut -f1) tar), 10 RUN steps; median of $runs runs"
printf 'cold      kiln build %6ss  executor %6ss (fresh state: pull + unpack + run %ss)  buildah %6ss  executor/kiln build %.2fx (aim <= 1.3x)\n' \
  "$(fmt "$work/k-cold")" "$(fmt "$work/e-cold")" "$(fmt "$work/e-fresh")" "$(fmt "$work/b-cold")" "$(echo "$(fmt "$work/e-cold") / $(fmt "$work/k-cold")" | bc -l)"
printf 'cached    kiln build %6ss  executor %6ss  buildah %6ss  (aim: executor < 2 s)\n' "$(fmt "$work/k-cached")" "$(fmt "$work/e-cached")" "$(fmt "$work/b-cached")"
printf 'new pod   executor --cache (fresh state: base pulled, every step from the registry cache) %6ss\n' "$(fmt "$work/e-remote")"
