# Sourced by benches that create and delete many files. `scratch_fs DIR` mounts
# a journalled ext4 of its own at DIR (a sparse loop file, DIR.img), so both
# sides of a bench write to a filesystem like a node's and no other process's
# deletions weigh on it: this machine's root ext4 has no journal, and there an
# inode freed in the last minutes is skipped by a scan that every create
# repeats (after a test run's cleanup, 40–50% of a containerd build's CPU went
# to it, on both sides). BENCH_FS=host keeps DIR on the host's filesystem.
# `scratch_fs_end DIR` unmounts it and removes the file.
scratch_fs() {
  local dir=$1
  mkdir -p "$dir"
  [ "${BENCH_FS:-own}" = host ] && return 0
  truncate -s "${BENCH_FS_SIZE:-16G}" "$dir.img"
  mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$dir.img"
  mount -o loop "$dir.img" "$dir"
}
scratch_fs_end() {
  local dir=$1
  if mountpoint -q "$dir"; then umount "$dir" 2>/dev/null || umount -l "$dir"; fi
  rm -rf "$dir" "$dir.img"
}
# The line benches print: where their files were.
scratch_fs_line() {
  if [ "${BENCH_FS:-own}" = host ]; then echo "files on the host's filesystem"; else echo "files on a journalled ext4 of the bench's own (loop; BENCH_FS=host for the host's)"; fi
}
