#!/usr/bin/env bash
# The first remote build of a context, repeated: kiln build through a kiln
# agent (TCP + mutual TLS on loopback) of a context the agent does not hold
# yet (its synced copy and the client's memory of it removed before each
# round, --no-cache), against the same --no-cache build locally; ~50 MB
# context (5,000 small files + 4 x 10 MB binaries) on busybox, 3 RUN + 3 COPY.
# ROUNDS (default 5) rounds, remote and local interleaved (order alternating);
# prints min and median of each and the median of the paired ratios; with CPU=1
# also the CPU seconds of one more build of each per round (less sensitive to
# the machine's load than wall time).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-5}
cache=$(bash scripts/test-images.sh)
work=/var/tmp/kiln-bench-rfirst.$$
rm -rf "$work"; mkdir -p "$work"
aroot=$work/agent-root
lroot=$work/local-root
agent_pid=
trap '[ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
base=docker.io/bench/busybox:1
now() { date +%s.%N; }
timed() { local t0 t1; t0=$(now); "$@" >/dev/null; t1=$(now); echo "$t1 - $t0" | bc; }
# CPU seconds (user + system, with waited-for children) of a process so far.
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15 + $16 + $17) / hz }' "/proc/$1/stat"; }
# The CPU a command used: its own (and its children's), read from bash's `times` in a subshell.
cputime() { ( "$@" >/dev/null; times ) | awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%.2f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }'; }

node dist/cli/main.js --root "$aroot" import "$cache/busybox-rootfs.tar" "$base" >/dev/null
node dist/cli/main.js --root "$lroot" import "$cache/busybox-rootfs.tar" "$base" >/dev/null

. bench/lib/build-context.sh
ctx=$work/ctx
gen "$ctx" 5000
for i in 1 2 3 4; do head -c 10000000 /dev/urandom >"$ctx/src/blob$i.bin"; done

port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
node ${AGENT_NODE_OPTS:-} dist/cli/main.js --root "$aroot" agent --listen "tcp://127.0.0.1:$port" >"$work/agent.log" 2>&1 &
agent_pid=$!
for _ in $(seq 600); do grep -q '^ready' "$work/agent.log" && break; sleep 0.1; done
grep -q '^ready' "$work/agent.log" || { cat "$work/agent.log"; exit 1; }
export XDG_CACHE_HOME=$work/client-cache
forget() { rm -rf "$aroot/agent/contexts" "$XDG_CACHE_HOME/kiln/remote-manifests"; }
rb() { KILN_HOST=tcp://127.0.0.1:$port KILN_CERT_PATH=$aroot/agent/tls node ${CLIENT_NODE_OPTS:-} dist/cli/main.js --root "$work/client-root" build -q --no-cache --build-arg "BASE=$base" -t bench/app:1 "$ctx"; }
lb() { node dist/cli/main.js --root "$lroot" build -q --no-cache --build-arg "BASE=$base" -t bench/app:1 "$ctx"; }
# A warm-up of each (the client's and the local builder's stat memos, the base unpacked on both sides).
forget; rb >/dev/null; lb >/dev/null
rs=(); ls=(); ps=(); rc=(); lc=()
# CPU of a remote build: the client's plus what the agent (and its runc children) used meanwhile.
rbc() { local a0 c; a0=$(cpu "$agent_pid"); c=$(cputime rb); echo "$c + $(cpu "$agent_pid") - $a0" | bc; }
for i in $(seq "$rounds"); do
  forget
  if (( i % 2 )); then r=$(timed rb); l=$(timed lb); else l=$(timed lb); r=$(timed rb); fi
  rs+=("$r"); ls+=("$l"); ps+=("$(echo "$r / $l" | bc -l)")
  if [ -n "${CPU:-}" ]; then forget; rc+=("$(rbc)"); lc+=("$(cputime lb)"); fi
done
med() { printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"; }
mn() { printf '%s\n' "$@" | sort -g | head -1; }
echo "first remote build (agent over TCP+mTLS on loopback, context not held by the agent, --no-cache) vs local --no-cache; $rounds rounds"
printf 'remote min %.2fs median %.2fs | local min %.2fs median %.2fs | ratio median %.2fx (min/min %.2fx)\n' "$(mn "${rs[@]}")" "$(med "${rs[@]}")" "$(mn "${ls[@]}")" "$(med "${ls[@]}")" "$(med "${ps[@]}")" "$(echo "$(mn "${rs[@]}") / $(mn "${ls[@]}")" | bc -l)"
echo "remote: ${rs[*]}"
echo "local:  ${ls[*]}"
[ -n "${CPU:-}" ] && echo "CPU seconds (user+sys; remote = client + agent): remote ${rc[*]} | local ${lc[*]}"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
[ -n "${KEEP_LOG:-}" ] && cp "$work/agent.log" "$KEEP_LOG"
exit 0
