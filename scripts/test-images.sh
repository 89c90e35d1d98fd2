#!/usr/bin/env bash
# Makes the offline base-image root filesystems tests and the demo import:
#   $KILN_TEST_CACHE/busybox-rootfs.tar    (Debian's busybox-static)
#   $KILN_TEST_CACHE/debian-rootfs.tar     (debootstrap --variant=minbase; only with --debian)
# Cached between runs; safe to run twice.
set -euo pipefail
cache=${KILN_TEST_CACHE:-/var/cache/kiln-test}
mkdir -p "$cache"

if [ ! -s "$cache/busybox-rootfs.tar" ]; then
  tmp=$(mktemp -d)
  mkdir -p "$tmp"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,proc,sys,dev,var/www}
  cp /bin/busybox "$tmp/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ -e "$tmp/bin/$applet" ] || ln -s busybox "$tmp/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nwww:x:1000:1000:www:/var/www:/bin/sh\n' >"$tmp/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\nwww:x:1000:\n' >"$tmp/etc/group"
  chmod 755 "$tmp"
  chmod 1777 "$tmp/tmp"
  # Fixed times so the tarball, and so the image digest, is reproducible.
  tar --sort=name --mtime='2024-01-01 00:00:00Z' --owner=0 --group=0 --numeric-owner -C "$tmp" -cf "$cache/busybox-rootfs.tar.tmp" .
  mv "$cache/busybox-rootfs.tar.tmp" "$cache/busybox-rootfs.tar"
  rm -rf "$tmp"
fi

if [ "${1:-}" = "--debian" ] && [ ! -s "$cache/debian-rootfs.tar" ]; then
  tmp=$(mktemp -d)
  debootstrap --variant=minbase bookworm "$tmp/root" >"$cache/debootstrap.log" 2>&1
  tar --sort=name --numeric-owner -C "$tmp/root" -cf "$cache/debian-rootfs.tar.tmp" .
  mv "$cache/debian-rootfs.tar.tmp" "$cache/debian-rootfs.tar"
  rm -rf "$tmp"
fi
echo "$cache"
