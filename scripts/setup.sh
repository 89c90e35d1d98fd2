#!/usr/bin/env bash
# Installs what kiln and its tests need, idempotently: Debian packages (only
# the missing ones), npm dependencies, the TypeScript build, the packaged
# executable dist/kiln. Safe to run twice.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: the real components tests and the demo use.
pkgs=(runc tini git docker-registry skopeo umoci buildah busybox-static debootstrap containernetworking-plugins apache2-utils openssl zstd attr iproute2 util-linux bc curl iptables containerd golang-github-containerd-containerd-dev gcc libc6-dev qemu-user-static)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Another apt or dpkg may be running (unattended upgrades, a second setup):
  # wait for its lock instead of failing at once.
  lock=(-o DPkg::Lock::Timeout=600)
  apt-get "${lock[@]}" update -qq
  apt-get "${lock[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm dependencies (exactly the lockfile) and the build.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build
chmod +x dist/cli/main.js
# The single executable dist/kiln (skipped when its inputs did not change).
npm run --silent package

# QEMU user emulation for foreign-platform builds and runs (binfmt_misc, F flag). qemu-user-static
# registers its formats through systemd where there is one; without it kiln does (a build asks too).
if [ "$(id -u)" = 0 ]; then
  node dist/cli/main.js system binfmt --install linux/arm64 linux/arm/v7 linux/riscv64 linux/ppc64le linux/s390x >/dev/null ||
    echo "setup: QEMU emulation could not be registered (see the line above); multi-platform builds of RUN steps need it"
fi
