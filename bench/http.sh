#!/usr/bin/env bash
# HTTP benchmarks of AAP, each beside a bare ASP.NET Core app answering GET /api/v1/status (bench/Baseline) in
# the same run with the same wrk settings, so that the result is a ratio that survives a busy machine.
# It reports the numbers and whether the targets are met; it fails only when a measurement could not be made.
#
# Both apps are published in Release and listen on free loopback ports; AAP runs as in production (Production
# environment, SQLite in a fresh data folder, file logging on) except that console logging is off, the sign-in
# rate limit is lifted (every benchmark account signs in from 127.0.0.1) and a bootstrap admin exists.
#
# Usage: bench/http.sh [status|cold|me|todos|files|apps|pages|dashboard|observe|exporters|nodes|all]...   (default: status)
#   status  GET /api/v1/status, and AAP's cold start on SQLite
#   cold    only the cold start on SQLite (COLD_START_RUNS of them)
#   me      GET /api/v1/me with a bearer token
#   todos   GET /api/v1/todos?page=1&size=20 for a user with 10,000 tasks, on SQLite and on PostgreSQL
#   files   upload of a 100 MB PDF to the local store and to S3 (moto): MB/s and the process's peak memory
#   apps    GET /api/v1/apps (the cached catalog), beside the baseline's status route and beside the baseline serving
#           the same body from memory; and completions with a screenshot, users in parallel
#   pages   GET /apps signed in (auth cookies from the sign-in page), beside the status route and beside the baseline
#           serving the same page from memory; and GET /admin as the admin, over 200 apps
#   dashboard  GET /admin over 1,000,000 ledger entries on SQLite and on PostgreSQL: first, cold (figures past their
#           60 s bound, computed by the render; with the computation's own time from Server-Timing), stale (shown while
#           a background refresh recomputes them) and warm renders, and each statistics query timed in the database
#   observe status and me with metrics and the general rate limits on (production defaults, the limits raised above
#           the load), metrics off, limits off and both off; each case's ratio and "on vs off" against the 10% bar;
#           and one GET /metrics after the load (series, time, AAP's CPU)
#   exporters  the bare baseline beside itself with OpenTelemetry's Prometheus exporter and with prometheus-net:
#           throughput ratio and the process's CPU µs per request
#   nodes   GET /api/v1/me through a round-robin nginx in front of 1, 2 and 3 AAP processes on one PostgreSQL, beside
#           the baseline direct and behind the same nginx: req/s, ratios, and the CPU per request of AAP and nginx
# Settings:
#   WRK_THREADS (2), WRK_CONNECTIONS (32), WRK_DURATION (10s), WRK_WARMUP (3s): each wrk run, after a warm-up
#   BENCH_RUNS (3): measured runs of each comparison (or upload, or round of completions); the spread is shown
#   COLD_START_RUNS (3): cold starts measured, each on a fresh data folder
#   TODO_TASKS (10000), UPLOAD_MB (100), COMPLETION_USERS (10), COMPLETION_APPS (20)
#   PAGE_APPS (200), PAGE_USERS (10): the catalog of the pages, and the users who complete ten apps each
#   SCRAPE_RUNS (20): scrapes of /metrics timed after the observe load
#   DASHBOARD_LEDGER (1000000), DASHBOARD_APPS (200), DASHBOARD_COLD_RUNS (3, each waits 61 s, then 31 s for a stale render), DASHBOARD_WARM_RUNS (100)
#   NODES_MAX (3): the most AAP processes behind the proxy in nodes; NGINX_WORKERS (1): nginx's worker processes
#   BENCH_PUBLISHED: a folder that keeps both published apps; a later run with the same folder skips the build
#     (remove the folder after changing the code)
#   BENCH_REF: a commit of AAP to measure (e.g. HEAD), exported clean with git archive; default: the working tree
# AAP's own settings in the environment reach it as usual, to see what one costs, e.g. Log__FileEnabled=false.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

target_status=75
target_me=70
target_cold_ms=1000
cold_runs="${COLD_START_RUNS:-3}"
todo_tasks="${TODO_TASKS:-10000}"
upload_mb="${UPLOAD_MB:-100}"
completion_users="${COMPLETION_USERS:-10}"
completion_apps="${COMPLETION_APPS:-20}"
target_apps_page=25
target_apps_same_body=60
target_apps_page_same_body=40
target_dashboard_ms=200
dashboard_cache_s=30 # the dashboard's figures are fresh this long (Web/Pages/Admin/Index.Figures.cs, FreshFor)
dashboard_max_age_s=60 # and never shown older (MaxAge): a render past it waits for new figures
page_apps="${PAGE_APPS:-200}"
page_users="${PAGE_USERS:-10}"
dash_ledger="${DASHBOARD_LEDGER:-1000000}"
dash_apps="${DASHBOARD_APPS:-200}"
dash_users=$((dash_ledger / 20))
dash_completions=$((dash_ledger / 10 * 11))
dash_cold_runs="${DASHBOARD_COLD_RUNS:-3}"
dash_warm_runs="${DASHBOARD_WARM_RUNS:-100}"
dash_db=""

# --- status ----------------------------------------------------------------------------------------------------
# Cold start: from launching the process to the first 200 of /health/ready, which answers once the database is
# migrated; each on an empty data folder.
# The CPU time the process used until then is reported too: on a busy machine it moves far less than the wall clock.
bench_cold_start() {
  local run started cold=() cpu=()
  for ((run = 1; run <= cold_runs; run++)); do
    started="$(now_ms)"
    start_aap "$work/data-cold-$run"
    wait_ready "$aap_pid" "$aap/health/ready" 3000 0.01 aap
    cold+=($(($(now_ms) - started)))
    cpu+=($(($(cpu_ticks "$aap_pid") * 1000 / clock_ticks)))
    stop_started "$aap_pid"
    log "cold start $run: ${cold[-1]} ms (CPU ${cpu[-1]} ms)"
  done
  local cold_ms
  cold_ms="$(median "${cold[@]}")"
  echo
  echo "cold start on SQLite, median (fastest–slowest) of $cold_runs: $(spread " ms" "${cold[@]}")" \
    "(target < $target_cold_ms ms: $(at_least "$((target_cold_ms - 1))" "$cold_ms")); CPU until ready: $(spread " ms" "${cpu[@]}")"
}

