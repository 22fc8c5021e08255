#!/usr/bin/env bash
# HTTP benchmark of the foundation: AAP's GET /api/v1/status beside a bare ASP.NET Core app answering the same
# route (bench/Baseline), driven by wrk in the same run with the same settings, plus AAP's cold start on SQLite.
# It reports the numbers and whether the targets are met; it fails only when a measurement could not be made.
#
# Both apps are published in Release and listen on free loopback ports; AAP runs as in production (Production
# environment, SQLite in a fresh data folder, file logging on) except that console logging is off.
#
# Usage: bench/http.sh
#   WRK_THREADS (2), WRK_CONNECTIONS (32), WRK_DURATION (10s): settings of each measured wrk run
#   WRK_WARMUP (3s): length of the warm-up run before each measured one
#   COLD_START_RUNS (3): cold starts measured, each on a fresh data folder; the median is reported
#   BENCH_REF: a commit of AAP to measure (e.g. HEAD), exported clean with git archive; default: the working tree
# AAP's own settings in the environment reach it as usual, to see what one costs, e.g. Log__FileEnabled=false.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
threads="${WRK_THREADS:-2}"
connections="${WRK_CONNECTIONS:-32}"
duration="${WRK_DURATION:-10s}"
warmup="${WRK_WARMUP:-3s}"
cold_runs="${COLD_START_RUNS:-3}"
ref="${BENCH_REF:-}"
commit=""
target_ratio=50
target_cold_ms=2000
ready_tries=600 # polls 50 ms apart: 30 s at most for a process to answer
cold_tries=3000 # polls about 10 ms apart while timing a cold start

work="$(mktemp -d -t aap-bench-XXXXXX)"
cold_pid=""
aap_pid=""
baseline_pid=""

log() { printf 'http.sh: %s\n' "$*" >&2; }

stop() {
  local pid="$1" i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local status=$? pid
  for pid in "$cold_pid" "$aap_pid" "$baseline_pid"; do
    [[ -n "$pid" ]] && stop "$pid"
  done
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  local port i
  if port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null)"; then
    echo "$port"
    return
  fi
  for ((i = 0; i < 50; i++)); do
    port="$(shuf -i 20000-60000 -n 1)"
    # A refused connection means nothing listens there.
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  log "no free loopback port found"
  return 1
}

# "10s", "2m", "1h" or a plain number of seconds, as wrk reads its -d option.
seconds() {
  case "$1" in
    *s) echo "${1%s}" ;;
    *m) echo $((${1%m} * 60)) ;;
    *h) echo $((${1%h} * 3600)) ;;
    *) echo "$1" ;;
  esac
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

status_of() { curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$1" 2>/dev/null || true; }

# Production requires a token signing key; a throwaway one per run, as a deployment would have its own.
signing_key="${Auth__SigningKey:-$(head -c 48 /dev/urandom | base64 -w 0)}"

# Starts an app from its publish folder (so that its appsettings.json is the content root's); its pid is in $!.
# AAP reads Kestrel:Endpoints from appsettings.json, which wins over --urls: the endpoint is set there too.
start_aap() {
  local port="$1" data="$2"
  (
    cd "$work/aap"
    exec env ASPNETCORE_ENVIRONMENT=Production AAP_DATA_DIR="$data" \
      Log__ConsoleEnabled="${Log__ConsoleEnabled:-false}" Log__FileEnabled="${Log__FileEnabled:-true}" \
      Auth__SigningKey="$signing_key" Kestrel__Endpoints__Http__Url="http://127.0.0.1:$port" \
      dotnet aap.dll --urls "http://127.0.0.1:$port"
  ) >>"$work/aap.log" 2>&1 &
}

start_baseline() {
  local port="$1"
  (
    cd "$work/baseline"
    exec env ASPNETCORE_ENVIRONMENT=Production dotnet Baseline.dll --urls "http://127.0.0.1:$port"
  ) >>"$work/baseline.log" 2>&1 &
}

# Polls a URL until it answers 200, the process exits or the tries run out.
wait_ready() {
  local pid="$1" url="$2" tries="$3" pause="$4" name="$5" i
  for ((i = 0; i < tries; i++)); do
    if [[ "$(status_of "$url")" == 200 ]]; then
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      log "$name exited before $url answered 200; its output:"
      tail -n 40 "$work/$name.log" >&2 || true
      return 1
    fi
    sleep "$pause"
  done
  log "$name did not answer 200 on $url after $tries tries; its output:"
  tail -n 40 "$work/$name.log" >&2 || true
  return 1
}

# Latency as printed by wrk (850.00us, 1.20ms, 1.01s) in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000
    else if (v ~ /ms$/) n = n
    else if (v ~ /m$/) n *= 60000
    else if (v ~ /s$/) n *= 1000
    printf "%.2f", n
  }'
}

# Runs wrk against a URL: a warm-up run, then the measured one, whose output is saved as <name>.wrk.
drive() {
  local name="$1" url="$2" bound
  bound=$(($(seconds "$duration") + 30))
  log "$name: warm-up ($warmup), then wrk -t$threads -c$connections -d$duration $url"
  timeout "$(($(seconds "$warmup") + 30))" wrk -t"$threads" -c"$connections" -d"$warmup" "$url" >/dev/null
  timeout "$bound" wrk -t"$threads" -c"$connections" -d"$duration" --timeout 5s --latency "$url" >"$work/$name.wrk"
  if grep -q -e 'Non-2xx or 3xx responses' -e 'Socket errors' "$work/$name.wrk"; then
    log "$name: wrk saw failed requests, so its numbers would not measure the endpoint:"
    cat "$work/$name.wrk" >&2
    return 1
  fi
}

