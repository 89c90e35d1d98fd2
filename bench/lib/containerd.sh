# Sourced by the benches that need a private containerd (bench/lib/containerd-up.mjs: the test harness's own,
# its root under $TMPDIR). `start_containerd NAME` starts one (one at a time): its socket in $sock, its PID in
# $ctd_pid (also added to $pids). It stops (shims, mounts, dir) when its stdin — the fifo $work/NAME.in, held
# open on $cfd — closes (`stop_containerd`, which waits for it), or on SIGTERM.
start_containerd() {
  mkfifo "$work/$1.in"
  node bench/lib/containerd-up.mjs <"$work/$1.in" >"$work/$1.addr" &
  ctd_pid=$!
  pids+=("$ctd_pid")
  exec {cfd}>"$work/$1.in"
  for _ in $(seq 300); do [ -s "$work/$1.addr" ] && break; sleep 0.1; done
  sock=$(cat "$work/$1.addr")
}
stop_containerd() { exec {cfd}>&-; wait "$ctd_pid" 2>/dev/null || true; }
