#!/usr/bin/env bash
# Containers, kiln vs podman (runc runtime) on the same busybox image in one
# run: `run --rm IMAGE true` latency (median of $RUNS, default 20, both with
# --network none and with each tool's default bridge), and `kiln ps` with 50
# containers. podman is installed here, for the bench only (CI does not need it).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-20}
if ! command -v podman >/dev/null; then
  echo "bench: installing podman (bench only)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends podman >/dev/null
fi
export KILN_TEST_CACHE=${KILN_TEST_CACHE:-/var/cache/kiln-test}
bash scripts/test-images.sh >/dev/null
tar="$KILN_TEST_CACHE/busybox-rootfs.tar"
work=$(mktemp -d /var/tmp/kiln-bench-ctr.XXXX)
kroot="$work/kiln"
proot="$work/podman"
mkdir -p "$kroot"
# A bridge and subnet of its own, so the bench never meets a test's network.
bridge="kb$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')"
echo "{\"bridge\":\"$bridge\",\"subnet\":\"10.199.$((RANDOM % 256)).0/24\"}" >"$kroot/network.json"
k() { node dist/cli/main.js --root "$kroot" "$@"; }
# This sandbox cannot raise rlimits (no CAP_SYS_RESOURCE): podman's defaults (nofile 1048576) fail there, kiln caps at the host's.
plimits=(--ulimit nproc=4096:4096 --ulimit nofile=1024:1024)
p() { podman --root "$proot/root" --runroot "$proot/run" --runtime /usr/sbin/runc --storage-driver overlay --cgroup-manager cgroupfs --events-backend file "$@"; }
cleanup() {
  ids=$(k ps -aq --no-trunc 2>/dev/null || true)
  [ -n "$ids" ] && k rm -f $ids >/dev/null 2>&1 || true
  p rm -af >/dev/null 2>&1 || true
  # podman's storage mounts stay until unmounted; nothing else of the machine is touched.
  awk -v w="$work" 'index($2, w) == 1 {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  ip link del "$bridge" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_runs() { # file command...
  local out=$1; shift
  "$@" >/dev/null 2>&1 || { echo "bench: '$*' failed" >&2; "$@"; exit 1; } # warm-up (unpack, first network)
  for _ in $(seq "$runs"); do
    local t0 t1; t0=$(now); "$@" >/dev/null; t1=$(now)
    echo "$t1 - $t0" | bc >>"$out"
  done
}

k import "$tar" bench/busybox:1 >/dev/null
p import -q "$tar" localhost/bench/busybox:1 >/dev/null

echo "run --rm IMAGE true, $runs runs each, median (runc for both):"
for net in none default; do
  kflags=(); pflags=("${plimits[@]}")
  if [ "$net" = none ]; then kflags=(--network none); pflags+=(--network none); fi
  time_runs "$work/k-$net" k run --rm "${kflags[@]}" bench/busybox:1 true
  time_runs "$work/p-$net" p run --rm "${pflags[@]}" localhost/bench/busybox:1 true
  km=$(median <"$work/k-$net"); pm=$(median <"$work/p-$net")
  printf '  network %-7s kiln %.3fs  podman %.3fs  ratio %.2fx (aim <= 1.0)\n' "$net" "$km" "$pm" "$(echo "$km / $pm" | bc -l)"
done

echo "ps with 50 containers (created), $runs runs, median:"
for i in $(seq 50); do k create --network none bench/busybox:1 true >/dev/null; p create "${plimits[@]}" --network none localhost/bench/busybox:1 true >/dev/null; done
time_runs "$work/k-ps" k ps -a
time_runs "$work/p-ps" p ps -a
kps=$(median <"$work/k-ps"); pps=$(median <"$work/p-ps")
printf '  kiln ps -a %.3fs (aim < 0.150)  podman ps -a %.3fs  ratio %.2fx\n' "$kps" "$pps" "$(echo "$kps / $pps" | bc -l)"
printf '  node startup alone (node -e 0): %.3fs\n' "$( { t0=$(now); node -e 0; t1=$(now); echo "$t1 - $t0" | bc; } )"
