# Helpers shared by the HTTP benchmarks; sourced by bench/http.sh, never run on its own.
#
# Everything it starts (AAP, the baseline, PostgreSQL, moto) is stopped, and its temporary folder removed, when
# the sourcing script exits, on failure too. Every request goes to 127.0.0.1; every wrk and curl run has a bound.

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
threads="${WRK_THREADS:-2}"
connections="${WRK_CONNECTIONS:-32}"
duration="${WRK_DURATION:-10s}"
warmup="${WRK_WARMUP:-3s}"
runs="${BENCH_RUNS:-3}"
ref="${BENCH_REF:-}"
commit=""
ready_tries=600 # polls 50 ms apart: 30 s at most for a process to answer

work="$(mktemp -d -t aap-bench-XXXXXX)"
pids=()
pg_data=""
pg_bin=""

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
  for pid in "${pids[@]}"; do
    stop "$pid"
  done
  if [[ -n "$pg_data" && -f "$pg_data/postmaster.pid" ]]; then
    as_postgres "$pg_bin/pg_ctl" -D "$pg_data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Stops one of the processes this script started and forgets it.
stop_started() {
  local pid="$1" kept=() p
  stop "$pid"
  for p in "${pids[@]}"; do
    [[ "$p" != "$pid" ]] && kept+=("$p")
  done
  pids=("${kept[@]}")
}

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

# Median, lowest and highest of the numbers after the unit: spread UNIT N...  prints "median UNIT (low–high UNIT)".
spread() {
  local unit="$1"
  shift
  printf '%s\n' "$@" | sort -g | awk -v u="$unit" '{ v[NR] = $1 } END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%s%s (%s–%s%s)", m, u, v[1], v[NR], u
  }'
}

median() { spread "" "$@" | awk '{ print $1 }'; }

percent() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", 100 * a / b }'; }

at_least() { awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b) ? "met" : "not met" }'; }

machine() {
  local memory_gib measured="from the working tree"
  memory_gib="$(awk '/^MemTotal:/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo 2>/dev/null || echo "?")"
  [[ -n "$commit" ]] && measured="at $commit"
  echo "machine: $(nproc) cores, $memory_gib GiB; AAP $measured"
}

# --- tools and builds ------------------------------------------------------------------------------------------
require_tools() {
  local tool
  for tool in dotnet curl jq python3; do
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
}

publish_one() {
  local project="$1" out="$2"
  dotnet publish "$project" -c Release -o "$out" --nologo -v quiet >"$out.publish.log" 2>&1 || {
    cat "$out.publish.log" >&2
    exit 1
  }
}

# AAP (the working tree, or BENCH_REF exported clean with git archive) and the baseline, in Release.
publish_apps() {
  local source="$root"
  if [[ -n "$ref" ]]; then
    source="$work/source"
    mkdir -p "$source"
    commit="$(git -C "$root" rev-parse --short "$ref^{commit}")"
    git -C "$root" archive --format=tar "$commit" | tar -x -C "$source"
    log "AAP from $ref ($commit)"
  fi
  publish_beside_aap "$source" baseline "$root/bench/Baseline/Baseline.csproj" Baseline.dll "the baseline"
}

# AAP from SOURCE and a second project of bench/ into $work/aap and $work/NAME, in Release; with BENCH_PUBLISHED, taken
# from there when both were published before, else kept there after publishing.
# publish_beside_aap SOURCE NAME PROJECT DLL WHAT
publish_beside_aap() {
  local source="$1" name="$2" project="$3" dll="$4" what="$5"
  if [[ -n "${BENCH_PUBLISHED:-}" && -f "$BENCH_PUBLISHED/aap/aap.dll" && -f "$BENCH_PUBLISHED/$name/$dll" ]]; then
    log "AAP and $what as published before in $BENCH_PUBLISHED"
    cp -r "$BENCH_PUBLISHED/aap" "$BENCH_PUBLISHED/$name" "$work/"
    return
  fi
  log "publishing AAP and $what in Release"
  publish_one "$source/src/Aap.Api/Aap.Api.csproj" "$work/aap"
  publish_one "$project" "$work/$name"
  if [[ -n "${BENCH_PUBLISHED:-}" ]]; then
    mkdir -p "$BENCH_PUBLISHED"
    cp -r "$work/aap" "$work/$name" "$BENCH_PUBLISHED/"
  fi
}

