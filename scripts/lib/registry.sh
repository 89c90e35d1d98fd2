# Sourced by benchmarks: start_registry DIR → prints 127.0.0.1:PORT; a docker-registry on loopback.
# KILN_BENCH_REGISTRY_LOG=debug|info: the registry logs each request (JSON lines, nanosecond times) to DIR/log, for timelines.
start_registry() {
  local dir=$1 port
  mkdir -p "$dir"
  port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  cat >"$dir/config.yml" <<EOC
version: 0.1
storage: { filesystem: { rootdirectory: $dir/data }, delete: { enabled: true } }
http: { addr: 127.0.0.1:$port }
log: { level: ${KILN_BENCH_REGISTRY_LOG:-error}, formatter: json }
EOC
  docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
  echo $! >"$dir/pid"
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
  echo "127.0.0.1:$port"
}
stop_registry() { [ -f "$1/pid" ] && kill "$(cat "$1/pid")" 2>/dev/null; return 0; }
