#!/usr/bin/env bash
# Makes the offline base-image root filesystems tests and the demo import:
#   $KILN_TEST_CACHE/busybox-rootfs.tar    (Debian's busybox-static)
#   $KILN_TEST_CACHE/busybox-arm64-rootfs.tar  (Debian's busybox-static for arm64: multi-platform tests)
#   $KILN_TEST_CACHE/debian-rootfs.tar     (debootstrap --variant=minbase; only with --debian)
# Cached between runs; safe to run twice; offline once made.
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

# The same busybox rootfs for linux/arm64, from the arm64 .deb (apt's configured source; the .deb is kept
# in the cache, so later runs need no network).
if [ ! -s "$cache/busybox-arm64-rootfs.tar" ]; then
  deb=$(ls "$cache"/busybox-static_*_arm64.deb 2>/dev/null | head -n1 || true)
  if [ -z "$deb" ]; then
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
      dpkg --add-architecture arm64
      apt-get -o DPkg::Lock::Timeout=600 update -qq
    fi
    (cd "$cache" && apt-get download -qq busybox-static:arm64 2>/dev/null) || {
      apt-get -o DPkg::Lock::Timeout=600 update -qq
      (cd "$cache" && apt-get download -qq busybox-static:arm64)
    }
    deb=$(ls "$cache"/busybox-static_*_arm64.deb | head -n1)
  fi
  tmp=$(mktemp -d)
  dpkg-deb -x "$deb" "$tmp/deb"
  mkdir -p "$tmp"/root/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,proc,sys,dev}
  cp "$tmp/deb/bin/busybox" "$tmp/root/bin/busybox"
  # Applet names: the host's busybox-static is the same Debian version.
  for applet in $(/bin/busybox --list); do
    [ -e "$tmp/root/bin/$applet" ] || ln -s busybox "$tmp/root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$tmp/root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$tmp/root/etc/group"
  chmod 755 "$tmp/root"
  chmod 1777 "$tmp/root/tmp"
  tar --sort=name --mtime='2024-01-01 00:00:00Z' --owner=0 --group=0 --numeric-owner -C "$tmp/root" -cf "$cache/busybox-arm64-rootfs.tar.tmp" .
  mv "$cache/busybox-arm64-rootfs.tar.tmp" "$cache/busybox-arm64-rootfs.tar"
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