# --- processes -------------------------------------------------------------------------------------------------
# Production requires a token signing key; a throwaway one per run, as a deployment would have its own.
signing_key="${Auth__SigningKey:-$(head -c 48 /dev/urandom | base64 -w 0)}"
link_signing_key="${Storage__LinkSigningKey:-$(head -c 48 /dev/urandom | base64 -w 0)}"
admin_name=bench-admin
admin_email=bench-admin@example.com
admin_password="Bench-admin-$(head -c 12 /dev/urandom | base64 -w 0 | tr -d '+/=')"
user_password="Bench-user-pass-2026"

# Both AAP and the baseline run with the environment the image sets for the runtime (MALLOC_ARENA_MAX=2, glibc's
# malloc arenas; an exported value wins, and 0 gives glibc's default), so that the memory measured is the image's.
malloc_arena_max="${MALLOC_ARENA_MAX:-2}"

# Starts AAP from its publish folder (so that its appsettings.json is the content root's) with any extra
# NAME=value settings; its pid is in $aap_pid and its URL in $aap. AAP reads Kestrel:Endpoints from
# appsettings.json, which wins over --urls: the endpoint is set there too. The bootstrap admin lets a benchmark
# change runtime settings; the sign-in rate limit is lifted, since every benchmark account signs in from 127.0.0.1,
# and the general rate limits stay on but far above any load here (every request takes a permit and gets its
# RateLimit headers, none is refused), so that wrk measures the endpoint and not 429 answers.
bench_limits=(RateLimits__Anonymous__PermitLimit=10000000 RateLimits__User__PermitLimit=10000000 RateLimits__Admin__PermitLimit=10000000
  RateLimits__Anonymous__PerHour=10000000 RateLimits__User__PerHour=10000000 RateLimits__Admin__PerHour=10000000
  RateLimits__UploadBytes__Limit=1000000000000)
start_aap() {
  local data="$1" port
  shift
  port="$(free_port)"
  (
    cd "$work/aap"
    exec env ASPNETCORE_ENVIRONMENT=Production AAP_DATA_DIR="$data" MALLOC_ARENA_MAX="$malloc_arena_max" \
      Log__ConsoleEnabled="${Log__ConsoleEnabled:-false}" Log__FileEnabled="${Log__FileEnabled:-true}" \
      Auth__SigningKey="$signing_key" Storage__LinkSigningKey="$link_signing_key" Kestrel__Endpoints__Http__Url="http://127.0.0.1:$port" \
      Auth__RateLimitPermits=1000000 "${bench_limits[@]}" \
      Bootstrap__Admin__UserName="$admin_name" Bootstrap__Admin__Email="$admin_email" Bootstrap__Admin__Password="$admin_password" \
      "$@" dotnet aap.dll --urls "http://127.0.0.1:$port"
  ) >>"$work/aap.log" 2>&1 &
  aap_pid=$!
  pids+=("$aap_pid")
  aap="http://127.0.0.1:$port"
}

# Starts AAP and waits until it is migrated and ready.
run_aap() {
  start_aap "$@"
  wait_ready "$aap_pid" "$aap/health/ready" "$ready_tries" 0.05 aap
}

