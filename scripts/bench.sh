#!/usr/bin/env bash
# make bench: every benchmark; paste the printed tables into bench/RESULTS.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
node bench/score-campaigns.mjs