bench_cold() {
  bench_cold_start
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
  compare_same_body "apps (cached catalog, $completion_apps apps) beside the same body from memory" "$target_apps_same_body" /api/v1/apps

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

# Measures an AAP route beside a second baseline that serves AAP's own answer of that route (captured once, with the
# same headers) from memory: compare_same_body LABEL TARGET_PERCENT PATH [wrk arguments, e.g. -H "Cookie: ..."].
# The baseline of the status route keeps running and is measured again by the next compare.
compare_same_body() {
  local label="$1" target="$2" path="$3" body kept_baseline="$baseline" kept_pid="$baseline_pid"
  shift 3
  body="$work/same-body$(if [[ "$path" == /api/* ]]; then echo .json; else echo .html; fi)"
  curl -sf --max-time 30 "$@" -o "$body" "$aap$path"
  log "$label: the baseline serves AAP's answer of $path ($(wc -c <"$body") bytes) from memory"
  run_baseline "--serve=$path=$body"
  baseline_path="$path" compare "$label" "$target" "$path" "$@"
  stop_started "$baseline_pid"
  baseline="$kept_baseline"
  baseline_pid="$kept_pid"
}

# --- pages ------------------------------------------------------------------------------------------------------
# Publishes $1 apps through the admin API (every fifth without a description, points 1..100) and prints their ids.
publish_apps_api() {
  local count="$1" admin="$2" i
  for ((i = 1; i <= count; i++)); do
    api POST /api/v1/apps "$(jq -nc --arg n "Bench app $i" --argjson p "$((i % 100 + 1))" --argjson d "$((i % 5))" \
      '{name: $n, link: "https://example.com/app", points: $p} + (if $d == 0 then {} else {description: "An app of the benchmark, with a description of a realistic length for a catalog entry."} end)')" "$admin" >/dev/null
  done
  for ((i = 1; (i - 1) * 100 < count; i++)); do
    api GET "/api/v1/apps?page=$i&size=100&sort=created_at" | jq -r '.data[].id'
  done
}

# The signed-in apps page and the admin dashboard, each with the auth cookies a browser gets from the sign-in page.
bench_pages() {
  local admin ids user token cookies
  run_aap "$work/data-pages"
  long_tokens
  admin="$(login "$admin_name" "$admin_password")"
  mapfile -t ids < <(publish_apps_api "$page_apps" "$admin")
  # Some completions, so that the dashboard's figures are not all zero: each user completes ten apps.
  for ((user = 1; user <= page_users; user++)); do
    token="$(new_user "pages-user$user@example.com")"
    complete_all pages "$user" "$token" "${ids[@]:user:10}"
  done
  cookies="$(sign_in pages-user1@example.com "$user_password")"
  log "apps page answers: $(curl -s --max-time 10 -o /dev/null -w '%{http_code}, %{size_download} bytes' -H "Cookie: $cookies" "$aap/apps")"
  compare "apps page, signed in ($page_apps apps)" "$target_apps_page" /apps -H "Cookie: $cookies"
  compare_same_body "apps page, signed in ($page_apps apps), beside the same page from memory" "$target_apps_page_same_body" /apps -H "Cookie: $cookies"
  cookies="$(sign_in "$admin_name" "$admin_password")"
  log "dashboard answers: $(curl -s --max-time 10 -o /dev/null -w '%{http_code}, %{size_download} bytes' -H "Cookie: $cookies" "$aap/admin")"
  compare "admin dashboard (cached $dashboard_cache_s s)" "" /admin -H "Cookie: $cookies"
  stop_started "$aap_pid"
}

# --- dashboard over a large ledger -----------------------------------------------------------------------------
# The data: $dash_users users (one per 20 ledger entries) created over 90 days, each completing 22 of the apps;
# one completion in eleven is pending or rejected, the others approved and credited by one ledger entry, so that
# there are $dash_ledger entries; completions are spread over 60 days, and balances are the ledger's sums. One
# user and one completion go through the API, so that the rows hold what AAP writes (the completion's screenshot
# is shared by the copies); SQL generated in the database copies them.
dash_fill_sql() {
  local provider="$1" template_user="$2" template_completion="$3" first_app="$4" apps="$5" admin_id="$6"
  local series_users series_completions ago_users ago_completions first_user
  if [[ "$provider" == sqlite ]]; then
    series_users="(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $dash_users) SELECT i FROM s) AS n"
    series_completions="(WITH RECURSIVE s(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM s WHERE k < $dash_completions - 1) SELECT k FROM s) AS n"
    ago_users="strftime('%Y-%m-%d %H:%M:%S', 'now', '-' || ((n.i * 7919) % 7776000) || ' seconds')"
    ago_completions="strftime('%Y-%m-%d %H:%M:%S', 'now', '-' || ((n.k * 7919) % 5184000) || ' seconds')"
    first_user="(SELECT min(id) FROM users WHERE user_name LIKE 'dash-%')"
  else
    series_users="generate_series(1, $dash_users) AS n(i)"
    series_completions="generate_series(0, $dash_completions - 1) AS n(k)"
    ago_users="now() - make_interval(secs => (n.i::bigint * 7919) % 7776000)"
    ago_completions="now() - make_interval(secs => (n.k::bigint * 7919) % 5184000)"
    first_user="(SELECT min(id) FROM users WHERE user_name LIKE 'dash-%')"
  fi
  cat <<SQL
INSERT INTO users (role, is_active, created_at, updated_at, user_name, normalized_user_name, email, normalized_email, email_confirmed,
  password_hash, security_stamp, concurrency_stamp, phone_number, phone_number_confirmed, two_factor_enabled, lockout_end, lockout_enabled, access_failed_count)
SELECT u.role, u.is_active, $ago_users, $ago_users, 'dash-' || n.i, 'DASH-' || n.i, 'dash-' || n.i || '@example.com',
  'DASH-' || n.i || '@EXAMPLE.COM', u.email_confirmed, u.password_hash, u.security_stamp, u.concurrency_stamp, u.phone_number,
  u.phone_number_confirmed, u.two_factor_enabled, u.lockout_end, u.lockout_enabled, u.access_failed_count
FROM users u CROSS JOIN $series_users
WHERE u.id = $template_user;

INSERT INTO app_completions (user_id, app_id, screenshot_file_id, screenshot_sha256, status, flagged, points, review_reason, reviewed_by,
  reviewed_at, created_at, updated_at)
SELECT f.first + n.k % $dash_users, a.id, c.screenshot_file_id, c.screenshot_sha256,
  CASE WHEN n.k % 11 <> 10 THEN 'Approved' WHEN n.k % 2 = 0 THEN 'Rejected' ELSE 'Pending' END, c.flagged, a.points,
  CASE WHEN n.k % 11 = 10 AND n.k % 2 = 0 THEN 'The screenshot shows another app.' END,
  CASE WHEN n.k % 11 = 10 AND n.k % 2 = 1 THEN NULL ELSE $admin_id END,
  CASE WHEN n.k % 11 = 10 AND n.k % 2 = 1 THEN NULL ELSE $ago_completions END,
  $ago_completions, $ago_completions
FROM app_completions c CROSS JOIN (SELECT $first_user AS first) f CROSS JOIN $series_completions
JOIN apps a ON a.id = $first_app + ((n.k / $dash_users) + (n.k % $dash_users) * 7) % $apps
WHERE c.id = $template_completion;

INSERT INTO point_ledger (user_id, amount, reason, completion_id, transfer_id, created_at)
SELECT c.user_id, c.points, 'completion', c.id, NULL, c.created_at
FROM app_completions c
WHERE c.status = 'Approved' AND c.user_id >= $first_user;

INSERT INTO point_balances (user_id, balance)
SELECT e.user_id, sum(e.amount) FROM point_ledger e WHERE e.user_id >= $first_user GROUP BY e.user_id;
SQL
}

# Runs SQL on the benchmark's database of that provider, from standard input.
dash_sql() {
  if [[ "$1" == sqlite ]]; then
    # A busy timeout: AAP may hold the write lock a moment (a job run, the template completion's thumbnail).
    sqlite3 -bail -cmd ".timeout 60000" -cmd "PRAGMA cache_size = -262144" "$dash_db"
  else
    "$pg_bin/psql" "${pg_psql[@]}"
  fi
}

# name|SQL per line, with @since for the first day of the charts and @day for one day (the per-day charts send one
# query of 30 counts joined by UNION ALL, one per day: the line times one of them). The shape EF Core sends (its command log,
# Serilog__MinimumLevel__Override__Microsoft.EntityFrameworkCore.Database.Command=Information); keep them in step
# with AccountStatistics.cs and RewardsStatistics.cs.
dash_queries() {
  if [[ "$1" == sqlite ]]; then
    cat <<'SQL'
accounts: totals|SELECT (SELECT COUNT(*) FROM "users" AS "u0") AS "Total", (SELECT COUNT(*) FROM "users" AS "u1" WHERE "u1"."is_active") AS "Active", (SELECT COUNT(*) FROM "users" AS "u2" WHERE "u2"."is_active" AND "u2"."role" = 'Admin') AS "Admins" FROM "users" AS "u" LIMIT 1
sign-ups on one day (x30)|SELECT COUNT(*) FROM "users" AS "u" WHERE "u"."created_at" >= '@day 00:00:00' AND "u"."created_at" < '@next 00:00:00'
completions by status|SELECT "c"."status" AS "Status", COALESCE(SUM("c"."completions"), 0) AS "Count" FROM "completion_totals" AS "c" GROUP BY "c"."status"
points issued (point_totals)|SELECT COALESCE(SUM("p"."points"), 0) FROM "point_totals" AS "p"
completions per day (completion_days)|SELECT "c"."day" AS "Day", COALESCE(SUM("c"."completions"), 0) AS "Count" FROM "completion_days" AS "c" WHERE "c"."day" >= '@since' GROUP BY "c"."day"
points per app, top 10|SELECT "c"."app_id" AS "AppId", "c"."points" AS "Points" FROM "completion_totals" AS "c" WHERE "c"."status" = 'Approved' AND "c"."completions" > 0 ORDER BY "c"."points" DESC, "c"."app_id" LIMIT 10
oldest pending|SELECT "a"."id", "a"."user_id", "a"."app_id", "a"."status", "a"."flagged", "a"."points", '/api/v1/files/' || CAST("a"."screenshot_file_id" AS TEXT), "a"."review_reason", "a"."reviewed_at", "a"."created_at" FROM "app_completions" AS "a" WHERE "a"."status" = 'Pending' ORDER BY "a"."created_at", "a"."id" LIMIT 1
before 0020: points issued|SELECT COALESCE(SUM("p"."balance"), 0) FROM "point_balances" AS "p"
before 0018: accounts: totals|SELECT COUNT(*) AS "Total", COUNT(CASE WHEN "u0"."is_active" THEN 1 END) AS "Active", COUNT(CASE WHEN "u0"."is_active" AND "u0"."role" = 'Admin' THEN 1 END) AS "Admins" FROM (SELECT "u"."is_active", "u"."role", 1 AS "Key" FROM "users" AS "u") AS "u0" GROUP BY "u0"."Key" LIMIT 1
before 0018: completions on one day (x30)|SELECT COUNT(*) FROM "app_completions" AS "a" WHERE "a"."created_at" >= '@day 00:00:00' AND "a"."created_at" < '@next 00:00:00'
before 0014: sign-ups per day|SELECT "u0"."Key" AS "Day", COUNT(*) AS "Count" FROM (SELECT rtrim(rtrim(strftime('%Y-%m-%d %H:%M:%f', "u"."created_at", 'start of day'), '0'), '.') AS "Key" FROM "users" AS "u" WHERE "u"."created_at" >= '@since 00:00:00') AS "u0" GROUP BY "u0"."Key"
before 0014: completions by status|SELECT "a"."status" AS "Status", COUNT(*) AS "Count" FROM "app_completions" AS "a" GROUP BY "a"."status"
before 0014: completions per day|SELECT "a0"."Key" AS "Day", COUNT(*) AS "Count" FROM (SELECT rtrim(rtrim(strftime('%Y-%m-%d %H:%M:%f', "a"."created_at", 'start of day'), '0'), '.') AS "Key" FROM "app_completions" AS "a" WHERE "a"."created_at" >= '@since 00:00:00') AS "a0" GROUP BY "a0"."Key"
before 0014: points per app, top 10|SELECT "a"."app_id" AS "AppId", COALESCE(SUM(CAST("a"."points" AS INTEGER)), 0) AS "Points" FROM "app_completions" AS "a" WHERE "a"."status" = 'Approved' GROUP BY "a"."app_id" ORDER BY COALESCE(SUM(CAST("a"."points" AS INTEGER)), 0) DESC, "a"."app_id" LIMIT 10
SQL
  else
    cat <<'SQL'
accounts: totals|SELECT (SELECT count(*)::int FROM users AS u0) AS "Total", (SELECT count(*)::int FROM users AS u1 WHERE u1.is_active) AS "Active", (SELECT count(*)::int FROM users AS u2 WHERE u2.is_active AND u2.role = 'Admin') AS "Admins" FROM users AS u LIMIT 1
sign-ups on one day (x30)|SELECT count(*)::int FROM users AS u WHERE u.created_at >= '@dayT00:00:00Z'::timestamptz AND u.created_at < '@nextT00:00:00Z'::timestamptz
completions by status|SELECT c.status AS "Status", COALESCE(sum(c.completions), 0.0)::bigint AS "Count" FROM completion_totals AS c GROUP BY c.status
points issued (point_totals)|SELECT COALESCE(sum(p.points), 0.0)::bigint FROM point_totals AS p
completions per day (completion_days)|SELECT c.day AS "Day", COALESCE(sum(c.completions), 0.0)::bigint AS "Count" FROM completion_days AS c WHERE c.day >= '@since'::date GROUP BY c.day
points per app, top 10|SELECT c.app_id AS "AppId", c.points AS "Points" FROM completion_totals AS c WHERE c.status = 'Approved' AND c.completions > 0 ORDER BY c.points DESC, c.app_id LIMIT 10
oldest pending|SELECT a.id, a.user_id, a.app_id, a.status, a.flagged, a.points, '/api/v1/files/' || a.screenshot_file_id::text, a.review_reason, a.reviewed_at, a.created_at FROM app_completions AS a WHERE a.status = 'Pending' ORDER BY a.created_at, a.id LIMIT 1
before 0020: points issued|SELECT COALESCE(sum(p.balance), 0.0)::bigint FROM point_balances AS p
before 0018: accounts: totals|SELECT count(*)::int AS "Total", count(*) FILTER (WHERE u0.is_active)::int AS "Active", count(*) FILTER (WHERE u0.is_active AND u0.role = 'Admin')::int AS "Admins" FROM (SELECT u.is_active, u.role, 1 AS "Key" FROM users AS u) AS u0 GROUP BY u0."Key" LIMIT 1
before 0018: completions on one day (x30)|SELECT count(*)::int FROM app_completions AS a WHERE a.created_at >= '@dayT00:00:00Z'::timestamptz AND a.created_at < '@nextT00:00:00Z'::timestamptz
before 0014: sign-ups per day|SELECT u0."Key" AS "Day", count(*)::int AS "Count" FROM (SELECT date_trunc('day', u.created_at, 'UTC') AS "Key" FROM users AS u WHERE u.created_at >= '@sinceT00:00:00Z'::timestamptz) AS u0 GROUP BY u0."Key"
before 0014: completions by status|SELECT a.status AS "Status", count(*)::int AS "Count" FROM app_completions AS a GROUP BY a.status
before 0014: completions per day|SELECT a0."Key" AS "Day", count(*)::int AS "Count" FROM (SELECT date_trunc('day', a.created_at, 'UTC') AS "Key" FROM app_completions AS a WHERE a.created_at >= '@sinceT00:00:00Z'::timestamptz) AS a0 GROUP BY a0."Key"
before 0014: points per app, top 10|SELECT a.app_id AS "AppId", COALESCE(sum(a.points::bigint), 0.0)::bigint AS "Points" FROM app_completions AS a WHERE a.status = 'Approved' GROUP BY a.app_id ORDER BY COALESCE(sum(a.points::bigint), 0.0)::bigint DESC, a.app_id LIMIT 10
SQL
  fi
}

# One value of a query: dash_value PROVIDER SQL.
dash_value() { query_value "$1" "$dash_db" "$2"; }

# The dashboard's statistics queries, as EF Core sends them for the provider (read from its command log), each
# timed in the database: SQLite's .timer (real seconds) and PostgreSQL's EXPLAIN ANALYZE (execution time).
dash_query_times() {
  local provider="$1" since="$2" name sql
  while IFS='|' read -r name sql; do
    [[ -z "$name" ]] && continue
    sql="${sql//@since/$since}"
    sql="${sql//@day/$(date -u -d "$since +14 days" +%F)}"
    sql="${sql//@next/$(date -u -d "$since +15 days" +%F)}"
    if [[ "$provider" == sqlite ]]; then
      printf '%-40s %s\n' "$name" "$(printf '.timer on\n%s;\n%s;\n' "$sql" "$sql" | sqlite3 "$dash_db" | awk '/^Run Time/ { t = $4 } END { printf "%.1f ms", t * 1000 }')"
    else
      printf '%-40s %s\n' "$name" "$(printf 'EXPLAIN ANALYZE %s;\nEXPLAIN ANALYZE %s;\n' "$sql" "$sql" | "$pg_bin/psql" "${pg_psql[@]}" -At | awk '/^Execution Time/ { t = $3 } END { printf "%.1f ms", t }')"
    fi
  done < <(dash_queries "$provider")
}

# One of the dashboard's renders: dash_render COOKIES prints the render's time, the time the figures it shows took
# to compute and their age, in milliseconds (the last two from its Server-Timing header: figures, figures-age).
dash_render() {
  local out headers
  headers="$(mktemp)"
  out="$(curl -s --max-time 60 -D "$headers" -o /dev/null -w '%{http_code} %{time_total}' -H "Cookie: $1" "$aap/admin")"
  [[ "${out%% *}" == 200 ]] || { log "GET /admin answered ${out%% *}"; rm -f "$headers"; return 1; }
  awk -v s="${out#* }" 'BEGIN { t = s * 1000 }
    tolower($1) == "server-timing:" {
      if (match($0, /figures;dur=[0-9.]+/)) c = substr($0, RSTART + 12, RLENGTH - 12)
      if (match($0, /figures-age;dur=[0-9.]+/)) a = substr($0, RSTART + 16, RLENGTH - 16)
    }
    END { printf "%.1f %s %s\n", t, c, a }' "$headers"
  rm -f "$headers"
}

bench_dashboard() {
  local provider admin admin_id template_user template_completion ids cookies started first first_compute render took cold=() compute=() stale=() warm=() i since settings=()
  command -v sqlite3 >/dev/null || { log "sqlite3 is required to fill the SQLite database"; exit 1; }
  for provider in sqlite postgres; do
    settings=()
    if [[ "$provider" == postgres ]]; then
      [[ -n "$pg_data" ]] || start_postgres
      "$pg_bin/psql" "${pg_psql[@]}" -c 'DROP SCHEMA public CASCADE; CREATE SCHEMA public;'
      settings=(Database__Provider=Postgres ConnectionStrings__Default="$pg_connection")
    fi
    run_aap "$work/data-dash-$provider" "${settings[@]}"
    [[ "$provider" == sqlite ]] && dash_db="$(find "$work/data-dash-sqlite" -name '*.db' | head -n 1)"
    long_tokens
    admin="$(login "$admin_name" "$admin_password")"
    admin_id="$(api GET /api/v1/me "" "$admin" | jq -r .data.id)"
    mapfile -t ids < <(publish_apps_api "$dash_apps" "$admin")
    token="$(new_user dash-template@example.com)"
    template_user="$(api GET /api/v1/me "" "$token" | jq -r .data.id)"
    complete_all dash template "$token" "${ids[0]}"
    template_completion="$(dash_value "$provider" 'SELECT max(id) FROM app_completions')"
    log "$provider: filling $dash_users users, $dash_completions completions and $dash_ledger ledger entries"
    started="$(now_ms)"
    dash_fill_sql "$provider" "$template_user" "$template_completion" "$(printf '%s\n' "${ids[@]}" | sort -n | head -n 1)" "$dash_apps" "$admin_id" | dash_sql "$provider"
    if [[ "$provider" == sqlite ]]; then echo 'ANALYZE;' | dash_sql sqlite; else echo 'VACUUM ANALYZE;' | dash_sql postgres; fi
    log "$provider: filled in $(($(now_ms) - started)) ms: $(dash_value "$provider" "SELECT (SELECT count(*) FROM users) || ' users, ' || (SELECT count(*) FROM app_completions) || ' completions, ' || (SELECT count(*) FROM point_ledger) || ' ledger entries'")"

    # A restart empties every cache of the process; the first render also pays for compiling the page.
    stop_started "$aap_pid"
    run_aap "$work/data-dash-$provider" "${settings[@]}"
    cookies="$(sign_in "$admin_name" "$admin_password")"
    read -r first first_compute _ < <(dash_render "$cookies")
    cold=() compute=() stale=()
    for ((i = 1; i <= dash_cold_runs; i++)); do
      # Past the bound, the render waits for new figures: the time an admin waits after a quiet minute.
      log "$provider: waiting out the dashboard's bound ($((dashboard_max_age_s + 1)) s) for cold render $i of $dash_cold_runs"
      sleep "$((dashboard_max_age_s + 1))"
      read -r render took _ < <(dash_render "$cookies")
      cold+=("$render") compute+=("$took")
      # Between fresh and the bound, the render shows the figures it has and one refresh starts in the background.
      sleep "$((dashboard_cache_s + 1))"
      read -r render _ _ < <(dash_render "$cookies")
      stale+=("$render")
    done
    warm=()
    for ((i = 1; i <= dash_warm_runs; i++)); do
      read -r render _ _ < <(dash_render "$cookies")
      warm+=("$render")
    done
    echo
    echo "dashboard on $provider: $dash_users users, $dash_completions completions, $dash_ledger ledger entries, $dash_apps apps"
    echo "  first render after a restart (page compiled, caches empty): $first ms (of which computing the figures: $first_compute ms)"
    echo "  cold renders (figures past their bound: the render computes them), median (fastest–slowest) of $dash_cold_runs: $(spread " ms" "${cold[@]}")" \
      "(target < $target_dashboard_ms ms: $(at_least "$((target_dashboard_ms - 1))" "$(printf '%s\n' "${cold[@]}" | sort -g | tail -n 1 | cut -d. -f1)") by the slowest)"
    echo "    of which computing the figures (Server-Timing): $(spread " ms" "${compute[@]}")"
    echo "  stale renders (figures $((dashboard_cache_s + 1)) s old: shown at once while one refresh recomputes them): $(spread " ms" "${stale[@]}")"
    echo "  warm renders (fresh figures), $dash_warm_runs one after the other: median $(median "${warm[@]}") ms, p95 $(printf '%s\n' "${warm[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int(NR * 0.95 + 0.5)] }') ms"
    since="$(date -u -d "$(date -u +%F) -29 days" +%F)"
    echo "  statistics queries, timed in the database (second of two runs):"
    dash_query_times "$provider" "$since" | sed 's/^/    /'
    stop_started "$aap_pid"
  done
}

# --- metrics and rate limits, on and off -------------------------------------------------------------------------
# Four AAPs at once: as in production (metrics and the general rate limits on), with the metrics off
# (Metrics__Enabled=false: no meter provider at all, no /metrics), with the general limits off
# (RateLimits__Enabled=false) and with both off. Each run drives the baseline's status, then each AAP's status and
# me, one after the other (in an order that turns by one each run), so the four cases meet the same moments of a busy machine; every AAP number is a ratio
# to the baseline's of that run, and each case's "on vs off" is the paired ratio of the same run, median over runs.
# The limits are raised far above the load (start_aap in lib.sh, for every sub-command), so that every request still
# takes a permit of its policy and gets its RateLimit headers but none is refused: wrk's count of non-2xx answers
# must be none (drive stops otherwise).
observe_cases=(on metrics-off limits-off both-off)
scrape_runs="${SCRAPE_RUNS:-20}"

# What one GET /metrics costs AAP after the load: its size in series and bytes, its time (curl) and AAP's CPU for it.
scrape_cost() {
  local i ticks code times=() series bytes
  code="$(curl -s --max-time 30 -o "$work/metrics.txt" -w '%{http_code}' "$aap/metrics")"
  [[ "$code" == 200 ]] || { log "GET /metrics answered $code"; return 1; }
  series="$(grep -vc -e '^#' -e '^$' "$work/metrics.txt")"
  bytes="$(stat -c %s "$work/metrics.txt")"
  ticks="$(cpu_ticks "$aap_pid")"
  for ((i = 0; i < scrape_runs; i++)); do
    times+=("$(curl -s --max-time 30 -o /dev/null -w '%{time_total}' "$aap/metrics" | awk '{ printf "%.1f", $1 * 1000 }')")
  done
  echo
  echo "one scrape of AAP's /metrics after the load: $series series, $bytes bytes;" \
    "time, median (fastest–slowest) of $scrape_runs: $(spread " ms" "${times[@]}");" \
    "AAP's CPU: $(awk -v t="$(($(cpu_ticks "$aap_pid") - ticks))" -v hz="$clock_ticks" -v n="$scrape_runs" 'BEGIN { printf "%.1f", t / hz * 1000 / n }') ms per scrape (average)"
}

# Whether a median "on vs off" percentage (on's throughput as a percentage of off's) is within the 10% bar.
bar() { awk -v p="$1" 'BEGIN { print (p >= 90) ? "met" : "not met" }'; }

bench_observe() {
  local case route run token b a line shift_by settings=()
  local -A urls apids tokens ratios cpus rps versus
  for case in "${observe_cases[@]}"; do
    case "$case" in
      on) settings=() ;;
      metrics-off) settings=(Metrics__Enabled=false) ;;
      limits-off) settings=(RateLimits__Enabled=false) ;;
      both-off) settings=(Metrics__Enabled=false RateLimits__Enabled=false) ;;
    esac
    run_aap "$work/data-observe-$case" "${settings[@]}"
    long_tokens
    token="$(new_user "observe-$case@example.com")"
    urls[$case]="$aap" apids[$case]="$aap_pid" tokens[$case]="$token"
    log "$case: /metrics answers $(status_of "$aap/metrics"); /me's limit: $(curl -s --max-time 5 -o /dev/null -D - -H "Authorization: Bearer $token" "$aap/api/v1/me" |
      tr -d '\r' | grep -i '^ratelimit' | paste -sd ' ' - || true)"
  done
  echo
  echo "metrics and rate limits: GET /api/v1/status and GET /api/v1/me (bearer token) of four AAPs beside the baseline's status," \
    "wrk -t$threads -c$connections -d$duration (after a $warmup warm-up), $runs runs"
  printf '%-4s %-7s %-12s %10s %16s %10s %14s\n' run route case "req/s" "p50/p99 ms" "of base" "CPU µs/req"
  for ((run = 1; run <= runs; run++)); do
    for route in status me; do
      drive baseline "$baseline/api/v1/status"
      b="$(rps_of baseline)"
      printf '%-4s %-7s %-12s %10s %16s\n' "$run" "$route" baseline "$b" "$(latency_of baseline 50%) / $(latency_of baseline 99%)"
      # The cases' order turns by one each run, so that no case always runs first after the baseline.
      shift_by=$(((run - 1) % ${#observe_cases[@]}))
      for case in "${observe_cases[@]:shift_by}" "${observe_cases[@]:0:shift_by}"; do
        if [[ "$route" == status ]]; then
          drive_pid="${apids[$case]}" drive "observe-$case" "${urls[$case]}/api/v1/status"
        else
          drive_pid="${apids[$case]}" drive "observe-$case" "${urls[$case]}/api/v1/me" -H "Authorization: Bearer ${tokens[$case]}"
        fi
        a="$(rps_of "observe-$case")"
        rps[$route-$case]+=" $a"
        ratios[$route-$case]+=" $(percent "$a" "$b")"
        cpus[$route-$case]+=" $(cpu_us_of "observe-$case")"
        printf '%-4s %-7s %-12s %10s %16s %9s%% %14s\n' "$run" "$route" "$case" "$a" \
          "$(latency_of "observe-$case" 50%) / $(latency_of "observe-$case" 99%)" "${ratios[$route-$case]##* }" "${cpus[$route-$case]##* }"
      done
      for case in metrics-off limits-off both-off; do
        versus[$route-$case]+=" $(percent "${rps[$route-on]##* }" "${rps[$route-$case]##* }")"
      done
    done
  done
  aap="${urls[on]}" aap_pid="${apids[on]}"
  scrape_cost
  echo
  echo "metrics and rate limits, median (lowest–highest) of $runs runs: ratio to the baseline; AAP's CPU µs per request"
  for route in status me; do
    for case in "${observe_cases[@]}"; do
      # shellcheck disable=SC2086
      printf '%-7s %-12s %26s %30s\n' "$route" "$case" "$(spread % ${ratios[$route-$case]})" "$(spread " µs" ${cpus[$route-$case]})"
    done
  done
  echo
  echo "on's throughput as a percentage of off's, paired in each run, median (lowest–highest) (bar: >= 90%):"
  for route in status me; do
    line="$route:"
    for case in metrics-off limits-off both-off; do
      # shellcheck disable=SC2086
      line+=" vs $case $(spread % ${versus[$route-$case]}) ($(bar "$(median ${versus[$route-$case]})"));"
    done
    echo "${line%;}"
  done
  for case in "${observe_cases[@]}"; do
    stop_started "${apids[$case]}"
  done
}

# --- the two Prometheus exporters ---------------------------------------------------------------------------------
# The bare baseline beside the same app with OpenTelemetry's metrics (ASP.NET Core instrumentation and the Prometheus
# exporter, as AAP sets them up) and with prometheus-net's HTTP metrics, each GET /api/v1/status, alternating, $runs
# times: throughput as a ratio of the bare app's and each process's CPU per request (its CPU time over the measured
# run / the requests wrk counted).
bench_exporters() {
  local bare="$baseline" bare_pid="$baseline_pid" run variant url pid
  local -A urls vpids rps cpus ratios
  run_baseline --metrics=otel
  urls[otel]="$baseline" vpids[otel]="$baseline_pid"
  run_baseline --metrics=prometheus-net
  urls[prometheus-net]="$baseline" vpids[prometheus-net]="$baseline_pid"
  urls[bare]="$bare" vpids[bare]="$bare_pid"
  baseline="$bare" baseline_pid="$bare_pid"
  for variant in otel prometheus-net; do
    log "$variant: GET /metrics answers $(status_of "${urls[$variant]}/metrics")"
  done
  echo
  echo "exporters: GET /api/v1/status of the bare app without metrics, with OpenTelemetry's, with prometheus-net's;" \
    "wrk -t$threads -c$connections -d$duration (after a $warmup warm-up), $runs runs"
  printf '%-4s %-16s %10s %16s %16s %12s\n' run variant "req/s" "p50/p99 ms" "CPU µs/req" "of bare"
  for ((run = 1; run <= runs; run++)); do
    for variant in bare otel prometheus-net; do
      drive_pid="${vpids[$variant]}" drive "exporter-$variant" "${urls[$variant]}/api/v1/status"
      rps[$variant]+=" $(rps_of "exporter-$variant")"
      cpus[$variant]+=" $(cpu_us_of "exporter-$variant")"
      [[ "$variant" == bare ]] && ratios[$variant]+=" 100" || ratios[$variant]+=" $(percent "$(rps_of "exporter-$variant")" "$(rps_of exporter-bare)")"
      printf '%-4s %-16s %10s %16s %16s %11s%%\n' "$run" "$variant" "$(rps_of "exporter-$variant")" \
        "$(latency_of "exporter-$variant" 50%) / $(latency_of "exporter-$variant" 99%)" "$(cpu_us_of "exporter-$variant")" "${ratios[$variant]##* }"
    done
  done
  echo
  echo "exporters, median (lowest–highest) of $runs runs:"
  for variant in bare otel prometheus-net; do
    # shellcheck disable=SC2086
    echo "$variant: $(spread " req/s" ${rps[$variant]}), $(spread % ${ratios[$variant]}) of bare, CPU $(spread " µs/req" ${cpus[$variant]})," \
      "$(awk -v a="$(median ${cpus[$variant]})" -v b="$(median ${cpus[bare]})" 'BEGIN { printf "%+.1f", a - b }') µs/req over bare"
  done
  for variant in otel prometheus-net; do
    curl -s --max-time 30 -o "$work/metrics-$variant.txt" "${urls[$variant]}/metrics"
    echo "$variant: one scrape after the load: $(grep -vc -e '^#' -e '^$' "$work/metrics-$variant.txt") series, $(stat -c %s "$work/metrics-$variant.txt") bytes," \
      "$(curl -s --max-time 30 -o /dev/null -w '%{time_total}' "${urls[$variant]}/metrics" | awk '{ printf "%.1f", $1 * 1000 }') ms"
    stop_started "${vpids[$variant]}"
  done
}

# --- nodes behind a round-robin proxy ----------------------------------------------------------------------------
# The proxy is nginx (Debian's package, installed like wrk when missing and run as root): what a deployment puts in
# front of the nodes (compose.yaml), and an event loop in C whose cost per request is small and known, so that the
# numbers are AAP's rather than a forwarder's. A Kestrel forwarder of our own would spend, per request, about what a
# node spends on GET /api/v1/me, on the same two cores. One worker, upstream keep-alive, no access log; round robin is
# nginx's default balancing.
nodes_max="${NODES_MAX:-3}"
nginx_workers="${NGINX_WORKERS:-1}"

require_nginx() {
  command -v nginx >/dev/null && return 0
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    log "apt-get install nginx-light (the proxy of the nodes benchmark)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light >/dev/null 2>&1 ||
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null
  fi
  command -v nginx >/dev/null || { log "nginx is required for the nodes benchmark (apt-get install nginx-light)"; exit 1; }
}

# Starts nginx balancing over the URLs given; its pid is in $proxy_pid and its URL in $proxy: run_proxy NAME URL...
run_proxy() {
  local name="$1" port dir url
  shift
  port="$(free_port)"
  dir="$work/nginx-$name"
  mkdir -p "$dir/logs" "$dir/temp"
  {
    echo "worker_processes $nginx_workers;"
    echo "error_log $dir/logs/error.log warn;"
    echo "pid $dir/nginx.pid;"
    echo "events { worker_connections 4096; }"
    echo "http {"
    echo "  access_log off;"
    echo "  client_body_temp_path $dir/temp/body; proxy_temp_path $dir/temp/proxy; fastcgi_temp_path $dir/temp/fastcgi;"
    echo "  uwsgi_temp_path $dir/temp/uwsgi; scgi_temp_path $dir/temp/scgi;"
    echo "  upstream nodes {"
    for url in "$@"; do echo "    server ${url#http://};"; done
    echo "    keepalive 128;"
    echo "  }"
    echo "  server {"
    echo "    listen 127.0.0.1:$port;"
    echo "    location / {"
    echo "      proxy_pass http://nodes;"
    echo "      proxy_http_version 1.1;"
    echo "      proxy_set_header Connection \"\";"
    echo "      proxy_set_header Host \$host;"
    echo "      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;"
    echo "      proxy_set_header X-Forwarded-Proto \$scheme;"
    echo "    }"
    echo "  }"
    echo "}"
  } >"$dir/nginx.conf"
  nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' >>"$work/nginx.log" 2>&1 &
  proxy_pid=$!
  pids+=("$proxy_pid")
  proxy="http://127.0.0.1:$port"
}

# CPU ticks used so far by the processes given and their children (nginx's workers are children of its master).
ticks_of() {
  local pid child total=0
  for pid in "$@"; do
    total=$((total + $(cpu_ticks "$pid")))
    for child in $(pgrep -P "$pid" 2>/dev/null); do
      total=$((total + $(cpu_ticks "$child")))
    done
  done
  echo "$total"
}

# Like drive, with the CPU of several processes counted over the measured run only: drive_nodes NAME URL [wrk
# arguments]; the AAP processes in $measure_aap (an array), nginx in $measure_proxy (may be empty). Leaves the ticks
# in <name>.aapcpu and <name>.proxycpu.
drive_nodes() {
  local name="$1" url="$2" aap_ticks proxy_ticks=0
  shift 2
  log "$name: warm-up ($warmup), then wrk -t$threads -c$connections -d$duration $url"
  timeout "$(($(seconds "$warmup") + 30))" wrk -t"$threads" -c"$connections" -d"$warmup" "$@" "$url" >/dev/null
  aap_ticks="$(ticks_of "${measure_aap[@]}")"
  [[ -n "$measure_proxy" ]] && proxy_ticks="$(ticks_of "$measure_proxy")"
  timeout "$(($(seconds "$duration") + 30))" wrk -t"$threads" -c"$connections" -d"$duration" --timeout 5s --latency "$@" "$url" >"$work/$name.wrk"
  echo $(($(ticks_of "${measure_aap[@]}") - aap_ticks)) >"$work/$name.aapcpu"
  if [[ -n "$measure_proxy" ]]; then echo $(($(ticks_of "$measure_proxy") - proxy_ticks)) >"$work/$name.proxycpu"; else rm -f "$work/$name.proxycpu"; fi
  if grep -q -e 'Non-2xx or 3xx responses' -e 'Socket errors' "$work/$name.wrk"; then
    log "$name: wrk saw failed requests, so its numbers would not measure the route:"
    cat "$work/$name.wrk" >&2
    return 1
  fi
}

# Microseconds of CPU per request from a ticks file of the last run of <name>: per_request NAME EXTENSION.
per_request() {
  [[ -f "$work/$1.$2" ]] || { echo -; return; }
  awk -v t="$(cat "$work/$1.$2")" -v hz="$clock_ticks" -v n="$(requests_of "$1")" 'BEGIN { printf "%.0f", t / hz * 1000000 / n }'
}

# Polls URL with the bearer token until it answers 200 (10 s at most): answers_me URL TOKEN.
answers_me() {
  local i
  for ((i = 0; i < 200; i++)); do
    [[ "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $2" "$1")" == 200 ]] && return 0
    sleep 0.05
  done
  log "$1 did not answer 200 within 10 s"
  return 1
}

bench_nodes() {
  local n run token case a url p line
  local -a node_urls node_pids cases measure_aap
  local measure_proxy=""
  local -A urls rps ratios scaling cpu_aap cpu_proxy proxy_pids
  require_nginx
  [[ -n "$pg_data" ]] || start_postgres
  # The limits are raised above the load (every request comes from one user, through one address), and a node's
  # /me cache is evicted over PostgreSQL notifications, as in any deployment of several nodes.
  local settings=(Database__Provider=Postgres ConnectionStrings__Default="$pg_connection"
    RateLimits__Anonymous__PermitLimit=10000000 RateLimits__User__PermitLimit=10000000 RateLimits__Admin__PermitLimit=10000000
    RateLimits__Anonymous__PerHour=0 RateLimits__User__PerHour=0 RateLimits__Admin__PerHour=0)
  for ((n = 1; n <= nodes_max; n++)); do
    # One at a time: the first migrates the database, the others find it migrated.
    run_aap "$work/data-nodes-$n" "${settings[@]}"
    node_urls+=("$aap")
    node_pids+=("$aap_pid")
  done
  aap="${node_urls[0]}"
  long_tokens
  token="$(new_user nodes@example.com)"
  for url in "${node_urls[@]}"; do
    answers_me "$url/api/v1/me" "$token"
  done
  run_proxy baseline "$baseline"
  urls[baseline-proxied]="$proxy" proxy_pids[baseline-proxied]="$proxy_pid"
  answers_me "$proxy/api/v1/status" "$token"
  urls[baseline]="$baseline" urls[aap-1-direct]="${node_urls[0]}"
  cases=(baseline baseline-proxied aap-1-direct)
  for ((n = 1; n <= nodes_max; n++)); do
    run_proxy "aap-$n" "${node_urls[@]:0:n}"
    urls[aap-$n]="$proxy" proxy_pids[aap-$n]="$proxy_pid"
    cases+=("aap-$n")
    answers_me "$proxy/api/v1/me" "$token"
  done
  measure_aap=("${node_pids[@]}")
  echo
  echo "nodes: GET /api/v1/me (bearer token) through nginx ($nginx_workers worker, round robin, keep-alive) in front of 1..$nodes_max" \
    "AAP processes on one PostgreSQL, beside the baseline's GET /api/v1/status direct and through the same nginx;" \
    "wrk -t$threads -c$connections -d$duration (after a $warmup warm-up), $runs runs; CPU µs/req: all AAP processes, and nginx"
  printf '%-4s %-17s %10s %16s %10s %10s %15s %17s\n' run case "req/s" "p50/p99 ms" "of base" "of 1 node" "AAP CPU µs/req" "nginx CPU µs/req"
  for ((run = 1; run <= runs; run++)); do
    for case in "${cases[@]}"; do
      measure_proxy="${proxy_pids[$case]:-}"
      if [[ "$case" == baseline* ]]; then
        drive_nodes "nodes-$case" "${urls[$case]}/api/v1/status"
      else
        drive_nodes "nodes-$case" "${urls[$case]}/api/v1/me" -H "Authorization: Bearer $token"
      fi
      a="$(rps_of "nodes-$case")"
      rps[$case]+=" $a"
      ratios[$case]+=" $(percent "$a" "$(rps_of nodes-baseline)")"
      cpu_aap[$case]+=" $(per_request "nodes-$case" aapcpu)"
      cpu_proxy[$case]+=" $(per_request "nodes-$case" proxycpu)"
      [[ "$case" =~ ^aap-[0-9]+$ ]] && scaling[$case]+=" $(percent "$a" "$(rps_of nodes-aap-1)")"
      printf '%-4s %-17s %10s %16s %9s%% %10s %15s %17s\n' "$run" "$case" "$a" \
        "$(latency_of "nodes-$case" 50%) / $(latency_of "nodes-$case" 99%)" "${ratios[$case]##* }" \
        "$([[ "$case" =~ ^aap-[0-9]+$ ]] && echo "${scaling[$case]##* }%" || echo -)" \
        "$([[ "$case" == aap* ]] && echo "${cpu_aap[$case]##* }" || echo -)" "${cpu_proxy[$case]##* }"
    done
  done
  echo
  echo "nodes, median (lowest–highest) of $runs runs:"
  for case in "${cases[@]}"; do
    # shellcheck disable=SC2086
    line="$case: $(spread " req/s" ${rps[$case]}), $(spread % ${ratios[$case]}) of the baseline"
    # shellcheck disable=SC2086
    [[ "$case" =~ ^aap-[0-9]+$ ]] && line+=", $(spread % ${scaling[$case]}) of 1 node"
    # shellcheck disable=SC2086
    [[ "$case" == aap* ]] && line+=", all AAP processes' CPU $(spread " µs/req" ${cpu_aap[$case]})"
    # shellcheck disable=SC2086
    [[ -n "${proxy_pids[$case]:-}" ]] && line+=", nginx CPU $(spread " µs/req" ${cpu_proxy[$case]})"
    echo "$line"
  done
  for case in "${cases[@]}"; do
    if [[ -n "${proxy_pids[$case]:-}" ]]; then
      stop_started "${proxy_pids[$case]}"
    fi
  done
  for p in "${node_pids[@]}"; do
    stop_started "$p"
  done
}

# --- main ------------------------------------------------------------------------------------------------------
commands=("$@")
[[ ${#commands[@]} == 0 ]] && commands=(status)
[[ "${commands[*]}" == all ]] && commands=(status me todos files apps pages dashboard)
for command in "${commands[@]}"; do
  case "$command" in
    status | cold | me | todos | files | apps | pages | dashboard | observe | exporters | nodes) ;;
    *)
      log "unknown benchmark '$command': use status, cold, me, todos, files, apps, pages, dashboard, observe, exporters, nodes or all"
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