# Starts the bare baseline; any arguments go to it (e.g. --metrics=otel); its pid is in $baseline_pid, its URL in $baseline.
run_baseline() {
  local port
  port="$(free_port)"
  (
    cd "$work/baseline"
    exec env ASPNETCORE_ENVIRONMENT=Production MALLOC_ARENA_MAX="$malloc_arena_max" dotnet Baseline.dll --urls "http://127.0.0.1:$port" "$@"
  ) >>"$work/baseline.log" 2>&1 &
  baseline_pid=$!
  pids+=("$baseline_pid")
  baseline="http://127.0.0.1:$port"
  wait_ready "$baseline_pid" "$baseline/api/v1/status" "$ready_tries" 0.05 baseline
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

# --- the API ---------------------------------------------------------------------------------------------------
# One JSON call to AAP: api METHOD PATH [BODY] [TOKEN]; prints the body, fails on a status other than 2xx.
api() {
  local method="$1" path="$2" body="${3:-}" token="${4:-}" args out code
  args=(-s --max-time 30 -X "$method" -w '\n%{http_code}')
  [[ -n "$body" ]] && args+=(-H 'Content-Type: application/json' --data "$body")
  [[ -n "$token" ]] && args+=(-H "Authorization: Bearer $token")
  out="$(curl "${args[@]}" "$aap$path")"
  code="${out##*$'\n'}"
  out="${out%$'\n'*}"
  if [[ "$code" != 2* ]]; then
    log "$method $path answered $code: $out"
    return 1
  fi
  printf '%s\n' "$out"
}

login() { api POST /api/v1/auth/login "$(jq -nc --arg l "$1" --arg p "$2" '{login: $l, password: $p}')" | jq -er .data.access_token; }

# Registers an account and prints an access token for it.
new_user() {
  api POST /api/v1/auth/register "$(jq -nc --arg e "$1" --arg p "$user_password" '{email: $e, password: $p}')" >/dev/null
  login "$1" "$user_password"
}

# Access tokens live 30 s by default: long enough for setting up, not for a run of several minutes.
long_tokens() {
  local admin
  admin="$(login "$admin_name" "$admin_password")"
  api PUT /api/v1/admin/settings/auth.access_token_lifetime_seconds '{"value": 3600}' "$admin" >/dev/null
}

# --- wrk -------------------------------------------------------------------------------------------------------
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

# CPU time (user + system) a process has used so far, in clock ticks (/proc/PID/stat, fields 14 and 15).
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
clock_ticks="$(getconf CLK_TCK 2>/dev/null || echo 100)"

# Runs wrk against a URL (any further arguments go to wrk, e.g. -H): a warm-up run, then the measured one,
# whose output is saved as <name>.wrk. With $drive_pid set, the CPU ticks that process used during the measured
# run are saved as <name>.cpu.
drive() {
  local name="$1" url="$2" ticks=""
  shift 2
  log "$name: warm-up ($warmup), then wrk -t$threads -c$connections -d$duration $url"
  timeout "$(($(seconds "$warmup") + 30))" wrk -t"$threads" -c"$connections" -d"$warmup" "$@" "$url" >/dev/null
  [[ -n "${drive_pid:-}" ]] && ticks="$(cpu_ticks "$drive_pid")"
  timeout "$(($(seconds "$duration") + 30))" wrk -t"$threads" -c"$connections" -d"$duration" --timeout 5s --latency "$@" "$url" >"$work/$name.wrk"
  [[ -n "$ticks" ]] && echo $(($(cpu_ticks "$drive_pid") - ticks)) >"$work/$name.cpu"
  if grep -q -e 'Non-2xx or 3xx responses' -e 'Socket errors' "$work/$name.wrk"; then
    log "$name: wrk saw failed requests, so its numbers would not measure the endpoint:"
    cat "$work/$name.wrk" >&2
    return 1
  fi
}

rps_of() { awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$work/$1.wrk"; }
requests_of() { awk '/ requests in / { print $1; exit }' "$work/$1.wrk"; }
# Microseconds of the server's CPU per request of the last measured run of <name> (drive with $drive_pid set).
cpu_us_of() { awk -v t="$(cat "$work/$1.cpu")" -v hz="$clock_ticks" -v n="$(requests_of "$1")" 'BEGIN { printf "%.1f", t / hz * 1000000 / n }'; }
latency_of() { to_ms "$(awk -v p="$2" '$1 == p { print $2; exit }' "$work/$1.wrk")"; }

# Measures an AAP route beside the baseline's status route (or the baseline's $baseline_path, when set), $runs times,
# alternating, and prints one line per run and the median ratio with its spread: compare LABEL TARGET_PERCENT PATH
# [wrk arguments].
# The ratio's median is left in $ratio, the ratios in $ratios_all, AAP's CPU µs per request (median) in $aap_cpu_us.
compare() {
  local label="$1" target="$2" path="$3" run a b ratios=() cpus=()
  shift 3
  echo
  echo "$label: GET $path, wrk -t$threads -c$connections -d$duration (after a $warmup warm-up), $runs runs"
  printf '%-4s %12s %14s %16s %18s %8s %14s\n' run "aap req/s" "baseline req/s" "aap p50/p99 ms" "base p50/p99 ms" ratio "aap CPU µs/req"
  for ((run = 1; run <= runs; run++)); do
    drive_pid="$aap_pid" drive aap "$aap$path" "$@"
    drive baseline "$baseline${baseline_path:-/api/v1/status}"
    a="$(rps_of aap)"
    b="$(rps_of baseline)"
    ratios+=("$(percent "$a" "$b")")
    cpus+=("$(cpu_us_of aap)")
    printf '%-4s %12s %14s %16s %18s %7s%% %14s\n' "$run" "$a" "$b" "$(latency_of aap 50%) / $(latency_of aap 99%)" \
      "$(latency_of baseline 50%) / $(latency_of baseline 99%)" "${ratios[-1]}" "${cpus[-1]}"
  done
  ratio="$(median "${ratios[@]}")"
  ratios_all=("${ratios[@]}")
  aap_cpu_us="$(median "${cpus[@]}")"
  if [[ -n "$target" ]]; then
    echo "ratio aap/baseline, median (lowest–highest): $(spread % "${ratios[@]}") (target >= $target%: $(at_least "$ratio" "$target"))"
  else
    echo "ratio aap/baseline, median (lowest–highest): $(spread % "${ratios[@]}")"
  fi
}

# One value of a query: in the SQLite file FILE, or in the benchmark's PostgreSQL (start_postgres) when PROVIDER is
# not sqlite: query_value PROVIDER FILE SQL.
query_value() {
  if [[ "$1" == sqlite ]]; then
    sqlite3 -cmd ".timeout 60000" "$2" "$3"
  else
    "$pg_bin/psql" "${pg_psql[@]}" -At -c "$3"
  fi
}

# Runs the calling script's bench_provider for each argument: sqlite, postgres, or all (both, in that order).
each_provider() {
  local provider
  for provider in "$@"; do
    case "$provider" in
      sqlite | postgres) bench_provider "$provider" ;;
      all) bench_provider sqlite && bench_provider postgres ;;
      *) log "unknown provider '$provider': use sqlite, postgres or all"; exit 1 ;;
    esac
  done
}

