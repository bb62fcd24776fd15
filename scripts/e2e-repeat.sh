#!/usr/bin/env bash
# Runs `npm run test:e2e` N times in a row (default 10) and counts the passes: the e2e must not be
# flaky. Each run takes the shared heavy-job lock (/tmp/owp-heavy.lock) when flock is there, so it
# can run beside other work on a shared machine. The artefacts of a failed run are kept in
# .artifacts/e2e-runs/<n>/ (the next run starts its suite folders empty). The first run installs and
# builds; later runs reuse the tools, the build and the packaged .vsix (OWP_E2E_SKIP_SETUP=1).
# Prints one line per run and a closing "N passed, N failed"; exits 1 when any run failed.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
RUNS="${1:-10}"
LOCK="${OWP_HEAVY_LOCK:-/tmp/owp-heavy.lock}"
cd "$ROOT"
rm -rf .artifacts/e2e-runs
mkdir -p .artifacts/e2e-runs
passed=0
failed=0
for n in $(seq 1 "$RUNS"); do
  started=$(date +%s)
  log=".artifacts/e2e-runs/run-$n.log"
  if [ "$n" -gt 1 ]; then export OWP_E2E_SKIP_SETUP=1; fi
  if command -v flock >/dev/null 2>&1; then
    flock "$LOCK" npm run test:e2e >"$log" 2>&1
  else
    npm run test:e2e >"$log" 2>&1
  fi
  status=$?
  took=$(( $(date +%s) - started ))
  if [ "$status" -eq 0 ]; then
    passed=$((passed + 1))
    echo "e2e run $n/$RUNS: passed in ${took} s"
  else
    failed=$((failed + 1))
    mkdir -p ".artifacts/e2e-runs/$n"
    cp -r .artifacts/e2e/. ".artifacts/e2e-runs/$n/" 2>/dev/null || true
    echo "e2e run $n/$RUNS: FAILED (exit $status) in ${took} s; log $log, artefacts .artifacts/e2e-runs/$n/"
    grep -E "^not ok|FAILED-|Error:" "$log" | head -5 | sed 's/^/    /'
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
