#!/usr/bin/env bash
# `npm run bench [-- --quick]`: raise the open-files limit for 10,000 sockets, then run the suite.
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec node --import tsx bench/run.ts "$@"
