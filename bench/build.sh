#!/usr/bin/env bash
# kiln build vs Docker's BuildKit (Debian's dockerd 20.10, bench/lib/dockerd.sh) and buildah bud,
# same work in the same run, on the debootstrap base:
#   cold       --no-cache build (base stored and unpacked) of 3 RUN + 3 COPY over a
#              generated context of $FILES files (default 5,000)
#   no-change  the same build again, everything cached
#   one-file   rebuild after one source file (in the second COPY) changed
# Medians (and minimums) of $RUNS runs (default 3), ratios kiln/BuildKit and kiln/buildah; then how cold and
# no-change times grow with the context: $SCALE files (default 1000 10000 100000).
# buildah: Debian's, --runtime /usr/sbin/runc, chroot isolation, overlay storage
# in a temp root, --layers (one layer per step, as Docker and kiln).
# BuildKit: `docker build --network host` (its daemon has no bridge), base loaded with `docker load`.
# Every side's files (dockerd's data root, buildah's storage, kiln's store, the context) are on a journalled ext4
# of the bench's own (bench/lib/scratch-fs.sh; BENCH_FS=host for the host's filesystem).
set -euo pipefail
cd "$(dirname "$0")/.."
cache=$(bash scripts/test-images.sh --debian)
runs=${RUNS:-3}
files=${FILES:-5000}
scale=${SCALE:-1000 10000 100000}
work=/var/tmp/kiln-bench-build.$$   # lowercase: buildah names an oci: pull after its path
rm -rf "$work"
. bench/lib/scratch-fs.sh
scratch_fs "$work"
kroot=$work/kiln
B=(buildah --root "$work/buildah/root" --runroot "$work/buildah/run" --storage-driver overlay)
# buildah's overlay driver bind-mounts its layer directory onto itself: unmount it before removing.
. bench/lib/dockerd.sh
trap '"${B[@]}" rm --all >/dev/null 2>&1 || true; umount "$work/buildah/root/overlay" 2>/dev/null || true; stop_dockerd "$work/docker"; scratch_fs_end "$work"' EXIT
base=docker.io/bench/debian:1
# kiln as users run it: the one executable, packaged again when older than its sources.
. bench/lib/kiln-exe.sh; kiln_exe
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { echo "$1 / $2" | bc -l; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

# The base, stored on every side: imported by kiln, copied from kiln's OCI layout into buildah's storage,
# saved by kiln and loaded into dockerd.
"${KILN[@]}" --root "$kroot" import "$cache/debian-rootfs.tar" "$base" >/dev/null
start_dockerd "$work/docker"
"${KILN[@]}" --root "$kroot" save "$base" | "$DOCKER" load -q >/dev/null
"${B[@]}" pull -q "oci:$kroot:$base" >/dev/null
"${B[@]}" tag "$("${B[@]}" images -q | head -1)" "$base"

. bench/lib/build-context.sh

kb() { "${KILN[@]}" --root "$kroot" build -q --build-arg "BASE=$base" -t bench/app:1 "$@" >/dev/null; }
db() { "$DOCKER" build -q --network host --build-arg "BASE=$base" -t bench/app:1 "$@" >/dev/null; }
bb() { "${B[@]}" bud -q --runtime /usr/sbin/runc --isolation chroot --layers --pull-never --format docker --build-arg "BASE=$base" -t bench/app:1 "$@" >/dev/null; }
timed() { local t0 t1; t0=$(now); "$@"; t1=$(now); echo "$t1 - $t0" | bc; }
# sample OUT CMD...: one timing appended to OUT; a failure is recorded as "fail".
sample() { local out=$1; shift; local t; if t=$(timed "$@"); then echo "$t" >>"$out"; else echo fail >>"$out"; fi; }
fmt() { grep -q fail "$1" && echo fail || printf '%.2f' "$(median <"$1")"; }
least() { sort -n "$1" | head -1; }
runs() { xargs printf '%.2f ' <"$1"; }
line() { # line NAME KILN_FILE BUILDKIT_FILE BUILDAH_FILE AIM
  local k d b; k=$(fmt "$2"); d=$(fmt "$3"); b=$(fmt "$4")
  if [ "$k" = fail ] || [ "$d" = fail ] || [ "$b" = fail ]; then printf '%-10s kiln %s  BuildKit %s  buildah %s\n' "$1" "$k" "$d" "$b"; return; fi
  printf '%-10s kiln %6.2fs  BuildKit %6.2fs  buildah %6.2fs  kiln/BuildKit %.2fx  kiln/buildah %.2fx  (aim vs BuildKit %s)\n' \
    "$1" "$k" "$d" "$b" "$(ratio "$k" "$d")" "$(ratio "$k" "$b")" "$5"
  printf '%-10s min: kiln %6.2fs  BuildKit %6.2fs  buildah %6.2fs  kiln/BuildKit %.2fx\n' '' "$(least "$2")" "$(least "$3")" "$(least "$4")" "$(ratio "$(least "$2")" "$(least "$3")")"
  # Each run's time in run order: a median far above the min says which runs were slow (noise, or what ran before).
  printf '%-10s runs: kiln %s  BuildKit %s\n' '' "$(runs "$2")" "$(runs "$3")"
}

ctx=$work/ctx
gen "$ctx" "$files"
kb "$ctx" || echo "warning: kiln's warm-up build failed" >&2
db "$ctx"
bb "$ctx"
echo "load before: $(load)"
# Cold builds in an order rotated each round: on the host's filesystem (ext4 without a journal here, BENCH_FS=host)
# new files are slower for a minute or more after many deletions (buildah's `rm --all` below), so whichever tool
# went first always paid it.
cold=("k kb" "d db" "b bb")
for i in $(seq "$runs"); do
  for j in 0 1 2; do
    set -- ${cold[$(( (i + j) % 3 ))]}
    sample "$work/$1-cold" "$2" --no-cache "$ctx"
  done
  sample "$work/k-none" kb "$ctx"
  sample "$work/d-none" db "$ctx"
  sample "$work/b-none" bb "$ctx"
  echo "changed $i" >>"$ctx/src/b/d07/f22.txt"
  sample "$work/k-one" kb "$ctx"
  echo "changed for BuildKit $i" >>"$ctx/src/b/d07/f22.txt"
  sample "$work/d-one" db "$ctx"
  "${B[@]}" rm --all >/dev/null 2>&1 || true
  echo "changed again $i" >>"$ctx/src/b/d07/f22.txt"
  sample "$work/b-one" bb "$ctx"
done
echo "build: debootstrap base, 3 RUN + 3 COPY, $files-file context; median of $runs runs; $(scratch_fs_line); load after: $(load)"
line cold "$work/k-cold" "$work/d-cold" "$work/b-cold" "<= 0.8x"
line no-change "$work/k-none" "$work/d-none" "$work/b-none" "<= 0.8x"
line one-file "$work/k-one" "$work/d-one" "$work/b-one" "<= 0.6x"

echo "scaling (one run each): files  kiln cold / no-change   buildah cold / no-change"
for n in $scale; do
  gen "$ctx" "$n"
  rm -f "$work"/s-*
  kb "$ctx" >/dev/null 2>&1 || true
  sample "$work/s-kc" kb --no-cache "$ctx"; sample "$work/s-kn" kb "$ctx"
  sample "$work/s-bc" bb --no-cache "$ctx"; sample "$work/s-bn" bb "$ctx"
  printf '  %7d  %7ss / %-7s  %7ss / %-7s\n' "$n" "$(fmt "$work/s-kc")" "$(fmt "$work/s-kn")s" "$(fmt "$work/s-bc")" "$(fmt "$work/s-bn")s"
done
