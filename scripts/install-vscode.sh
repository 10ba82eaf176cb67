#!/usr/bin/env bash
# Installs a real VS Code (code-server 4.100.3 = VS Code 1.100.3, the last release that runs on
# Node 20) plus playwright-core into a cache folder, for the end-to-end test. Idempotent: does
# nothing when the cache already holds a working install. Works offline apart from the npm
# registry and Debian's packages (see docs/extension.md, "End-to-end test").
#
# Usage: scripts/install-vscode.sh            (cache: $NNLENS_VSCODE_CACHE or ~/.cache/nnlens-vscode)
# Prints the path of the code-server binary on its last line.
set -euo pipefail

CODE_SERVER_VERSION=4.100.3
PLAYWRIGHT_VERSION=1.65.1
CACHE="${NNLENS_VSCODE_CACHE:-$HOME/.cache/nnlens-vscode}"
BIN="$CACHE/node_modules/.bin/code-server"
STAMP="$CACHE/.installed-$CODE_SERVER_VERSION"

log() { echo "[install-vscode] $*" >&2; }

if [ -f "$STAMP" ] && [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -q "^$CODE_SERVER_VERSION "; then
  log "code-server $CODE_SERVER_VERSION already installed in $CACHE"
  echo "$BIN"
  exit 0
fi

# System packages: chromium (the browser), libkrb5-dev + pkg-config (kerberos' native build),
# ripgrep (VS Code's search; its npm package would download it), a C++ toolchain for node-gyp.
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
for p in libkrb5-dev pkg-config ripgrep make g++ python3; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    log "missing system packages: ${need[*]} (run as root or install them with apt-get)"; exit 1
  fi
  log "apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

mkdir -p "$CACHE"
cd "$CACHE"
rm -f "$STAMP"
[ -f package.json ] || echo '{ "name": "nnlens-vscode-cache", "private": true }' > package.json

log "npm install code-server@$CODE_SERVER_VERSION playwright-core@$PLAYWRIGHT_VERSION"
# --ignore-scripts: code-server's postinstall downloads ripgrep from the internet and wants
# --unsafe-perm as root; we do its native steps ourselves below.
npm install --no-audit --no-fund --ignore-scripts \
  "code-server@$CODE_SERVER_VERSION" "playwright-core@$PLAYWRIGHT_VERSION" >&2
npm rebuild argon2 >&2

VS="$CACHE/node_modules/code-server/lib/vscode"
cd "$VS"
log "installing VS Code's own dependencies"
npm install --no-audit --no-fund --omit=dev --ignore-scripts >&2
for m in kerberos node-pty @parcel/watcher @vscode/spdlog @vscode/deviceid native-watchdog; do
  if [ -d "node_modules/$m" ]; then
    log "native build: $m"
    (cd "node_modules/$m" && npx --yes node-gyp rebuild >&2)
  fi
done
mkdir -p node_modules/@vscode/ripgrep/bin
cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
ln -sfn node_modules node_modules.asar
(cd bin/remote-cli && ln -sfn code-linux.sh code-server)
(cd bin/helpers && ln -sfn browser-linux.sh browser.sh)
log "installing built-in extensions' dependencies"
(cd extensions && npm install --no-audit --no-fund --omit=dev --ignore-scripts >&2)

# (its first run also prints a line about writing a default config file)
version="$("$BIN" --version 2>/dev/null | grep -m1 "^$CODE_SERVER_VERSION " || true)"
if [ -z "$version" ]; then
  log "code-server --version did not print $CODE_SERVER_VERSION:"; "$BIN" --version >&2 || true; exit 1
fi
log "installed: $version"
touch "$STAMP"
echo "$BIN"
