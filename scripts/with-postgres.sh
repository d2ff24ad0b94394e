#!/usr/bin/env bash
# A throwaway local PostgreSQL cluster for the @kapkit/store tests and benchmark (used by .ci/run).
#
#   eval "$(scripts/with-postgres.sh start)"   # start one; prints the exports KAPKIT_TEST_DATABASE_URL, KAPKIT_PG_DIR
#   scripts/with-postgres.sh stop "$KAPKIT_PG_DIR"
#   scripts/with-postgres.sh run npm test      # start, run the command with KAPKIT_TEST_DATABASE_URL set, stop
#
# Installs Debian's postgresql package when no PostgreSQL binaries are found and we are root (CI is). The
# cluster lives in a temp dir, listens on 127.0.0.1 only (port KAPKIT_PG_PORT, default 54329), trusts local
# connections (user postgres, no password) and is removed by `stop`. Never point it at real data.
set -euo pipefail

PORT="${KAPKIT_PG_PORT:-54329}"

bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  done
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    dirname "$(command -v initdb)"; return 0
  fi
  return 1
}

ensure_installed() {
  bindir >/dev/null && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "with-postgres: installing PostgreSQL (apt-get install postgresql)" >&2
    apt-get update >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2
  else
    echo "with-postgres: PostgreSQL is not installed (Debian: sudo apt-get install postgresql)," >&2
    echo "or point KAPKIT_TEST_DATABASE_URL at a server you own." >&2
    exit 1
  fi
}

start() {
  ensure_installed
  local bin dir
  bin="$(bindir)"
  dir="$(mktemp -d "${TMPDIR:-/tmp}/kapkit-pg.XXXXXX")"
  local as=()
  if [ "$(id -u)" = 0 ]; then
    # initdb refuses to run as root: the cluster belongs to the postgres user (created by the package).
    id postgres >/dev/null 2>&1 || { echo "with-postgres: no 'postgres' user to run the cluster" >&2; exit 1; }
    chown postgres "$dir"
    as=(runuser -u postgres --)
  fi
  "${as[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  if ! "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -c unix_socket_directories=$dir" -w start >/dev/null; then
    cat "$dir/server.log" >&2
    echo "with-postgres: could not start PostgreSQL on 127.0.0.1:$PORT (in use? set KAPKIT_PG_PORT)" >&2
    rm -rf "$dir"
    exit 1
  fi
  echo "with-postgres: PostgreSQL $("$bin/pg_ctl" --version | awk '{print $3}') on 127.0.0.1:$PORT ($dir)" >&2
  echo "export KAPKIT_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$PORT/postgres"
  echo "export KAPKIT_PG_DIR=$dir"
}

stop() {
  local dir="${1:-${KAPKIT_PG_DIR:-}}"
  [ -n "$dir" ] && [ -d "$dir/data" ] || return 0
  local bin as=()
  bin="$(bindir)"
  [ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  run)
    shift
    eval "$(start)"
    trap 'stop "$KAPKIT_PG_DIR"' EXIT
    "$@"
    ;;
  *)
    echo "usage: $0 start | stop DIR | run COMMAND…" >&2
    exit 2
    ;;
esac
