#!/usr/bin/env bash
# Makes sure Debian's chromium is installed for the browser tests (the dashboard's page tests drive it
# with playwright-core through executablePath). `npm test` runs this before the suites that need a
# browser, so the README's test command works on a fresh machine. Idempotent: does nothing when
# `chromium` (or OWP_CHROMIUM) is already there. Installs with apt-get, as root or through sudo.
set -euo pipefail
if [ -n "${OWP_CHROMIUM:-}" ] && [ -x "$OWP_CHROMIUM" ]; then
  exit 0
fi
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
cannot() {
  echo "ensure-chromium: the browser tests need Chromium and it is not installed; $1." >&2
  echo "ensure-chromium: install Debian's package yourself (sudo apt-get install chromium), or set OWP_CHROMIUM to a Chromium binary, then run the tests again." >&2
  exit 1
}
command -v apt-get >/dev/null 2>&1 || cannot "this machine has no apt-get to install it with"
if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  cannot "installing it needs root, and sudo is not available without a password here"
fi
echo "ensure-chromium: installing Debian's chromium for the browser tests (once; about a minute)" >&2
export DEBIAN_FRONTEND=noninteractive
# Other installs may hold the dpkg lock for a while; wait for it rather than fail.
"${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=900 update -qq || cannot "apt-get update failed"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends chromium >/dev/null || cannot "apt-get install chromium failed"
command -v chromium >/dev/null 2>&1 || cannot "apt-get finished but there is still no chromium on PATH"
