#!/usr/bin/env bash
# kiln build through a kiln agent (TCP + mutual TLS on loopback) vs the same
# build with the local engine: a ~50 MB context (5,000 small files + 4 x 10 MB
# binaries) on busybox, 3 RUN + 3 COPY (setup: bench/lib/remote.sh; kiln is
# dist/kiln when it exists, as users run it, and the header says which).
#   first     the first remote build of the context: everything is uploaded
#   one-file  one small file changed, built again: only that file is uploaded
#             (RUNS rounds, default 5, each changing another file)
#   no-change built again, nothing changed (RUNS rounds)
# Remote and local interleaved, order alternating; min and median of each,
# the median of the paired ratios, and the CPU seconds of one more build of
# each (remote = client + agent). Bytes uploaded are the client's count
# (--metadata-file kiln.context.upload; `kiln -D build` prints the same); the
# aim for one-file is < 1 MB, for no-change ≤ 1.2× local.
# KILN_BASE=PATH (e.g. a copy of main's dist/kiln): its remote build (its client, its own agent) runs
# in the same rounds, the three in a rotating order, and gets lines of its own: a before/after pair
# measured under the same load.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib/remote.sh
runs=${RUNS:-5}
remote_setup rbuild
size=$(du -sb "$ctx" | cut -f1)
tarsize=$(tar -C "$ctx" -cf - . | wc -c)
up() { node -e 'const u=require(process.argv[1])["kiln.context.upload"]; console.log(`${u.bytes} bytes in ${u.files} files (+ manifest ${u.manifestBytes} bytes)`)' "$work/meta.json"; }
rbm() { rb --metadata-file "$work/meta.json"; }
rbc() { local a0 c; a0=$(cpu "$agent_pid"); c=$(cputime rbm); echo "$c + $(cpu "$agent_pid") - $a0" | bc; }
rbbc() { local a0 c; a0=$(cpu "$base_pid"); c=$(cputime rbb); echo "$c + $(cpu "$base_pid") - $a0" | bc; }
loads=()

t_first=$(timed rbm); u_first=$(up)
t_lfirst=$(timed lb)
t_bfirst=; [ -n "${KILN_BASE:-}" ] && t_bfirst=$(timed rbb)
# rounds CHANGE: RUNS rounds of (CHANGE; remote and local build, order alternating) → r l p rc lc arrays
rounds() {
  r=(); l=(); p=(); rc=(); lc=(); b=(); pb=(); bc=()
  for i in $(seq "$runs"); do
    loads+=("$(cut -d' ' -f1 /proc/loadavg)")
    "$1" "$i"
    local a c d
    if [ -z "${KILN_BASE:-}" ]; then
      if (( i % 2 )); then a=$(timed rbm); c=$(timed lb); else c=$(timed lb); a=$(timed rbm); fi
    else
      case $(( i % 3 )) in
        1) a=$(timed rbm); d=$(timed rbb); c=$(timed lb) ;;
        2) d=$(timed rbb); c=$(timed lb); a=$(timed rbm) ;;
        0) c=$(timed lb); a=$(timed rbm); d=$(timed rbb) ;;
      esac
      b+=("$d"); pb+=("$(echo "$d / $c" | bc -l)")
    fi
    r+=("$a"); l+=("$c"); p+=("$(echo "$a / $c" | bc -l)")
  done
  "$1" x; rc+=("$(rbc)"); lc+=("$(cputime lb)")
  [ -n "${KILN_BASE:-}" ] && bc+=("$(rbbc)")
  return 0
}
line() {
  printf '%-10s remote min %.2fs median %.2fs | local min %.2fs median %.2fs | ratio median %.2fx (min/min %.2fx) | CPU remote %ss local %ss | uploaded %s\n' \
    "$1" "$(mn "${r[@]}")" "$(med "${r[@]}")" "$(mn "${l[@]}")" "$(med "${l[@]}")" "$(med "${p[@]}")" "$(echo "$(mn "${r[@]}") / $(mn "${l[@]}")" | bc -l)" "${rc[0]}" "${lc[0]}" "$2"
  if [ -n "${KILN_BASE:-}" ]; then
    printf '%-10s remote min %.2fs median %.2fs | (same local) | ratio median %.2fx (min/min %.2fx) | CPU remote %ss\n' \
      "  base" "$(mn "${b[@]}")" "$(med "${b[@]}")" "$(med "${pb[@]}")" "$(echo "$(mn "${b[@]}") / $(mn "${l[@]}")" | bc -l)" "${bc[0]}"
  fi
}
change() { echo "changed $1" >>"$ctx/src/b/d07/f22.txt"; }
nothing() { :; }
rounds change; u_one=$(up); one=$(line one-file "$u_one (aim < 1 MB)")
rounds nothing; u_none=$(up); none=$(line no-change "$u_none (aim ≤ 1.2x local)")
echo "remote build: agent over TCP+mTLS on loopback, $(mb "$size") MB context ($(mb "$tarsize") MB as a tarball), busybox, 3 RUN + 3 COPY; kiln: $kiln_desc${KILN_BASE:+; base: $KILN_BASE}; $runs rounds; $(scratch_fs_line)"
printf '%-10s remote %6.2fs  local %6.2fs  ratio %.2fx  uploaded %s\n' first "$t_first" "$t_lfirst" "$(echo "$t_first / $t_lfirst" | bc -l)" "$u_first"
[ -n "$t_bfirst" ] && printf '%-10s remote %6.2fs  (same local)  ratio %.2fx\n' "  base" "$t_bfirst" "$(echo "$t_bfirst / $t_lfirst" | bc -l)"
echo "$one"
echo "$none"
echo "load (1 min) at each round: ${loads[*]}; now $(cut -d' ' -f1-3 /proc/loadavg)"
