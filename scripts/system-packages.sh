#!/usr/bin/env bash
# Installs the Debian packages `make test` and `make demo` need when they are
# missing: postgresql (initdb, pg_ctl for the throwaway and local clusters)
# chromium (the browser tests) and systemd (systemd-analyze verify of the units). As root, or with passwordless
# sudo, it installs them; otherwise it says what to run and exits 69.
# Usage: system-packages.sh postgresql|chromium|systemd ...
set -euo pipefail
missing=()
for pkg in "$@"; do
  case "$pkg" in
    postgresql)
      ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || [ -n "${PG_BINDIR:-}" ] \
        || command -v initdb >/dev/null 2>&1 || missing+=(postgresql) ;;
    chromium) [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || missing+=(chromium) ;;
    systemd) command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd) ;;
    *) echo "system-packages.sh: unknown package $pkg" >&2; exit 64 ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ]; then sudo=(); elif sudo -n true 2>/dev/null; then sudo=(sudo -n); else
  echo "Missing Debian packages: ${missing[*]}. Install them, then run this again:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 69
fi
echo "Installing Debian packages: ${missing[*]} (once per machine)…" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
  || { "${sudo[@]}" apt-get update -qq && "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null; } \
  || {
    echo "apt-get could not install ${missing[*]}; install them by hand: sudo apt-get install -y ${missing[*]}" >&2
    exit 69
  }
