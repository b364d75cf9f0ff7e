#!/usr/bin/env bash
# make test: the Debian packages it needs (PostgreSQL server, Chromium), type-
# check, format and lint check (Biome), build (integration tests run bin/* as processes), then every Jest
# test against the throwaway PostgreSQL that Jest's globalSetup starts and its
# globalTeardown stops. Ends with a plain "N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/use-runtime.sh"
cd "$root"
scripts/system-packages.sh postgresql chromium systemd || { echo "0 passed, 1 failed"; exit 1; }
npm run --silent typecheck || { echo "0 passed, 1 failed"; echo "type-check failed" >&2; exit 1; }
if ! npm run --silent lint; then
  echo "0 passed, 1 failed"
  echo "format or lint check failed: make format fixes the formatting; the messages above name each rule" >&2
  exit 1
fi
npm run --silent build || { echo "0 passed, 1 failed"; echo "build failed" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Test order is shuffled within each file on every run (Jest prints the seed): no test may lean on another's
# leftovers. A failure is replayed with scripts/test.sh --seed=<the seed it printed>.
NODE_OPTIONS='--experimental-vm-modules --disable-warning=ExperimentalWarning' \
  node node_modules/jest/bin/jest.js --randomize --json --outputFile="$out/results.json" "$@"
status=$?
if [ -f "$out/results.json" ]; then
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const failedSuites = r.testResults.filter((s) => s.status === "failed" && s.assertionResults.length === 0).length;
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests + failedSuites} failed, ${r.numPendingTests} skipped`);
  ' "$out/results.json"
else
  echo "0 passed, 1 failed"
fi
exit $status
