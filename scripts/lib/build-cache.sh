# Sourced by the scripts that build test executables once into $KILN_TEST_CACHE/<what>/<key>/
# (kube-build.sh, buildkit-build.sh, estargz-check-build.sh). They define `built` (whether OUT holds the executables)
# and call build_cache_enter NAME OUT "${1:-}" HINT [PRINTED] before building (PRINTED: what is
# printed for "built", OUT unless given):
#   built already      print PRINTED and exit 0
#   --cached, not built print "NAME: HINT" and exit 1
#   otherwise          create OUT, hold OUT/.lock (fd 9) for the rest of the script, and exit 0
#                      with PRINTED printed if another run built it while this one waited
build_cache_enter() {
  local name=$1 out=$2 flag=$3 hint=$4 printed=${5:-$2}
  if built; then echo "$printed"; exit 0; fi
  if [ "$flag" = --cached ]; then
    echo "$name: $hint" >&2
    exit 1
  fi
  mkdir -p "$out"
  exec 9>"$out/.lock"
  flock 9
  if built; then echo "$printed"; exit 0; fi
}
