#!/usr/bin/env bash
# Makes sure Debian's chromium is installed for the dashboard's browser tests (playwright-core drives
# it through executablePath). Idempotent: does nothing when `chromium` is already on PATH.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
# Other installs may hold the dpkg lock for a while; wait for it rather than fail.
$SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq
$SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends chromium >/dev/null
command -v chromium
