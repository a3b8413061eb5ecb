# shellcheck shell=bash
# Sourced by .ci/run: start a throwaway PostgreSQL on 127.0.0.1 for the tests and export
# FEDIVERSE_A2_TEST_POSTGRES. Uses an installed server, else installs Debian's package.
# The cluster lives in a temp folder, runs with fsync off, trusts local TCP, and is
# stopped and removed when the sourcing shell exits. Safe to run again (or concurrently)
# on the same machine: each run takes its own folder and a free port.
#
# Standalone use: bash -c '. .ci/postgres.sh; python -m pytest -q'

_a2_pg_log() { echo "postgres.sh: $*" >&2; }

# The bin folder of the newest installed server, or nothing.
_a2_pg_bindir() {
  local dir
  dir=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then echo "$dir"; return 0; fi
  for ctl in /usr/local/bin/pg_ctl "$(command -v pg_ctl 2>/dev/null || true)"; do
    if [ -n "$ctl" ] && [ -x "$ctl" ]; then
      dir=$(dirname "$(readlink -f "$ctl")")
      if [ -x "$dir/initdb" ]; then echo "$dir"; return 0; fi
    fi
  done
  return 0
}

# Install the server quietly; Debian's package would also create and start a "main"
# cluster on 5432, which we do not want, so turn that off first.
_a2_pg_install() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    _a2_pg_log "no PostgreSQL server installed and cannot apt-get install one"
    return 1
  fi
  _a2_pg_log "installing postgresql (apt-get)"
  mkdir -p /etc/postgresql-common
  grep -qs '^create_main_cluster' /etc/postgresql-common/createcluster.conf \
    || printf '\ncreate_main_cluster = false\n' >>/etc/postgresql-common/createcluster.conf
  local log
  log=$(mktemp)
  # Output only matters when it fails.
  if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      -o Dpkg::Options::=--force-confold postgresql; } >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
}

# Run a command as the server's owner: initdb and postgres refuse to run as root.
_a2_pg_as_owner() {
  if [ "$(id -u)" = 0 ]; then
    (cd / && runuser -u postgres -- "$@")  # cd: postgres may not read the checkout
  else
    "$@"
  fi
}

# Whether something already listens on 127.0.0.1:$1.
_a2_pg_port_busy() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Stop our server and remove its folder; never fails (it runs from the EXIT trap).
_a2_pg_stop() {
  if [ -n "${_A2_PG_DATA:-}" ] && [ -d "$_A2_PG_DATA" ]; then
    _a2_pg_as_owner "$_A2_PG_BIN/pg_ctl" -D "$_A2_PG_DATA" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$_A2_PG_DATA"
  fi
  _A2_PG_DATA=
}

# Create the cluster in a fresh temp folder (no databases or roles beyond initdb's).
_a2_pg_init() {
  _A2_PG_DATA=$(mktemp -d /tmp/a2-pg.XXXXXX)
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --user-group --no-create-home --shell /usr/sbin/nologin postgres
    chown postgres: "$_A2_PG_DATA"
  fi
  chmod 700 "$_A2_PG_DATA"
  _a2_pg_as_owner "$_A2_PG_BIN/initdb" -D "$_A2_PG_DATA" -U postgres --auth=trust \
    --encoding=UTF8 --locale=C --no-sync >"$_A2_PG_DATA.initdb.log" 2>&1 \
    || { cat "$_A2_PG_DATA.initdb.log" >&2; rm -f "$_A2_PG_DATA.initdb.log"; return 1; }
  rm -f "$_A2_PG_DATA.initdb.log"
  # Test settings: durability off for speed, room for many short-lived pools.
  cat >>"$_A2_PG_DATA/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$_A2_PG_DATA'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
EOF
  # Statement counts for bench/bench_scale.py (pg_stat_statements), where the server ships it.
  if [ -f "$_A2_PG_BIN/../lib/pg_stat_statements.so" ]; then
    echo "shared_preload_libraries = 'pg_stat_statements'" >>"$_A2_PG_DATA/postgresql.conf"
  fi
}

# Start on the first free port from 55432; a port taken meanwhile (a concurrent run)
# makes pg_ctl fail, and we try the next one.
_a2_pg_start() {
  local port
  for port in $(seq 55432 55531); do
    _a2_pg_port_busy "$port" && continue
    if _a2_pg_as_owner "$_A2_PG_BIN/pg_ctl" -D "$_A2_PG_DATA" -l "$_A2_PG_DATA/server.log" \
      -o "-p $port" -w -t 60 start >/dev/null 2>&1; then
      _A2_PG_PORT=$port
      return 0
    fi
  done
  _a2_pg_log "could not start the server:"
  cat "$_A2_PG_DATA/server.log" >&2 || true
  return 1
}

# Run _a2_pg_stop when the sourcing shell exits, keeping any EXIT trap it already had.
_a2_pg_trap() {
  local previous words=()
  previous=$(trap -p EXIT)
  if [ -n "$previous" ]; then
    eval "words=($previous)"  # trap -- 'COMMAND' EXIT
    previous=${words[2]}
  fi
  # shellcheck disable=SC2064  # expand now: the previous command is fixed text
  trap "_a2_pg_stop${previous:+; $previous}" EXIT
}

_a2_pg_main() {
  local started
  started=$(date +%s.%N)
  if [ -n "${FEDIVERSE_A2_TEST_POSTGRES:-}" ]; then
    _a2_pg_log "using FEDIVERSE_A2_TEST_POSTGRES=$FEDIVERSE_A2_TEST_POSTGRES"
    return 0
  fi
  _A2_PG_BIN=$(_a2_pg_bindir)
  if [ -z "$_A2_PG_BIN" ]; then
    _a2_pg_install || return 1
    _A2_PG_BIN=$(_a2_pg_bindir)
    [ -n "$_A2_PG_BIN" ] || { _a2_pg_log "postgresql installed but no server binaries found"; return 1; }
  fi
  _a2_pg_trap
  _a2_pg_init || { _a2_pg_stop; return 1; }
  _a2_pg_start || { _a2_pg_stop; return 1; }
  export FEDIVERSE_A2_TEST_POSTGRES="postgresql://postgres@127.0.0.1:$_A2_PG_PORT/postgres"
  # The backup tests run pg_dump and psql: those of this server's version come first.
  export PATH="$_A2_PG_BIN:$PATH"
  _a2_pg_log "$("$_A2_PG_BIN/postgres" --version) on 127.0.0.1:$_A2_PG_PORT ($(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $started}")s)"
}

_a2_pg_main
