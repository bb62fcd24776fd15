# Sourced by scripts/ensure-chromium.sh and scripts/ensure-postgres.sh: installing Debian packages
# the test suites need on a fresh machine, as root or through sudo without a password, waiting for
# another install's dpkg lock rather than failing. The caller defines `cannot REASON` first (it
# prints what to do instead and exits 1); these functions call it for every way they can fail.

# Sets APT_SUDO: empty as root, `sudo -n` when sudo works without a password; otherwise cannot.
apt_as_root() {
  command -v apt-get >/dev/null 2>&1 || cannot "this machine has no apt-get to install it with"
  if [ "$(id -u)" -eq 0 ]; then
    APT_SUDO=()
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    APT_SUDO=(sudo -n)
  else
    cannot "installing it needs root, and sudo is not available without a password here"
  fi
}

# apt-get update, then install PACKAGE… without recommends, non-interactively (after apt_as_root).
apt_install() {
  "${APT_SUDO[@]}" apt-get -o DPkg::Lock::Timeout=900 update -qq || cannot "apt-get update failed"
  "${APT_SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "$@" >/dev/null || cannot "apt-get install $* failed"
}
