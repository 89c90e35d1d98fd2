# Kept for benchmarks that source it: the helpers live in scripts/lib/registry.sh.
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/registry.sh"
