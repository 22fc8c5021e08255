#!/usr/bin/env bash
# HTTP benchmarks of AAP, each beside a bare ASP.NET Core app answering GET /api/v1/status (bench/Baseline) in
# the same run with the same wrk settings, so that the result is a ratio that survives a busy machine.
# It reports the numbers and whether the targets are met; it fails only when a measurement could not be made.
#
# Both apps are published in Release and listen on free loopback ports; AAP runs as in production (Production
# environment, SQLite in a fresh data folder, file logging on) except that console logging is off, the sign-in
# rate limit is lifted (every benchmark account signs in from 127.0.0.1) and a bootstrap admin exists.
#
# Usage: bench/http.sh [status|me|todos|files|apps|all]...   (default: status)
#   status  GET /api/v1/status, and AAP's cold start on SQLite
#   me      GET /api/v1/me with a bearer token
#   todos   GET /api/v1/todos?page=1&size=20 for a user with 10,000 tasks, on SQLite and on PostgreSQL
#   files   upload of a 100 MB PDF to the local store and to S3 (moto): MB/s and the process's peak memory
#   apps    GET /api/v1/apps (the cached catalog), and completions with a screenshot, users in parallel
# Settings:
#   WRK_THREADS (2), WRK_CONNECTIONS (32), WRK_DURATION (10s), WRK_WARMUP (3s): each wrk run, after a warm-up
#   BENCH_RUNS (3): measured runs of each comparison (or upload, or round of completions); the spread is shown
#   COLD_START_RUNS (3): cold starts measured, each on a fresh data folder
#   TODO_TASKS (10000), UPLOAD_MB (100), COMPLETION_USERS (10), COMPLETION_APPS (20)
#   BENCH_REF: a commit of AAP to measure (e.g. HEAD), exported clean with git archive; default: the working tree
# AAP's own settings in the environment reach it as usual, to see what one costs, e.g. Log__FileEnabled=false.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

target_status=50
target_me=35
target_cold_ms=2000
cold_runs="${COLD_START_RUNS:-3}"
todo_tasks="${TODO_TASKS:-10000}"
upload_mb="${UPLOAD_MB:-100}"
completion_users="${COMPLETION_USERS:-10}"
completion_apps="${COMPLETION_APPS:-20}"

# --- status ----------------------------------------------------------------------------------------------------
# Cold start: from launching the process to the first 200 of /health/ready, which answers once the database is
# migrated; each on an empty data folder.
bench_cold_start() {
  local run started cold=()
  for ((run = 1; run <= cold_runs; run++)); do
    started="$(now_ms)"
    start_aap "$work/data-cold-$run"
    wait_ready "$aap_pid" "$aap/health/ready" 3000 0.01 aap
    cold+=($(($(now_ms) - started)))
    stop_started "$aap_pid"
    log "cold start $run: ${cold[-1]} ms"
  done
  local cold_ms
  cold_ms="$(median "${cold[@]}")"
  echo
  echo "cold start on SQLite, median (fastest–slowest) of $cold_runs: $(spread " ms" "${cold[@]}")" \
    "(target < $target_cold_ms ms: $(at_least "$((target_cold_ms - 1))" "$cold_ms"))"
}

bench_status() {
  bench_cold_start
  run_aap "$work/data-status"
  log "aap answers:      $(curl -s --max-time 5 "$aap/api/v1/status")"
  compare "status" "$target_status" /api/v1/status
  stop_started "$aap_pid"
}

# --- identity --------------------------------------------------------------------------------------------------
bench_me() {
  local token
  run_aap "$work/data-me"
  long_tokens
  token="$(new_user me@example.com)"
  log "aap answers:      $(api GET /api/v1/me "" "$token")"
  compare "me (bearer token)" "$target_me" /api/v1/me -H "Authorization: Bearer $token"
  stop_started "$aap_pid"
}

# --- to-do listing ---------------------------------------------------------------------------------------------
# One task goes through the API, so that the row has exactly what AAP writes; SQL copies it to $todo_tasks rows
# (every third priority, titles numbered), which takes a second where the API would take minutes.
todo_copies_sql() {
  local series="$1"
  cat <<SQL
INSERT INTO todo_tasks (owner_id, title, description, status, priority, due_date, completed_at, created_at, updated_at, deleted_at, version)
SELECT t.owner_id, 'Task ' || n.i, t.description, t.status, n.i % 3, t.due_date, t.completed_at, t.created_at, t.updated_at, NULL, 1
FROM todo_tasks t CROSS JOIN $series
WHERE t.id = (SELECT min(id) FROM todo_tasks);
SQL
}