rps_of() { awk '/^Requests\/sec:/ { print $2 }' "$work/$1.wrk"; }
latency_of() { to_ms "$(awk -v p="$2" '$1 == p { print $2; exit }' "$work/$1.wrk")"; }
verdict() { if [[ "$1" == 1 ]]; then echo "met"; else echo "not met"; fi; }

# --- tools ---------------------------------------------------------------------------------------------------
for tool in dotnet curl; do
  if ! command -v "$tool" >/dev/null; then
    log "$tool is required and was not found on PATH"
    exit 1
  fi
done
if ! command -v wrk >/dev/null; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    log "apt-get update; apt-get install wrk"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null
  else
    log "wrk is required: install it (Debian/Ubuntu: apt-get install wrk) or run this script as root to let it do so"
    exit 1
  fi
fi

# --- publish ---------------------------------------------------------------------------------------------------
aap_source="$root"
if [[ -n "$ref" ]]; then
  aap_source="$work/source"
  mkdir -p "$aap_source"
  commit="$(git -C "$root" rev-parse --short "$ref^{commit}")"
  git -C "$root" archive --format=tar "$commit" | tar -x -C "$aap_source"
  log "AAP from $ref ($commit)"
fi
log "publishing AAP and the baseline in Release"
dotnet publish "$aap_source/src/Aap.Api/Aap.Api.csproj" -c Release -o "$work/aap" --nologo -v quiet >"$work/publish-aap.log" 2>&1 || {
  cat "$work/publish-aap.log" >&2
  exit 1
}
dotnet publish "$root/bench/Baseline/Baseline.csproj" -c Release -o "$work/baseline" --nologo -v quiet >"$work/publish-baseline.log" 2>&1 || {
  cat "$work/publish-baseline.log" >&2
  exit 1
}

# --- cold start ------------------------------------------------------------------------------------------------
# From launching the process to the first 200 of /health/ready, which answers once the database is migrated.
cold=()
for ((run = 1; run <= cold_runs; run++)); do
  port="$(free_port)"
  started="$(now_ms)"
  start_aap "$port" "$work/data-cold-$run"
  cold_pid=$!
  wait_ready "$cold_pid" "http://127.0.0.1:$port/health/ready" "$cold_tries" 0.01 aap
  cold+=($(($(now_ms) - started)))
  stop "$cold_pid"
  cold_pid=""
  log "cold start $run: ${cold[-1]} ms"
done
cold_ms="$(printf '%s\n' "${cold[@]}" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }')"

# --- throughput ------------------------------------------------------------------------------------------------
aap_port="$(free_port)"
start_aap "$aap_port" "$work/data"
aap_pid=$!
wait_ready "$aap_pid" "http://127.0.0.1:$aap_port/health/ready" "$ready_tries" 0.05 aap
baseline_port="$(free_port)"
start_baseline "$baseline_port"
baseline_pid=$!
wait_ready "$baseline_pid" "http://127.0.0.1:$baseline_port/api/v1/status" "$ready_tries" 0.05 baseline

aap_url="http://127.0.0.1:$aap_port/api/v1/status"
baseline_url="http://127.0.0.1:$baseline_port/api/v1/status"
log "aap answers:      $(curl -s --max-time 5 "$aap_url")"
log "baseline answers: $(curl -s --max-time 5 "$baseline_url")"

drive aap "$aap_url"
drive baseline "$baseline_url"

aap_rps="$(rps_of aap)"
baseline_rps="$(rps_of baseline)"
ratio="$(awk -v a="$aap_rps" -v b="$baseline_rps" 'BEGIN { printf "%.1f", 100 * a / b }')"
ratio_met="$(awk -v r="$ratio" -v t="$target_ratio" 'BEGIN { print (r >= t) ? 1 : 0 }')"
cold_met=$((cold_ms < target_cold_ms ? 1 : 0))

# --- report ----------------------------------------------------------------------------------------------------
echo
memory_gib="$(awk '/^MemTotal:/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo 2>/dev/null || echo "?")"
echo "HTTP benchmark: GET /api/v1/status, wrk -t$threads -c$connections -d$duration (after a $warmup warm-up)"
measured="from the working tree"
[[ -n "$commit" ]] && measured="at $commit"
echo "machine: $(nproc) cores, $memory_gib GiB; AAP $measured"
printf '%-10s %12s %10s %10s\n' "" "requests/s" "p50 ms" "p99 ms"
printf '%-10s %12s %10s %10s\n' "aap" "$aap_rps" "$(latency_of aap 50%)" "$(latency_of aap 99%)"
printf '%-10s %12s %10s %10s\n' "baseline" "$baseline_rps" "$(latency_of baseline 50%)" "$(latency_of baseline 99%)"
echo
echo "throughput ratio aap/baseline: $ratio% (target >= $target_ratio%: $(verdict "$ratio_met"))"
echo "cold start on SQLite, median of $cold_runs: $cold_ms ms (runs: ${cold[*]} ms; target < $target_cold_ms ms: $(verdict "$cold_met"))"
