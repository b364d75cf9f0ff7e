#!/usr/bin/env bash
# make install / make uninstall. Installs the built jobs under PREFIX (default /opt/leadsmart) with their
# production node_modules (and Node.js 26 under runtime/ where the machine's node is older), an environment
# template in SYSCONFDIR (default /etc/leadsmart), the systemd units in UNITDIR (default /etc/systemd/system),
# and the crontab for the service user (CRON_USER, default leadsmart; CRON_USER= skips it).
# DESTDIR stages everything under another root (packaging, tests).
# Usage: install.sh install|uninstall
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prefix=${PREFIX:-/opt/leadsmart}
sysconf=${SYSCONFDIR:-/etc/leadsmart}
unitdir=${UNITDIR:-/etc/systemd/system}
cron_user=${CRON_USER-leadsmart}
dest=${DESTDIR:-}
case "${1:-install}" in
  install)
    [ -f "$root/dist/cli.js" ] || { echo "not built: run make build first" >&2; exit 78; }
    install -d "$dest$prefix" "$dest$sysconf" "$dest$unitdir"
    rm -rf "$dest$prefix/dist" "$dest$prefix/bin" "$dest$prefix/sql" "$dest$prefix/scripts"
    cp -R "$root/bin" "$root/dist" "$root/sql" "$dest$prefix/"
    install -d "$dest$prefix/scripts"
    cp "$root/scripts/pg-cluster.sh" "$root/scripts/create-readonly-role.sh" "$root/scripts/runtime.sh" \
      "$root/scripts/use-runtime.sh" "$dest$prefix/scripts/"
    install -d "$dest$prefix/runtime"
    cp "$root/runtime/package.json" "$root/runtime/package-lock.json" "$dest$prefix/runtime/"
    cp "$root/package.json" "$root/package-lock.json" "$root/README.md" "$dest$prefix/"
    cp -R "$root/docs" "$dest$prefix/"
    install -d -m 0750 "$dest$prefix/.state"
    if [ "${SKIP_NPM:-}" != 1 ]; then
      # Node.js 26 under runtime/ when the machine's is older (bin/* use it), then the production packages.
      "$dest$prefix/scripts/runtime.sh"
      (cd "$dest$prefix" && PATH="$dest$prefix/runtime/node_modules/.bin:$PATH" \
        npm ci --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null)
    fi
    install -m 0644 "$root/ops/env.example" "$dest$sysconf/env.example"
    [ -e "$dest$sysconf/env" ] || install -m 0600 "$root/ops/env.example" "$dest$sysconf/env"
    for unit in "$root"/systemd/*.service "$root"/systemd/*.timer; do
      sed "s#/opt/leadsmart#$prefix#g; s#/etc/leadsmart/env#$sysconf/env#g" "$unit" \
        > "$dest$unitdir/$(basename "$unit")"
    done
    sed "s#^LEADSMART_HOME=.*#LEADSMART_HOME=$prefix#; s#/etc/leadsmart/env#$sysconf/env#g" "$root/crontab/leadsmart" \
      > "$dest$prefix/crontab"
    if [ -n "$cron_user" ] && [ -z "$dest" ]; then
      crontab -u "$cron_user" "$prefix/crontab"
      echo "crontab installed for $cron_user" \
        "(or use the systemd timers instead: systemctl enable --now leadsmart-*.timer)"
    fi
    echo "Installed in $dest$prefix. Next: edit $sysconf/env, run $prefix/bin/migrate," \
      "then scripts/create-readonly-role.sh (docs/runbook.md, Installing on a server)."
    ;;
  uninstall)
    rm -rf "$dest$prefix/bin" "$dest$prefix/dist" "$dest$prefix/sql" "$dest$prefix/scripts" \
      "$dest$prefix/node_modules" "$dest$prefix/runtime" "$dest$prefix/crontab" "$dest$prefix/package.json" \
      "$dest$prefix/package-lock.json" "$dest$prefix/README.md" "$dest$prefix/docs"
    rm -f "$dest$unitdir"/leadsmart-*.service "$dest$unitdir"/leadsmart-*.timer "$dest$sysconf/env.example"
    if [ -n "$cron_user" ] && [ -z "$dest" ]; then crontab -u "$cron_user" -r 2>/dev/null || true; fi
    echo "Removed from $dest$prefix; kept $sysconf/env and $prefix/.state (local data): remove them by hand if wanted."
    ;;
  *) echo "usage: $0 install|uninstall" >&2; exit 64 ;;
esac
