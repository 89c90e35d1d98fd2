#!/usr/bin/env bash
# The registry-cache hit: a fresh root builds with --cache-from a warm registry cache, 3 RUN + 3 COPY
# over a generated context of $FILES files (default 5,000; bench/lib/build-context.sh), debootstrap base.
# Both sides start empty each run: the base is pulled from the same local registry, nothing is cached
# locally, and the cache (mode=max, made once by the same tool) is read from that registry.
#   kiln:      kiln --root FRESH build --cache-from REG/cache/kiln:max
#   BuildKit:  buildctl build --import-cache type=registry,ref=REG/cache/bk:max --output type=image (no push),
#              against buildkitd 0.34 (docker buildx's engine; scripts/buildkit-build.sh) after `buildctl prune --all`
# Medians of $RUNS runs (default 3); prints the ratio (aim <= 0.7x).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/registry.sh
cache=$(bash scripts/test-images.sh --debian)
bk=$(bash scripts/buildkit-build.sh)
runs=${RUNS:-3}
files=${FILES:-5000}
work=/var/tmp/kiln-bench-cache-hit.$$
rm -rf "$work"; mkdir -p "$work"
bkpid=
cleanup() {
  [ -n "$bkpid" ] && kill "$bkpid" 2>/dev/null && wait "$bkpid" 2>/dev/null || true
  grep -o " $work/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  stop_registry "$work/reg" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
. bench/lib/kiln-exe.sh; kiln_exe
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

reg=$(start_registry "$work/reg")
base=$reg/bench/debian:1
"${KILN[@]}" --root "$work/seed" import "$cache/debian-rootfs.tar" "$base" >/dev/null
"${KILN[@]}" --root "$work/seed" push -q "$base" >/dev/null

printf '[registry."%s"]\n  http = true\n  insecure = true\n' "$reg" >"$work/buildkitd.toml"
"$bk/buildkitd" --config "$work/buildkitd.toml" --root "$work/bk" --addr "unix://$work/bk.sock" \
  --oci-worker=true --containerd-worker=false --oci-worker-net=host >"$work/buildkitd.log" 2>&1 &
bkpid=$!
B=("$bk/buildctl" --addr "unix://$work/bk.sock")
for _ in $(seq 100); do "${B[@]}" debug workers >/dev/null 2>&1 && break; sleep 0.2; done

. bench/lib/build-context.sh
ctx=$work/ctx
gen "$ctx" "$files"
kb() { "${KILN[@]}" --root "$1" build -q --build-arg "BASE=$base" "${@:2}" "$ctx" >/dev/null; }
bb() { "${B[@]}" build --frontend dockerfile.v0 --local "context=$ctx" --local "dockerfile=$ctx" --opt "build-arg:BASE=$base" "$@" >/dev/null 2>&1; }

# Warm caches, each made once by its own tool.
kb "$work/warm" --cache-to "type=registry,ref=$reg/cache/kiln:max,mode=max"
bb --export-cache "type=registry,ref=$reg/cache/bk:max,mode=max" --output "type=image,name=$reg/bench/app:bk"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq "$runs"); do
  rm -rf "$work/fresh"
  t0=$(now); kb "$work/fresh" --cache-from "$reg/cache/kiln:max"; t1=$(now)
  echo "$t1 - $t0" | bc >>"$work/k"
  "${B[@]}" prune --all >/dev/null
  t0=$(now); bb --import-cache "type=registry,ref=$reg/cache/bk:max" --output "type=image,name=$reg/bench/app:bk"; t1=$(now)
  echo "$t1 - $t0" | bc >>"$work/b"
done
k=$(median <"$work/k"); b=$(median <"$work/b")
cached=$("${KILN[@]}" --root "$work/fresh2" build --progress=plain --build-arg "BASE=$base" --cache-from "$reg/cache/kiln:max" "$ctx" 2>&1 >/dev/null | grep -c '^#[0-9]* CACHED$' || true)
echo "registry-cache hit: fresh root, debootstrap base pulled, 3 RUN + 3 COPY over $files files; median of $runs runs; load after: $(cut -d' ' -f1-3 /proc/loadavg)"
printf 'cache-hit  kiln %6.2fs (%s steps cached)  BuildKit 0.34 %6.2fs  kiln/BuildKit %.2fx  (aim <= 0.7x)\n' "$k" "$cached" "$b" "$(echo "$k / $b" | bc -l)"
