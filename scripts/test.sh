#!/usr/bin/env bash
# Runs every test of the solution against real servers and ends with one line:
#   tests: N passed, N failed, N skipped
#
# It provisions what the tests need when it is missing and it may (root on Debian): a throwaway PostgreSQL
# cluster and an S3-compatible server (moto_server, from the Python package moto) on free loopback ports,
# stopped and removed at exit, even on failure, and Debian's chromium for the browser tests (Playwright drives
# /usr/bin/chromium; its own browser download is not used). Set AAP_TEST_POSTGRES to an admin connection string, or
# AAP_TEST_S3 to the URL of an S3-compatible endpoint, to use servers of your own instead. Prometheus and Redis
# (Debian packages) are started the same way; AAP_TEST_PROMETHEUS / AAP_TEST_REDIS name your own.
#
# Usage: scripts/test.sh [extra dotnet test arguments, e.g. --filter FullyQualifiedName~Apps]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d -t aap-test-XXXXXX)"
pg_data=""
pg_ctl_bin=""
pg_user=""
s3_pid=""
prometheus_pid=""
redis_pid=""

log() { printf 'test.sh: %s\n' "$*" >&2; }

# Waits up to 10 s for URL to answer over HTTP while the server's process PID lives; fails at once if it dies.
answers() {
  local url=$1 pid=$2 tries
  for tries in $(seq 1 100); do
    python3 -c "import urllib.request; urllib.request.urlopen('$url', timeout=1)" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

cleanup() {
  local status=$?
  if [[ -n "$redis_pid" ]]; then
    kill "$redis_pid" >/dev/null 2>&1 || true
    wait "$redis_pid" 2>/dev/null || true
  fi
  if [[ -n "$prometheus_pid" ]]; then
    kill "$prometheus_pid" >/dev/null 2>&1 || true
    wait "$prometheus_pid" 2>/dev/null || true
  fi
  if [[ -n "$s3_pid" ]]; then
    kill "$s3_pid" >/dev/null 2>&1 || true
    wait "$s3_pid" 2>/dev/null || true
  fi
  if [[ -n "$pg_data" && -f "$pg_data/postmaster.pid" ]]; then
    run_as_pg "$pg_ctl_bin" -D "$pg_data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT INT TERM

is_root() { [[ "$(id -u)" == 0 ]]; }

apt_install() {
  if ! is_root || ! command -v apt-get >/dev/null; then
    return 1
  fi
  if [[ -z "${apt_updated:-}" ]]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    apt_updated=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

run_as_pg() {
  if [[ -n "$pg_user" ]]; then
    runuser -u "$pg_user" -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null ||
    shuf -i 20000-60000 -n 1
}

find_pg_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
      echo "$dir"
    fi
  done | sort -V | tail -n 1
}

start_postgres() {
  local bin
  bin="$(find_pg_bin)"
  if [[ -z "$bin" ]] && ! command -v initdb >/dev/null; then
    apt_install postgresql || true
    bin="$(find_pg_bin)"
  fi
  if [[ -n "$bin" ]]; then
    pg_ctl_bin="$bin/pg_ctl"
    initdb_bin="$bin/initdb"
  elif command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    pg_ctl_bin="$(command -v pg_ctl)"
    initdb_bin="$(command -v initdb)"
  else
    return 1
  fi

  # initdb refuses to run as root: the cluster belongs to an unprivileged user.
  if is_root; then
    pg_user=postgres
    id -u "$pg_user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$pg_user"
  fi

  pg_data="$work/pg"
  mkdir -p "$pg_data"
  [[ -n "$pg_user" ]] && chown "$pg_user" "$work" "$pg_data"
  chmod 700 "$pg_data"

  local port
  port="$(free_port)"
  run_as_pg "$initdb_bin" -D "$pg_data" -U postgres -A trust -E UTF8 --no-locale >"$work/initdb.log" 2>&1 || {
    cat "$work/initdb.log" >&2
    return 1
  }
  # A throwaway cluster: durability settings off for speed.
  run_as_pg "$pg_ctl_bin" -D "$pg_data" -l "$pg_data/server.log" -w -t 60 \
    -o "-p $port -k $pg_data -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null || {
    cat "$pg_data/server.log" >&2
    return 1
  }
  export AAP_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres;Pooling=true;Maximum Pool Size=20"
  log "PostgreSQL $("$pg_ctl_bin" --version | awk '{print $NF}') on 127.0.0.1:$port"
}

start_s3() {
  command -v moto_server >/dev/null || return 1
  local port
  port="$(free_port)"
  moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
  s3_pid=$!
  if answers "http://127.0.0.1:$port/" "$s3_pid"; then
    export AAP_TEST_S3="http://127.0.0.1:$port"
    # moto accepts any credentials; the AWS SDK still wants some.
    export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
    log "S3-compatible server (moto) on 127.0.0.1:$port"
    return 0
  fi
  cat "$work/moto.log" >&2
  return 1
}

# A real Prometheus (Debian package prometheus, which also brings promtool) scraping the targets that tests list as
# file_sd JSON files in $AAP_TEST_PROMETHEUS_TARGETS, every second.
start_prometheus() {
  if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
    apt_install prometheus || return 1
  fi
  local port dir="$work/prometheus"
  port="$(free_port)"
  mkdir -p "$dir/targets" "$dir/data"
  cat >"$dir/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: aap
    file_sd_configs:
      - files: ["$dir/targets/*.json"]
        refresh_interval: 1s
YAML
  prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" --web.listen-address="127.0.0.1:$port" \
    >"$dir/prometheus.log" 2>&1 &
  prometheus_pid=$!
  if answers "http://127.0.0.1:$port/-/ready" "$prometheus_pid"; then
    export AAP_TEST_PROMETHEUS="http://127.0.0.1:$port" AAP_TEST_PROMETHEUS_TARGETS="$dir/targets"
    log "Prometheus $(prometheus --version 2>&1 | awk 'NR==1 {print $3}') on 127.0.0.1:$port"
    return 0
  fi
  cat "$dir/prometheus.log" >&2
  return 1
}

# A throwaway Redis (Debian package redis-server) with nothing saved to disk; the tests that stop and start Redis
# run private ones with the same binary.
start_redis() {
  if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    apt_install redis-server || return 1
  fi
  local port tries
  port="$(free_port)"
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no >"$work/redis.log" 2>&1 &
  redis_pid=$!
  for tries in $(seq 1 100); do
    if [[ "$(redis-cli -p "$port" ping 2>/dev/null)" == PONG ]]; then
      export AAP_TEST_REDIS="127.0.0.1:$port"
      log "Redis $(redis-server --version | awk '{print $3}' | cut -d= -f2) on 127.0.0.1:$port"
      return 0
    fi
    kill -0 "$redis_pid" 2>/dev/null || break
    sleep 0.1
  done
  cat "$work/redis.log" >&2
  return 1
}

if ! command -v dotnet >/dev/null; then
  log "the .NET 10 SDK is required (dotnet not found on PATH)"
  echo "tests: 0 passed, 1 failed, 0 skipped"
  exit 1
fi

required_servers=0
[[ "${CI:-}" == "true" ]] && required_servers=1

if [[ -z "${AAP_TEST_POSTGRES:-}" ]]; then
  if start_postgres; then
    required_servers=1
  elif [[ "$required_servers" == 1 ]]; then
    log "could not provision PostgreSQL, and CI requires it"
    echo "tests: 0 passed, 1 failed, 0 skipped"
    exit 1
  else
    log "no PostgreSQL: its tests will fail with a message saying so"
  fi
fi
# The dependency-outage tests stop and start PostgreSQL clusters of their own: the binaries, and the OS user to run
# them as (initdb refuses root).
if [[ -z "${AAP_TEST_PG_BIN:-}" ]]; then
  export AAP_TEST_PG_BIN="$(find_pg_bin)"
  if is_root && id -u postgres >/dev/null 2>&1; then
    export AAP_TEST_PG_USER=postgres
  fi
fi
if [[ -z "${AAP_TEST_S3:-}" ]]; then
  if start_s3; then
    required_servers=1
  elif [[ "${CI:-}" == "true" ]]; then
    log "could not start moto_server (Python package moto) for the S3 tests"
    echo "tests: 0 passed, 1 failed, 0 skipped"
    exit 1
  else
    log "no S3-compatible server: its tests will fail with a message saying so"
  fi
fi
if [[ -z "${AAP_TEST_PROMETHEUS:-}" ]]; then
  if ! start_prometheus; then
    if [[ "${CI:-}" == "true" ]]; then
      log "could not install or start Prometheus (Debian package prometheus) for the metrics tests"
      echo "tests: 0 passed, 1 failed, 0 skipped"
      exit 1
    fi
    log "no Prometheus: the metrics tests that need it will fail with a message saying so (apt-get install prometheus)"
  fi
fi
if [[ -z "${AAP_TEST_REDIS:-}" ]]; then
  if ! start_redis; then
    if [[ "${CI:-}" == "true" ]]; then
      log "could not install or start Redis (Debian package redis-server) for the shared-state tests"
      echo "tests: 0 passed, 1 failed, 0 skipped"
      exit 1
    fi
    log "no Redis: the tests that need it will fail with a message saying so (apt-get install redis-server)"
  fi
fi
export AAP_TEST_REQUIRE_SERVERS="$required_servers"

# The browser tests fail (they never skip) without it.
if [[ ! -x /usr/bin/chromium ]]; then
  if ! apt_install chromium; then
    if [[ "${CI:-}" == "true" ]]; then
      log "could not install chromium (Debian package) for the browser tests"
      echo "tests: 0 passed, 1 failed, 0 skipped"
      exit 1
    fi
    log "no /usr/bin/chromium: the browser tests will fail with a message saying so (apt-get install chromium)"
  fi
fi

# The documentation tests run the docs' shell commands, which use curl and jq.
missing_tools=()
for tool in curl jq; do
  command -v "$tool" >/dev/null 2>&1 || missing_tools+=("$tool")
done
if (( ${#missing_tools[@]} > 0 )) && ! apt_install "${missing_tools[@]}"; then
  log "could not install ${missing_tools[*]}: the documentation tests will fail with a message saying so"
fi

# The image and compose check (tests/Aap.Api.Tests/Deploy) runs scripts/image-check.sh --compose, which starts a Docker
# engine of its own when none answers and stops it at exit: Debian's docker.io, docker-compose (v1), debootstrap (the
# base images from Debian's mirror where no registry answers) and npm (npx for the Dockerfile linter).
container_packages=()
command -v dockerd >/dev/null 2>&1 || docker info >/dev/null 2>&1 || container_packages+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 || container_packages+=(docker-compose)
command -v debootstrap >/dev/null 2>&1 || container_packages+=(debootstrap)
command -v npx >/dev/null 2>&1 || container_packages+=(npm)
if (( ${#container_packages[@]} > 0 )) && ! apt_install "${container_packages[@]}"; then
  if [[ "${CI:-}" == "true" ]]; then
    log "could not install ${container_packages[*]} (Debian packages) for the image and compose check"
    echo "tests: 0 passed, 1 failed, 0 skipped"
    exit 1
  fi
  log "could not install ${container_packages[*]}: the image and compose check will fail with a message saying so"
fi

cd "$root"
results="$work/results"
set +e
dotnet test Aap.slnx --nologo --logger "trx" --logger "console;verbosity=minimal" --results-directory "$results" "$@"
test_status=$?
set -e

passed=0 failed=0 skipped=0
shopt -s nullglob
trx_files=("$results"/*.trx)
for trx in "${trx_files[@]}"; do
  counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)"
  value() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
  passed=$((passed + $(value passed)))
  failed=$((failed + $(value failed) + $(value error) + $(value timeout) + $(value aborted)))
  skipped=$((skipped + $(value notExecuted)))
done

if [[ "$test_status" != 0 && "$failed" == 0 ]]; then
  # The build or a test host failed before any result was written.
  failed=1
fi

# Every test project writes a results file, even when a filter leaves it nothing to run; one missing means its test
# host crashed or was killed, and `dotnet test` does not always say so in its exit status.
projects=(tests/*/*.csproj)
if (( ${#trx_files[@]} < ${#projects[@]} )); then
  log "only ${#trx_files[@]} of ${#projects[@]} test projects wrote results: a test host crashed or was killed"
  failed=$((failed + 1))
  test_status=1
fi

echo "tests: $passed passed, $failed failed, $skipped skipped"
[[ "$test_status" == 0 && "$failed" == 0 ]]
