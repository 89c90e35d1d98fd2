# Sourced by bench/remote-build.sh and bench/remote-first.sh: the setup both share.
#   remote_setup NAME   a work dir /var/tmp/kiln-bench-NAME.PID (removed on exit with the agent; a journalled ext4 of
#                       its own, bench/lib/scratch-fs.sh, holding both sides' stores; BENCH_FS=host), the busybox
#                       base imported into an agent root and a local root, a ~50 MB context in $ctx (5,000 small
#                       files + 4 x 10 MB binaries, 3 RUN + 3 COPY: bench/lib/build-context.sh), and a kiln agent
#                       on a free loopback port (TCP + mutual TLS) as $agent_pid.
#   rb ARGS…            kiln build ARGS… $ctx through the agent (client root and cache in the work dir)
#   lb ARGS…            the same build with the local engine
#   rbb ARGS…           with KILN_BASE=PATH (another kiln, e.g. main's): the remote build through its own agent
#   timed CMD…          wall seconds of CMD; cputime CMD… its CPU seconds (user + sys, with children);
#   cpu PID             the CPU seconds PID (and its waited-for children) used so far
#   med / mn X…         median / minimum of numbers
# kiln as users run it: the one executable dist/kiln (npm run package) when it exists, else the module tree
# (node dist/cli/main.js); $kiln_desc says which, for the header. AGENT_NODE_OPTS / CLIENT_NODE_OPTS
# (e.g. --cpu-prof --cpu-prof-dir=DIR, which the executable does not take) run that side as the module
# tree with those node options.
. "$(dirname "${BASH_SOURCE[0]}")/scratch-fs.sh"
base=docker.io/bench/busybox:1
# KILN_EXE=PATH measures another packaged kiln (e.g. a copy of the previous commit's dist/kiln).
# Without it, dist/kiln is packaged again first when older than its sources (bench/lib/kiln-exe.sh).
if [ -z "${KILN_EXE:-}" ]; then . bench/lib/kiln-exe.sh; kiln_exe; fi
exe=${KILN_EXE:-dist/kiln}
if [ -x "$exe" ]; then kiln_desc="$exe (the packaged executable)"; else kiln_desc="node dist/cli/main.js (no dist/kiln: npm run package makes it)"; fi
# kiln_opts "NODE OPTIONS" ARGS…: kiln with node options.
kiln_opts() {
  local opts=$1; shift
  if [ -x "$exe" ] && [ -z "$opts" ]; then "$exe" "$@"; else node $opts dist/cli/main.js "$@"; fi
}
kiln_exec() {
  local opts=$1; shift
  if [ -x "$exe" ] && [ -z "$opts" ]; then exec "$exe" "$@"; else exec node $opts dist/cli/main.js "$@"; fi
}
now() { date +%s.%N; }
timed() { local t0 t1; t0=$(now); "$@" >/dev/null; t1=$(now); echo "$t1 - $t0" | bc; }
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15 + $16 + $17) / hz }' "/proc/$1/stat"; }
cputime() { ( "$@" >/dev/null; times ) | awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%.2f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }'; }
med() { printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"; }
mn() { printf '%s\n' "$@" | sort -g | head -1; }
mb() { echo "scale=2; $1 / 1000000" | bc; }

remote_setup() {
  cache=$(bash scripts/test-images.sh)
  work=/var/tmp/kiln-bench-$1.$$
  rm -rf "$work"; scratch_fs "$work"
  aroot=$work/agent-root
  lroot=$work/local-root
  agent_pid=
  base_pid=
  trap 'for p in $agent_pid $base_pid; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; scratch_fs_end "$work"' EXIT
  kiln_opts "" --root "$aroot" import "$cache/busybox-rootfs.tar" "$base" >/dev/null
  kiln_opts "" --root "$lroot" import "$cache/busybox-rootfs.tar" "$base" >/dev/null
  . bench/lib/build-context.sh
  ctx=$work/ctx
  gen "$ctx" 5000
  for i in 1 2 3 4; do head -c 10000000 /dev/urandom >"$ctx/src/blob$i.bin"; done
  port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  # exec: $agent_pid is the agent's own process (its CPU is read from /proc/PID/stat)
  ( kiln_exec "${AGENT_NODE_OPTS:-}" --root "$aroot" agent --listen "tcp://127.0.0.1:$port" >"$work/agent.log" 2>&1 ) &
  agent_pid=$!
  for _ in $(seq 600); do grep -qs '^ready' "$work/agent.log" && break; sleep 0.1; done
  grep -qs '^ready' "$work/agent.log" || { cat "$work/agent.log"; exit 1; }
  export XDG_CACHE_HOME=$work/client-cache
  # KILN_BASE=PATH: another packaged kiln (e.g. main's) measured beside this one: its own agent (its own
  # root, certificates and port), its own client root.
  if [ -n "${KILN_BASE:-}" ]; then
    broot=$work/agent-root-base
    "$KILN_BASE" --root "$broot" import "$cache/busybox-rootfs.tar" "$base" >/dev/null
    bport=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
    ( exec "$KILN_BASE" --root "$broot" agent --listen "tcp://127.0.0.1:$bport" >"$work/agent-base.log" 2>&1 ) &
    base_pid=$!
    for _ in $(seq 600); do grep -qs '^ready' "$work/agent-base.log" && break; sleep 0.1; done
    grep -qs '^ready' "$work/agent-base.log" || { cat "$work/agent-base.log"; exit 1; }
  fi
}
rb() { KILN_HOST=tcp://127.0.0.1:$port KILN_CERT_PATH=$aroot/agent/tls kiln_opts "${CLIENT_NODE_OPTS:-}" --root "$work/client-root" build -q --build-arg "BASE=$base" -t bench/app:1 "$@" "$ctx"; }
# The same remote build with KILN_BASE's client and agent.
rbb() { KILN_HOST=tcp://127.0.0.1:$bport KILN_CERT_PATH=$broot/agent/tls "$KILN_BASE" --root "$work/client-root-base" build -q --build-arg "BASE=$base" -t bench/app:1 "$@" "$ctx"; }
lb() { kiln_opts "" --root "$lroot" build -q --build-arg "BASE=$base" -t bench/app:1 "$@" "$ctx"; }
