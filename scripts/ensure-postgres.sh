#!/usr/bin/env bash
# Makes sure PostgreSQL's server binaries are installed for the PostgreSQL store and cluster tests
# (test/helpers/postgres.ts starts a throwaway cluster with them in a temp folder). `npm test` runs
# this before the suites that need it, so the README's test command works on a fresh machine, and
# `scripts/cluster-local.sh` runs it too. Idempotent: does nothing when Debian's `postgresql` (any
# version under /usr/lib/postgresql) or OWP_POSTGRES_BIN is already there. Installs with apt-get,
# as root or through sudo, without creating or starting Debian's default cluster: only throwaway
# clusters made with initdb ever run.
set -euo pipefail
if [ -n "${OWP_POSTGRES_BIN:-}" ] && [ -x "$OWP_POSTGRES_BIN/postgres" ] && [ -x "$OWP_POSTGRES_BIN/initdb" ]; then
  exit 0
fi
if compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; then
  exit 0
fi
cannot() {
  echo "ensure-postgres: the PostgreSQL tests need PostgreSQL's server and it is not installed; $1." >&2
  echo "ensure-postgres: install Debian's package yourself (sudo apt-get install postgresql), or set OWP_POSTGRES_BIN to a folder holding postgres and initdb, then run the tests again." >&2
  exit 1
}
# shellcheck source=lib/apt-install.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/apt-install.sh"
apt_as_root
echo "ensure-postgres: installing Debian's postgresql for the PostgreSQL tests (once; about a minute)" >&2
# Debian's package creates and starts a "main" cluster on port 5432 unless told not to; nothing here uses it.
"${APT_SUDO[@]}" mkdir -p /etc/postgresql-common/createcluster.d
echo 'create_main_cluster = false' | "${APT_SUDO[@]}" tee /etc/postgresql-common/createcluster.d/owp-no-main-cluster.conf >/dev/null
apt_install postgresql
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || cannot "apt-get finished but there is no /usr/lib/postgresql/*/bin/postgres"
