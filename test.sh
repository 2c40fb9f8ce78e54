#!/usr/bin/env bash
# Runs every test of the solution. On a fresh Debian 12 machine with the .NET SDK it first installs what the
# tests need (chromium, docker-compose, PostgreSQL 15; the node helpers under tests/node when present), starts a
# throw-away PostgreSQL 15 on 127.0.0.1, runs `dotnet test`, prints one line "N passed, N failed, N skipped",
# stops PostgreSQL and exits with dotnet test's exit code.
#   ./test.sh                      everything
#   ./test.sh --filter <expr>      passes the filter to dotnet test
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log() { printf '[test.sh] %s\n' "$*" >&2; }

# 1. System packages, only when something is missing.
PGBIN=/usr/lib/postgresql/15/bin
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
[ -x "$PGBIN/initdb" ] || need+=(postgresql-15)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# 2. Node test helpers (PGlite for the pgvector path, Azurite for Azure Blob Storage), when missing or out of date.
if [ -f tests/node/package.json ] && { [ ! -f tests/node/node_modules/.package-lock.json ] ||
     [ tests/node/package-lock.json -nt tests/node/node_modules/.package-lock.json ]; }; then
  log "npm ci in tests/node"
  (cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
fi

# 3. A throw-away PostgreSQL 15 cluster on loopback.
PGPORT=${CHATBOT_TEST_PG_PORT:-55432}
PGROOT=$(mktemp -d /tmp/chatbot-test-pg.XXXXXX)
PGDATA="$PGROOT/data"
run_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
stop_pg() {
  run_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PGROOT"
}
trap stop_pg EXIT
mkdir -p "$PGDATA" && chmod 700 "$PGDATA"
[ "$(id -u)" -ne 0 ] || chown -R postgres:postgres "$PGROOT"
run_pg "$PGBIN/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
run_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGROOT/server.log" -w -t 60 \
  -o "-p $PGPORT -k $PGROOT -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >/dev/null
export CHATBOT_TEST_POSTGRES="Host=127.0.0.1;Port=$PGPORT;Username=postgres;Database=postgres"
log "PostgreSQL 15 on 127.0.0.1:$PGPORT"

# 4. Build and test. Every test host watches its content files; with inotify that is one instance per watcher, and
# the per-user limit (often 128) is shared with whatever else runs: poll instead, so parallel test hosts never hit it.
export DOTNET_USE_POLLING_FILE_WATCHER=true
dotnet tool restore >/dev/null
LOG="$PGROOT/dotnet-test.log"
set +e
dotnet test ChatBot.sln "$@" 2>&1 | tee "$LOG"
rc=${PIPESTATUS[0]}
set -e

# 5. One closing line, summed over the test projects.
summary=$(grep -E '(Passed|Failed)!' "$LOG" | sed -E 's/.*Failed: *([0-9]+), Passed: *([0-9]+), Skipped: *([0-9]+).*/\1 \2 \3/' |
  awk '{f+=$1; p+=$2; s+=$3} END {printf "%d passed, %d failed, %d skipped", p, f, s}')
if [ "$rc" -ne 0 ] && [ "${summary#* passed, 0 failed}" != "$summary" ]; then
  # dotnet test failed without a failing test (a build error or a crashed test host): count it as a failure.
  summary=$(echo "$summary" | sed -E 's/ 0 failed/ 1 failed/')
fi
echo "$summary"
exit "$rc"
