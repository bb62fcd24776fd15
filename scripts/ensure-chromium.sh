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
# shellcheck source=lib/apt-install.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/apt-install.sh"
apt_as_root
echo "ensure-chromium: installing Debian's chromium for the browser tests (once; about a minute)" >&2
apt_install chromium
command -v chromium >/dev/null 2>&1 || cannot "apt-get finished but there is still no chromium on PATH"