# --- servers ---------------------------------------------------------------------------------------------------
as_postgres() {
  if [[ "$(id -u)" == 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# A throwaway PostgreSQL cluster on a free loopback port, as scripts/test.sh starts one; its connection string
# for AAP is in $pg_connection and psql's arguments in $pg_psql.
start_postgres() {
  local dir port
  for dir in /usr/lib/postgresql/*/bin; do
    [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]] && pg_bin="$dir"
  done
  if [[ -z "$pg_bin" ]]; then
    log "PostgreSQL's initdb and pg_ctl were not found under /usr/lib/postgresql (apt-get install postgresql)"
    return 1
  fi
  # initdb refuses to run as root: the cluster belongs to an unprivileged user.
  if [[ "$(id -u)" == 0 ]]; then
    id -u postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    chown postgres "$work"
  fi
  pg_data="$work/pg"
  as_postgres mkdir -m 700 "$pg_data"
  port="$(free_port)"
  as_postgres "$pg_bin/initdb" -D "$pg_data" -U postgres -A trust -E UTF8 --no-locale >"$work/initdb.log" 2>&1 || {
    cat "$work/initdb.log" >&2
    return 1
  }
  # A throwaway cluster: durability off, as in the tests; the numbers are for reads, which it does not change.
  as_postgres "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_data/server.log" -w -t 60 \
    -o "-p $port -k $pg_data -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null || {
    cat "$pg_data/server.log" >&2
    return 1
  }
  "$pg_bin/createdb" -h 127.0.0.1 -p "$port" -U postgres aap_bench
  pg_connection="Host=127.0.0.1;Port=$port;Username=postgres;Database=aap_bench${PG_CONNECTION_EXTRA:-}"
  pg_psql=(-h 127.0.0.1 -p "$port" -U postgres -d aap_bench -v ON_ERROR_STOP=1 -q)
  log "PostgreSQL $("$pg_bin/pg_ctl" --version | awk '{print $3}') on 127.0.0.1:$port"
}

# An S3-compatible server (moto) on a free loopback port; its URL is in $s3.
start_s3() {
  local port i
  if ! command -v moto_server >/dev/null; then
    log "moto_server (Python package moto) is required for the S3 measurement"
    return 1
  fi
  port="$(free_port)"
  moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
  pids+=($!)
  s3="http://127.0.0.1:$port"
  for ((i = 0; i < 100; i++)); do
    [[ "$(status_of "$s3/")" == 200 ]] && return 0
    sleep 0.1
  done
  cat "$work/moto.log" >&2
  return 1
}

# --- the browser's sign-in -------------------------------------------------------------------------------------
# Signs in through the sign-in page as a browser does (the form, its antiforgery token and cookie) and prints the
# Cookie header value of the cookies a browser then holds: the auth cookies of the answer and the antiforgery cookie
# of the form (a browser sends it back, so a page reads it instead of issuing a new one): sign_in LOGIN PASSWORD.
# The cookies are read from Set-Cookie rather than kept in a cookie jar, since in Production they are Secure and curl
# keeps no Secure cookie over http. The access token's lifetime is the one set when signing in (long_tokens).
set_cookies() { sed -n 's/^[Ss]et-[Cc]ookie: *\([^;]*\).*/\1/p' "$1" | tr -d '\r' | grep -v '=$' | paste -sd ';' - | sed 's/;/; /g'; }

sign_in() {
  local login="$1" password="$2" form token cookies code
  form="$(curl -s --max-time 30 -D "$work/sign-in.headers" "$aap/account/sign-in")"
  token="$(printf '%s' "$form" | sed -n 's/.*name="__RequestVerificationToken"[^>]*value="\([^"]*\)".*/\1/p' | head -n 1)"
  [[ -n "$token" ]] || token="$(printf '%s' "$form" | sed -n 's/.*value="\([^"]*\)"[^>]*name="__RequestVerificationToken".*/\1/p' | head -n 1)"
  cookies="$(set_cookies "$work/sign-in.headers")"
  code="$(curl -s --max-time 30 -o /dev/null -D "$work/signed-in.headers" -w '%{http_code}' -H "Cookie: $cookies" \
    --data-urlencode "Input.Login=$login" --data-urlencode "Input.Password=$password" --data-urlencode "__RequestVerificationToken=$token" \
    "$aap/account/sign-in")"
  if [[ "$code" != 302 ]]; then
    log "sign-in of $login through the page answered $code instead of a redirect"
    return 1
  fi
  { set_cookies "$work/signed-in.headers"; printf '; %s' "$cookies"; } | tr ';' '\n' | sed 's/^ *//' | grep -E '^aap_(access|refresh|antiforgery)=' |
    awk -F= '!seen[$1]++' | paste -sd ';' - | sed 's/;/; /g'
}