fill_todos() {
  local provider="$1" token="$2" db total
  api POST /api/v1/todos '{"title": "Task 1", "description": "Written by the benchmark", "priority": "normal"}' "$token" >/dev/null
  if [[ "$provider" == sqlite ]]; then
    db="$(find "$work/data-todos-sqlite" -name '*.db' | head -n 1)"
    sqlite3 "$db" "WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < $todo_tasks) $(todo_copies_sql n)"
  else
    todo_copies_sql "generate_series(2, $todo_tasks) AS n(i)" | "$pg_bin/psql" "${pg_psql[@]}"
    "$pg_bin/psql" "${pg_psql[@]}" -c 'ANALYZE todo_tasks'
  fi
  total="$(api GET '/api/v1/todos?page=1&size=20' "" "$token" | jq -r .meta.total)"
  if [[ "$total" != "$todo_tasks" ]]; then
    log "the user has $total tasks instead of $todo_tasks"
    return 1
  fi
}

bench_todos() {
  local provider token
  for provider in sqlite postgres; do
    if [[ "$provider" == sqlite ]]; then
      command -v sqlite3 >/dev/null || { log "sqlite3 is required to fill the SQLite database"; exit 1; }
      run_aap "$work/data-todos-sqlite"
    else
      [[ -n "$pg_data" ]] || start_postgres
      run_aap "$work/data-todos-postgres" Database__Provider=Postgres ConnectionStrings__Default="$pg_connection"
    fi
    long_tokens
    token="$(new_user "todos-$provider@example.com")"
    fill_todos "$provider" "$token"
    compare "todos on $provider, $todo_tasks tasks" "" '/api/v1/todos?page=1&size=20' -H "Authorization: Bearer $token"
    stop_started "$aap_pid"
  done
}

# --- files -----------------------------------------------------------------------------------------------------
kib_of() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }

# Uploads the big PDF $runs times to a running AAP; per upload: MB/s and the peak resident memory (VmHWM) of
# the AAP process, with the peak reset just before the upload (clear_refs 5), beside the resident memory then.
upload_runs() {
  local store="$1" token run out code seconds before peak rates=() peaks=() growths=()
  token="$(new_user "files-$store@example.com")"
  curl -s --max-time 30 -o /dev/null -H "Authorization: Bearer $token" -F "file=@$work/small.pdf;type=application/pdf" "$aap/api/v1/files"
  echo
  echo "upload of $upload_mb MiB to the $store store, $runs runs"
  printf '%-4s %10s %10s %18s %18s %14s\n' run seconds "MB/s" "RSS before, MiB" "peak RSS, MiB" "growth, MiB"
  for ((run = 1; run <= runs; run++)); do
    before="$(kib_of "$aap_pid" VmRSS)"
    echo 5 >"/proc/$aap_pid/clear_refs" 2>/dev/null || log "could not reset the peak (clear_refs): the peak includes what came before"
    out="$(curl -s --max-time 600 -o "$work/upload.json" -w '%{http_code} %{time_total}' \
      -H "Authorization: Bearer $token" -F "file=@$work/big.pdf;type=application/pdf" "$aap/api/v1/files")"
    code="${out%% *}"
    seconds="${out#* }"
    if [[ "$code" != 201 ]]; then
      log "upload answered $code: $(cat "$work/upload.json")"
      return 1
    fi
    peak="$(kib_of "$aap_pid" VmHWM)"
    rates+=("$(awk -v b="$(stat -c %s "$work/big.pdf")" -v s="$seconds" 'BEGIN { printf "%.1f", b / 1048576 / s }')")
    peaks+=("$(mib "$peak")")
    growths+=("$(mib $((peak - before)))")
    printf '%-4s %10.2f %10s %18s %18s %14s\n' "$run" "$seconds" "${rates[-1]}" "$(mib "$before")" "${peaks[-1]}" "${growths[-1]}"
  done
  echo "MB/s, median (lowest–highest): $(spread "" "${rates[@]}"); peak RSS: $(spread " MiB" "${peaks[@]}"), growth over the RSS before: $(spread " MiB" "${growths[@]}") for a $upload_mb MiB file"
}

