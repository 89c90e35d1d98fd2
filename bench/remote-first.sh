#!/usr/bin/env bash
# The first remote build of a context, repeated: kiln build through a kiln
# agent (TCP + mutual TLS on loopback) of a context the agent does not hold
# yet (its synced copy and the client's memory of it removed before each
# round, --no-cache), against the same --no-cache build locally; ~50 MB
# context (5,000 small files + 4 x 10 MB binaries) on busybox, 3 RUN + 3 COPY
# (setup: bench/lib/remote.sh; kiln is dist/kiln when it exists, as users run
# it, and the header says which).
# ROUNDS (default 5) rounds, remote and local interleaved (order alternating);
# prints min and median of each and the median of the paired ratios; with CPU=1
# also the CPU seconds of one more build of each per round (less sensitive to
# the machine's load than wall time). KEEP_LOG=FILE keeps the agent's log.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib/remote.sh
rounds=${ROUNDS:-5}
remote_setup rfirst
forget() { rm -rf "$aroot/agent/contexts" "$XDG_CACHE_HOME/kiln/remote-manifests"; }
# A warm-up of each (the client's and the local builder's stat memos, the base unpacked on both sides).
forget; rb --no-cache >/dev/null; lb --no-cache >/dev/null
rs=(); ls=(); ps=(); rc=(); lc=(); loads=()
# CPU of a remote build: the client's plus what the agent (and its runc children) used meanwhile.
rbc() { local a0 c; a0=$(cpu "$agent_pid"); c=$(cputime rb --no-cache); echo "$c + $(cpu "$agent_pid") - $a0" | bc; }
for i in $(seq "$rounds"); do
  loads+=("$(cut -d' ' -f1 /proc/loadavg)")
  forget
  if (( i % 2 )); then r=$(timed rb --no-cache); l=$(timed lb --no-cache); else l=$(timed lb --no-cache); r=$(timed rb --no-cache); fi
  rs+=("$r"); ls+=("$l"); ps+=("$(echo "$r / $l" | bc -l)")
  if [ -n "${CPU:-}" ]; then forget; rc+=("$(rbc)"); lc+=("$(cputime lb --no-cache)"); fi
done
echo "first remote build (agent over TCP+mTLS on loopback, context not held by the agent, --no-cache) vs local --no-cache; $rounds rounds; kiln: $kiln_desc"
printf 'remote min %.2fs median %.2fs | local min %.2fs median %.2fs | ratio median %.2fx (min/min %.2fx)\n' "$(mn "${rs[@]}")" "$(med "${rs[@]}")" "$(mn "${ls[@]}")" "$(med "${ls[@]}")" "$(med "${ps[@]}")" "$(echo "$(mn "${rs[@]}") / $(mn "${ls[@]}")" | bc -l)"
echo "remote: ${rs[*]}"
echo "local:  ${ls[*]}"
[ -n "${CPU:-}" ] && echo "CPU seconds (user+sys; remote = client + agent): remote ${rc[*]} (median $(med "${rc[@]}")) | local ${lc[*]} (median $(med "${lc[@]}"))"
echo "load (1 min) at each round: ${loads[*]}; now $(cut -d' ' -f1-3 /proc/loadavg)"
[ -n "${KEEP_LOG:-}" ] && cp "$work/agent.log" "$KEEP_LOG"
exit 0
