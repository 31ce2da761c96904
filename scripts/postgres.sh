# A throwaway PostgreSQL server for the test suite, sourced by scripts/test.sh (after
# _env.sh). The job history's contract tests run against it as they run against SQLite.
#
#   start_test_postgres   installs PostgreSQL if needed (Debian, as root), starts a fresh
#                         cluster in a temporary folder on a free 127.0.0.1 port, creates
#                         the database seisproc_test and exports
#                         SEISPROC_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:PORT/seisproc_test
#   stop_test_postgres    stops that server and removes its folder (call it from a trap)
#
# A URL already in SEISPROC_TEST_POSTGRES_URL is used as is (a server of your own; the tests
# create and drop one database per test on it). The cluster runs with fsync off: it holds
# nothing worth keeping, and it makes the per-test databases cheap.

_seisproc_pg_dir=""
_seisproc_pg_bin=""

_pg_bindir() {
    local initdb
    initdb="$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)"
    if [ -z "$initdb" ] && command -v initdb >/dev/null 2>&1; then
        initdb="$(command -v initdb)"
    fi
    [ -n "$initdb" ] || return 1
    dirname "$(readlink -f "$initdb")"
}

# Run a PostgreSQL program as the cluster's owner: the postgres user when we are root
# (the server refuses to run as root), else ourselves. From the cluster's folder, so the
# programs never trip over a working directory that user cannot read.
_pg_as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        (cd "$_seisproc_pg_dir" && runuser -u postgres -- "$@")
    else
        (cd "$_seisproc_pg_dir" && "$@")
    fi
}

_free_port() {
    "$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_test_postgres() {
    if [ -n "${SEISPROC_TEST_POSTGRES_URL:-}" ]; then
        echo "PostgreSQL: using SEISPROC_TEST_POSTGRES_URL as given"
        return 0
    fi
    if ! _seisproc_pg_bin="$(_pg_bindir)"; then
        _apt_install postgresql || return 1
        _seisproc_pg_bin="$(_pg_bindir)" || return 1
    fi
    _seisproc_pg_dir="$(mktemp -d -t seisproc-pg.XXXXXX)"
    [ "$(id -u)" -ne 0 ] || chown postgres: "$_seisproc_pg_dir"
    local port
    port="$(_free_port)"
    _pg_as_owner "$_seisproc_pg_bin/initdb" -D "$_seisproc_pg_dir/data" -U postgres \
        --auth=trust --encoding=UTF8 --no-locale >"$_seisproc_pg_dir/initdb.log" 2>&1 || {
        cat "$_seisproc_pg_dir/initdb.log" >&2
        return 1
    }
    _pg_as_owner "$_seisproc_pg_bin/pg_ctl" -D "$_seisproc_pg_dir/data" \
        -l "$_seisproc_pg_dir/server.log" -w -t 60 -o "-p $port -k $_seisproc_pg_dir \
        -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
        -c full_page_writes=off -c max_connections=200" start >/dev/null || {
        cat "$_seisproc_pg_dir/server.log" >&2
        return 1
    }
    _pg_as_owner "$_seisproc_pg_bin/createdb" -h 127.0.0.1 -p "$port" -U postgres seisproc_test \
        || return 1
    export SEISPROC_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$port/seisproc_test"
    echo "PostgreSQL $("$_seisproc_pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

stop_test_postgres() {
    if [ -n "$_seisproc_pg_dir" ] && [ -d "$_seisproc_pg_dir/data" ]; then
        _pg_as_owner "$_seisproc_pg_bin/pg_ctl" -D "$_seisproc_pg_dir/data" -m immediate \
            -w stop >/dev/null 2>&1 || true
    fi
    if [ -n "$_seisproc_pg_dir" ]; then
        rm -rf "$_seisproc_pg_dir"
        _seisproc_pg_dir=""
    fi
}
