#!/usr/bin/env bash
# kiln build vs buildah bud, same work in the same run, on the debootstrap base:
#   cold       --no-cache build (base stored and unpacked) of 3 RUN + 3 COPY over a
#              generated context of $FILES files (default 5,000)
#   no-change  the same build again, everything cached
#   one-file   rebuild after one source file (in the second COPY) changed
# Medians of $RUNS runs (default 3), ratios kiln/buildah; then how cold and
# no-change times grow with the context: $SCALE files (default 1000 10000 100000).
# buildah: Debian's, --runtime /usr/sbin/runc, chroot isolation, overlay storage
# in a temp root, --layers (one layer per step, as Docker and kiln).
set -euo pipefail
cd "$(dirname "$0")/.."
cache=$(bash scripts/test-images.sh --debian)
runs=${RUNS:-3}
files=${FILES:-5000}
scale=${SCALE:-1000 10000 100000}
work=/var/tmp/kiln-bench-build.$$   # lowercase: buildah names an oci: pull after its path
rm -rf "$work"; mkdir -p "$work"
kroot=$work/kiln
B=(buildah --root "$work/buildah/root" --runroot "$work/buildah/run" --storage-driver overlay)
# buildah's overlay driver bind-mounts its layer directory onto itself: unmount it before removing.
trap '"${B[@]}" rm --all >/dev/null 2>&1 || true; umount "$work/buildah/root/overlay" 2>/dev/null || true; rm -rf "$work"' EXIT
base=docker.io/bench/debian:1
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { echo "$1 / $2" | bc -l; }

# The base, stored on both sides: imported by kiln, copied from kiln's OCI layout into buildah's storage.
node dist/cli/main.js --root "$kroot" import "$cache/debian-rootfs.tar" "$base" >/dev/null
"${B[@]}" pull -q "oci:$kroot:$base" >/dev/null
"${B[@]}" tag "$("${B[@]}" images -q | head -1)" "$base"

. bench/lib/build-context.sh

kb() { node dist/cli/main.js --root "$kroot" build -q --build-arg "BASE=$base" -t bench/app:1 "$@" >/dev/null; }
bb() { "${B[@]}" bud -q --runtime /usr/sbin/runc --isolation chroot --layers --pull-never --format docker --build-arg "BASE=$base" -t bench/app:1 "$@" >/dev/null; }
timed() { local t0 t1; t0=$(now); "$@"; t1=$(now); echo "$t1 - $t0" | bc; }
# sample OUT CMD...: one timing appended to OUT; a failure is recorded as "fail".
sample() { local out=$1; shift; local t; if t=$(timed "$@"); then echo "$t" >>"$out"; else echo fail >>"$out"; fi; }
fmt() { grep -q fail "$1" && echo fail || printf '%.2f' "$(median <"$1")"; }
line() { # line NAME KILN_FILE BUILDAH_FILE AIM
  local k b; k=$(fmt "$2"); b=$(fmt "$3")
  if [ "$k" = fail ] || [ "$b" = fail ]; then printf '%-10s kiln %s  buildah %s\n' "$1" "$k" "$b"; return; fi
  printf '%-10s kiln %6.2fs  buildah %6.2fs  ratio %.2fx  (aim %s)\n' "$1" "$k" "$b" "$(ratio "$k" "$b")" "$4"
}

ctx=$work/ctx
gen "$ctx" "$files"
kb "$ctx" || echo "warning: kiln's warm-up build failed" >&2
bb "$ctx"
for i in $(seq "$runs"); do
  sample "$work/k-cold" kb --no-cache "$ctx"
  sample "$work/b-cold" bb --no-cache "$ctx"
  sample "$work/k-none" kb "$ctx"
  sample "$work/b-none" bb "$ctx"
  echo "changed $i" >>"$ctx/src/b/d07/f22.txt"
  sample "$work/k-one" kb "$ctx"
  "${B[@]}" rm --all >/dev/null 2>&1 || true
  echo "changed again $i" >>"$ctx/src/b/d07/f22.txt"
  sample "$work/b-one" bb "$ctx"
done
echo "build: debootstrap base, 3 RUN + 3 COPY, $files-file context; median of $runs runs"
line cold "$work/k-cold" "$work/b-cold" "<= 0.8x"
line no-change "$work/k-none" "$work/b-none" "< 0.3 s and <= 0.5x"
line one-file "$work/k-one" "$work/b-one" "<= 0.5x"

echo "scaling (one run each): files  kiln cold / no-change   buildah cold / no-change"
for n in $scale; do
  gen "$ctx" "$n"
  rm -f "$work"/s-*
  kb "$ctx" >/dev/null 2>&1 || true
  sample "$work/s-kc" kb --no-cache "$ctx"; sample "$work/s-kn" kb "$ctx"
  sample "$work/s-bc" bb --no-cache "$ctx"; sample "$work/s-bn" bb "$ctx"
  printf '  %7d  %7ss / %-7s  %7ss / %-7s\n' "$n" "$(fmt "$work/s-kc")" "$(fmt "$work/s-kn")s" "$(fmt "$work/s-bc")" "$(fmt "$work/s-bn")s"
done
