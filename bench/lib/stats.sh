# Sourced by benchmarks: figures from files of one number a line (seconds), in run order.
# stat_line FILE: "min X  median Y"
stat_line() { sort -n "$1" | awk '{a[NR]=$1} END {printf "min %.2fs median %.2fs", a[1], a[int((NR+1)/2)]}'; }
# ratio_line A B: the per-run ratios A/B (same run, same load), their min and median
ratio_line() { paste "$1" "$2" | awk '{print $1 / $2}' | sort -n | awk '{a[NR]=$1} END {printf "ratio min %.2fx median %.2fx", a[1], a[int((NR+1)/2)]}'; }
# load_line: the machine's load now (/proc/loadavg: 1, 5, 15 minutes)
load_line() { cut -d' ' -f1-3 /proc/loadavg; }
