#!/usr/bin/env bash
# Containers, kiln vs podman (runc runtime) on the same busybox image in one
# run: `run --rm IMAGE true` latency (min and median of $RUNS, default 20,
# both with --network none and with each tool's default bridge; kiln and
# podman alternate run by run, so both see the same machine load), and
# `ps -a` with 50 containers. kiln is the packaged dist/kiln (packaged again
# when older than its sources: bench/lib/kiln-exe.sh). podman is installed here,
# for the bench only (CI does not need it).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-20}
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)" 
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
subnet="10.199.$((RANDOM % 256)).0/24"
echo "{\"bridge\":\"$bridge\",\"subnet\":\"$subnet\"}" >"$kroot/network.json"
. bench/lib/kiln-exe.sh; kiln_exe
k() { "${KILN[@]}" --root "$kroot" "$@"; }
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
  # kiln's outbound NAT rule for the bench's bridge (kept while the bridge lives).
  while iptables -t nat -D POSTROUTING -s "$subnet" ! -o "$bridge" -m comment --comment "kiln bridge $bridge" -j MASQUERADE 2>/dev/null; do :; done
  rm -rf "$work"
}
trap cleanup EXIT
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
minimum() { sort -n | head -1; }
time1() { # file command...: one timed run appended to file
  local out=$1; shift
  local t0 t1; t0=$(now); "$@" >/dev/null || { echo "bench: '$*' failed" >&2; exit 1; }; t1=$(now)
  echo "$t1 - $t0" | bc >>"$out"
}
# Alternates the two commands run by run (a warm-up of each first: unpack, first network).
time_pair() { # kfile pfile -- kiln command... -- podman command...
  local kf=$1 pf=$2; shift 3
  local kc=() pc=()
  while [ "$1" != -- ]; do kc+=("$1"); shift; done; shift
  pc=("$@")
  "${kc[@]}" >/dev/null 2>&1 || { echo "bench: '${kc[*]}' failed" >&2; "${kc[@]}"; exit 1; }
  "${pc[@]}" >/dev/null 2>&1 || { echo "bench: '${pc[*]}' failed" >&2; "${pc[@]}"; exit 1; }
  for _ in $(seq "$runs"); do time1 "$kf" "${kc[@]}"; time1 "$pf" "${pc[@]}"; done
}
report() { # label kfile pfile aim
  local km pm kn pn; km=$(median <"$2"); pm=$(median <"$3"); kn=$(minimum <"$2"); pn=$(minimum <"$3")
  printf '  %-16s kiln %.3fs (min %.3f)  podman %.3fs (min %.3f)  ratio %.2fx (aim <= %s)\n' "$1" "$km" "$kn" "$pm" "$pn" "$(echo "$km / $pm" | bc -l)" "$4"
}

k import "$tar" bench/busybox:1 >/dev/null
p import -q "$tar" localhost/bench/busybox:1 >/dev/null

echo "run --rm IMAGE true, $runs runs each, alternating (runc for both), median and min:"
for net in none default; do
  kflags=(); pflags=("${plimits[@]}")
  if [ "$net" = none ]; then kflags=(--network none); pflags+=(--network none); fi
  time_pair "$work/k-$net" "$work/p-$net" -- k run --rm "${kflags[@]}" bench/busybox:1 true -- p run --rm "${pflags[@]}" localhost/bench/busybox:1 true
  report "network $net" "$work/k-$net" "$work/p-$net" 1.0
done

echo "ps -a with 50 containers (created), $runs runs each, alternating:"
for i in $(seq 50); do k create --network none bench/busybox:1 true >/dev/null; p create "${plimits[@]}" --network none localhost/bench/busybox:1 true >/dev/null; done
time_pair "$work/k-ps" "$work/p-ps" -- k ps -a -- p ps -a
report "ps -a" "$work/k-ps" "$work/p-ps" 1.0
# Node's floor, median of $runs; NODE_EXTRA_CA_CERTS (set in some environments, never by kiln) makes Node 20
# parse its root store and that file before any JavaScript runs (20-40 ms a start), which podman does not pay.
for _ in $(seq "$runs"); do time1 "$work/node" node -e 0; time1 "$work/node-bare" env -u NODE_EXTRA_CA_CERTS node -e 0; done
printf '  node startup alone (node -e 0): %.3fs, without NODE_EXTRA_CA_CERTS %.3fs (it is %s here)\n' "$(median <"$work/node")" "$(median <"$work/node-bare")" "$([ -n "${NODE_EXTRA_CA_CERTS:-}" ] && echo set || echo unset)"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
