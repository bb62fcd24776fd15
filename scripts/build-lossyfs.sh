#!/usr/bin/env bash
# Builds lossyfs (test/lossyfs/lossyfs.c), the FUSE file system the crash loops "power-fail", into
# .cache/lossyfs/ (git-ignored). Installs its build and runtime deps from Debian when they are missing
# (libfuse3-dev, fuse3, gcc, pkg-config). Idempotent and quick once built. Prints the binary's path.
set -euo pipefail
cd "$(dirname "$0")/.."
src=test/lossyfs/lossyfs.c
out=.cache/lossyfs/lossyfs
if [ ! -e /dev/fuse ]; then
  echo "build-lossyfs: /dev/fuse is missing, so FUSE cannot mount here (in a container, run it with --device /dev/fuse --cap-add SYS_ADMIN)." >&2
  exit 2
fi
if ! pkg-config --exists fuse3 2>/dev/null || ! command -v fusermount3 >/dev/null 2>&1 || ! command -v gcc >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  export DEBIAN_FRONTEND=noninteractive
  # Other installs may hold the dpkg lock for a while; wait for it rather than fail.
  $SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq >&2
  $SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends libfuse3-dev fuse3 gcc libc6-dev pkg-config >/dev/null
fi
if [ ! -x "$out" ] || [ "$src" -nt "$out" ] || [ "$0" -nt "$out" ]; then
  mkdir -p "$(dirname "$out")"
  # shellcheck disable=SC2046
  gcc -O2 -Wall -Wextra -Werror -o "$out.tmp" "$src" $(pkg-config --cflags --libs fuse3)
  mv "$out.tmp" "$out"
fi
echo "$PWD/$out"
