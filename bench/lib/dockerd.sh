# Sourced by the build benchmarks: Docker's BuildKit as a peer.
# start_dockerd DIR: Debian's dockerd (package docker.io, 20.10) with its own data root, exec
#   root, pidfile and socket under DIR, --iptables=false --bridge=none (RUN steps use
#   --network host, as kiln's default); exports DOCKER_HOST and DOCKER_BUILDKIT=1.
# stop_dockerd DIR: stops it by its pid and removes DIR's daemon state.
# The client is Debian's (/usr/bin/docker, 20.10), whatever else is first on PATH.
DOCKER=/usr/bin/docker
start_dockerd() {
  local dir=$1
  command -v dockerd >/dev/null || apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends docker.io >/dev/null
  mkdir -p "$dir"
  dockerd --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" -H "unix://$dir/docker.sock" \
    --iptables=false --bridge=none >"$dir/dockerd.log" 2>&1 &
  export DOCKER_HOST="unix://$dir/docker.sock" DOCKER_BUILDKIT=1
  for _ in $(seq 300); do "$DOCKER" version >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "dockerd did not start; see $dir/dockerd.log" >&2
  return 1
}
stop_dockerd() {
  local dir=$1 pid
  pid=$(cat "$dir/dockerd.pid" 2>/dev/null) || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  # overlay2 mounts under its data root go with the daemon; whatever is left is unmounted before rm.
  grep -o " $dir/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$dir"
}