bench_files() {
  # A valid PDF: the signature, then bytes without any '<', so that nothing in it looks like markup.
  { printf '%%PDF-1.4\n'; head -c $((upload_mb * 1048576)) /dev/zero; } >"$work/big.pdf"
  { printf '%%PDF-1.4\n'; head -c 1024 /dev/zero; } >"$work/small.pdf"
  local limits=(Storage__MaxFileBytes=209715200 Http__MaxRequestBodyBytes=262144000)
  run_aap "$work/data-files-local" "${limits[@]}"
  upload_runs local
  stop_started "$aap_pid"
  start_s3
  run_aap "$work/data-files-s3" "${limits[@]}" Storage__Provider=S3 Storage__S3__ServiceUrl="$s3" Storage__S3__ForcePathStyle=true \
    Storage__S3__CreateBucket=true Storage__S3__Bucket=bench AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
  upload_runs S3
  stop_started "$aap_pid"
  rm -f "$work/big.pdf"
}

# --- apps and completions --------------------------------------------------------------------------------------
# A 1x1 PNG; each proof gets unique bytes appended, since one image cannot prove two completions.
png_base64='iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='

# One user completes every app, one after the other, timing each completion in <user>.times.
complete_all() {
  local round="$1" user="$2" token="$3" id code time
  shift 3
  for id in "$@"; do
    printf '%s' "$png_base64" | base64 -d >"$work/proof-$user.png"
    printf 'proof %s %s %s' "$round" "$user" "$id" >>"$work/proof-$user.png"
    read -r code time < <(curl -s --max-time 60 -o /dev/null -w '%{http_code} %{time_total}\n' -H "Authorization: Bearer $token" \
      -F "screenshot=@$work/proof-$user.png;type=image/png" "$aap/api/v1/apps/$id/completions")
    [[ "$code" == 201 ]] || { log "completion of app $id by user $user answered $code"; return 1; }
    echo "$time" >>"$work/$user.times"
  done
}

bench_apps() {
  local admin i round user started elapsed latency ids rates=() tokens=() jobs=()
  run_aap "$work/data-apps"
  long_tokens
  admin="$(login "$admin_name" "$admin_password")"
  for ((i = 1; i <= completion_apps; i++)); do
    api POST /api/v1/apps "$(jq -nc --arg n "Bench app $i" --argjson p "$i" \
      '{name: $n, link: "https://example.com/app", points: $p, description: "An app of the benchmark"}')" "$admin" >/dev/null
  done
  mapfile -t ids < <(api GET "/api/v1/apps?page=1&size=100" | jq -r '.data[].id')
  compare "apps (cached catalog, $completion_apps apps)" "" '/api/v1/apps'

  echo
  echo "completions: $completion_users users in parallel, each completing $completion_apps apps with a screenshot, $runs rounds"
  printf '%-6s %12s %14s %16s\n' round completions "completions/s" "p50 / p95 ms"
  for ((round = 1; round <= runs; round++)); do
    tokens=()
    for ((user = 1; user <= completion_users; user++)); do
      tokens+=("$(new_user "round$round-user$user@example.com")")
    done
    rm -f "$work"/*.times
    started="$(now_ms)"
    jobs=()
    for ((user = 1; user <= completion_users; user++)); do
      complete_all "$round" "$user" "${tokens[user - 1]}" "${ids[@]}" &
      jobs+=($!)
    done
    for i in "${jobs[@]}"; do
      wait "$i"
    done
    elapsed=$(($(now_ms) - started))
    cat "$work"/*.times | sort -g >"$work/all.times"
    rates+=("$(awk -v n="$(wc -l <"$work/all.times")" -v ms="$elapsed" 'BEGIN { printf "%.1f", n * 1000 / ms }')")
    latency="$(awk '{ v[NR] = $1 * 1000 } END { printf "%.0f / %.0f", v[int((NR + 1) / 2)], v[int(NR * 0.95 + 0.5)] }' "$work/all.times")"
    printf '%-6s %12s %14s %16s\n' "$round" "$(wc -l <"$work/all.times")" "${rates[-1]}" "$latency"
  done
  echo "completions/s, median (lowest–highest): $(spread "" "${rates[@]}")"
  stop_started "$aap_pid"
}

# --- main ------------------------------------------------------------------------------------------------------
commands=("$@")
[[ ${#commands[@]} == 0 ]] && commands=(status)
[[ "${commands[*]}" == all ]] && commands=(status me todos files apps)
for command in "${commands[@]}"; do
  case "$command" in
    status | me | todos | files | apps) ;;
    *)
      log "unknown benchmark '$command': use status, me, todos, files, apps or all"
      exit 2
      ;;
  esac
done

require_tools
publish_apps
run_baseline
log "baseline answers: $(curl -s --max-time 5 "$baseline/api/v1/status")"
echo "HTTP benchmarks: ${commands[*]}"
machine
for command in "${commands[@]}"; do
  "bench_$command"
done
