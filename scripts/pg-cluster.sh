#!/usr/bin/env bash
# A PostgreSQL cluster in a folder of our own, listening only on a unix socket
# in DIR/run: the project's local default database and the test suite's
# throwaway one. Usage: pg-cluster.sh start|stop|status|url DIR [--fast]
set -euo pipefail
cmd=${1:-}; dir=${2:-}; fast=${3:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop|status DIR [--fast]" >&2; exit 64; }

find_bindir() {
  if [ -n "${PG_BINDIR:-}" ]; then
    [ -x "$PG_BINDIR/initdb" ] && [ -x "$PG_BINDIR/pg_ctl" ] && { echo "$PG_BINDIR"; return; }
    return 1
  fi
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return; }
  done
  if command -v pg_ctl >/dev/null && command -v initdb >/dev/null; then dirname "$(command -v pg_ctl)"; return; fi
  return 1
}
bindir=$(find_bindir) || {
  cat >&2 <<MSG
PostgreSQL server binaries (initdb, pg_ctl) were not found.
Install them, then run this again:
  sudo apt-get install -y postgresql        # Debian/Ubuntu
or point PG_BINDIR at the folder that holds initdb and pg_ctl${PG_BINDIR:+ (PG_BINDIR=$PG_BINDIR has neither)}.
MSG
  exit 69
}

# As root, PostgreSQL refuses to run: run it as the postgres user, which owns the folder. runuser lives in sbin,
# which a PATH set for cron or CI may leave out.
runuser=$(PATH="$PATH:/usr/sbin:/sbin" command -v runuser || echo runuser)
as_pg() {
  if [ "$(id -u)" = 0 ]; then "$runuser" -u postgres -- "$@"; else "$@"; fi
}

mkdir -p "$dir"
dir=$(cd "$dir" && pwd -P)
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$dir"
  # A checkout in a private home (root's is mode 0700) cannot be entered by the postgres user. A new cluster then
  # lives in /var/lib/leadsmart-pg/<hash of the folder>, and the folder becomes a link to it, so that the paths the
  # project uses (.state/pg/run for the socket) stay the same.
  if ! "$runuser" -u postgres -- test -x "$dir"; then
    if [ -n "$(ls -A "$dir")" ]; then
      cat >&2 <<MSG
The postgres user cannot enter $dir (a folder above it is private, as root's home is),
and a cluster is already there. Either let it through, for example:
  chmod o+x $(dirname "$dir") (and each private folder above it)
or remove $dir to start a new local database elsewhere.
MSG
      exit 78
    fi
    alt="/var/lib/leadsmart-pg/$(printf %s "$dir" | sha256sum | cut -c1-16)"
    mkdir -p "$alt"
    chown postgres: "$alt"
    rmdir "$dir"
    ln -s "$alt" "$dir"
    echo "note: the postgres user cannot reach $dir (a folder above it is private);" \
      "the cluster lives in $alt, linked from $dir" >&2
    dir="$alt"
  fi
fi
data="$dir/data"; run="$dir/run"; log="$dir/server.log"

case "$cmd" in
  start)
    if [ ! -f "$data/PG_VERSION" ]; then
      as_pg mkdir -p "$run"
      as_pg "$bindir/initdb" --no-sync -A trust -U postgres -E UTF8 --locale=C -D "$data" >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 69; }
    fi
    as_pg mkdir -p "$run"
    if as_pg "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then exit 0; fi
    opts="-c listen_addresses='' -k $run -c max_connections=100"
    if [ "$fast" = "--fast" ]; then
      opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    fi
    as_pg "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 60 -o "$opts" start >/dev/null \
      || { echo "PostgreSQL did not start; its log follows ($log):" >&2; tail -20 "$log" >&2; exit 69; }
    ;;
  stop)
    if [ -f "$data/PG_VERSION" ]; then as_pg "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true; fi
    ;;
  status)
    as_pg "$bindir/pg_ctl" -D "$data" status
    ;;
  *) echo "unknown command $cmd" >&2; exit 64 ;;
esac
