# Sourced by scripts/test.sh: a throwaway PostgreSQL cluster (Debian's binaries, not a system
# service) for the store tests, on 127.0.0.1 and a free port, stopped and removed on exit. The
# store tests then run against it as well as SQLite: it exports DROVER_TEST_POSTGRES_URL (a URL
# without a password) and PGPASSFILE (a 0600 file with the password; never argv or env).

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop_test_postgres() {
  if [ -n "${TEST_PG_DIR:-}" ] && [ -d "$TEST_PG_DIR" ]; then
    as_postgres "$TEST_PG_BIN/pg_ctl" -D "$TEST_PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$TEST_PG_DIR"
  fi
}

start_test_postgres() {
  TEST_PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  TEST_PG_DIR=$(mktemp -d /tmp/drover-test-pg.XXXXXX)
  trap stop_test_postgres EXIT
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$TEST_PG_DIR"; fi
  local port password
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_postgres "$TEST_PG_BIN/initdb" -D "$TEST_PG_DIR/data" -U postgres -E UTF8 --no-sync \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  as_postgres "$TEST_PG_BIN/pg_ctl" -D "$TEST_PG_DIR/data" -l "$TEST_PG_DIR/postgres.log" -w \
    -o "-p $port -c listen_addresses=127.0.0.1 -c fsync=off -c unix_socket_directories=$TEST_PG_DIR" start >/dev/null
  password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  # printf is a shell builtin: the password reaches psql on its standard input, not in an argv.
  printf "CREATE ROLE drover LOGIN CREATEDB PASSWORD '%s';\nCREATE DATABASE drover OWNER drover;\n" "$password" |
    as_postgres "$TEST_PG_BIN/psql" -h "$TEST_PG_DIR" -p "$port" -U postgres -d postgres -X -q -v ON_ERROR_STOP=1 -f -
  (umask 077 && printf '127.0.0.1:%s:*:drover:%s\n' "$port" "$password" > "$TEST_PG_DIR/pgpass")
  export PGPASSFILE="$TEST_PG_DIR/pgpass"
  export DROVER_TEST_POSTGRES_URL="postgres://drover@127.0.0.1:$port/drover"
}
