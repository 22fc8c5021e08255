#!/usr/bin/env bash
# Deep pages: the last page of KS_ROWS to-dos of one user (1,000,000 by default), by keyset (cursor) and by page
# number (COUNT + OFFSET), on SQLite and on PostgreSQL: the database's time and the HTTP latency.
#
# AAP (published in Release from the working tree) makes and migrates the database and registers the user; SQL
# generated in the database then appends the to-dos straight to todo_tasks (no API), two per second of created_at so
# that the id breaks ties, as EF Core writes them; then ANALYZE. The database's time of the last page is the query as
# EF Core sends it, run twice, the second run kept (SQLite: sqlite3's .timer; PostgreSQL: EXPLAIN ANALYZE's execution
# time): by page number the COUNT and the OFFSET page; by keyset the page after the last row of the page before.
# The HTTP side walks the whole list by cursor (pages of KS_SIZE), timing the walk, then asks for the last page
# KS_REPEAT times each way (the cursor of the walk's last page; page=N) and prints the median of curl's total time.
# Then the same for the ISIN list (GET /api/v1/isins, ascending by ISIN): KS_ISINS rows appended by SQL to isins
# (one in ten removed, six countries), the last page of the listed ones by number and by keyset, and its first and
# second pages by number (whose total AAP counts once per filter and load).
#
# Usage: bench/keyset.sh [sqlite|postgres|all]...   (default: all)
# Settings: KS_ROWS (1000000), KS_ISINS (1000000; 0 skips the ISIN list), KS_SIZE (100), KS_REPEAT (20),
#           KS_WALK (1; 0 skips the walks by cursor over HTTP and the last pages by cursor over HTTP with them)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rows="${KS_ROWS:-1000000}"
isins="${KS_ISINS:-1000000}"
walks="${KS_WALK:-1}"
size="${KS_SIZE:-100}"
repeat="${KS_REPEAT:-20}"
[[ $# -eq 0 ]] && set -- all
db=""
columns='"t"."id", "t"."completed_at", "t"."created_at", "t"."deleted_at", "t"."description", "t"."due_date", "t"."priority", "t"."status", "t"."title", "t"."updated_at"'

isin_columns='"i"."isin", "i"."country", "i"."first_seen", "i"."last_seen", "i"."lei", "i"."removed_at"'

value() { query_value "$1" "$db" "$2"; }

fill() {
  local provider="$1" me="$2"
  if [[ "$provider" == sqlite ]]; then
    # created_at as EF Core writes a whole second ('yyyy-MM-dd HH:mm:ss'), so that text order is time order.
    sqlite3 -bail -cmd ".timeout 10000" "$db" <<SQL
WITH RECURSIVE s(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM s WHERE k < $rows - 1)
INSERT INTO todo_tasks (owner_id, title, status, priority, created_at, updated_at, version)
SELECT $me, 'Task ' || k, CASE k % 3 WHEN 0 THEN 'completed' WHEN 1 THEN 'pending' ELSE 'in_progress' END, k % 3,
  strftime('%Y-%m-%d %H:%M:%S', '2025-01-01', '+' || (k / 2) || ' seconds'),
  strftime('%Y-%m-%d %H:%M:%S', '2025-01-01', '+' || (k / 2) || ' seconds'), 1
FROM s;
ANALYZE;
SQL
  else
    "$pg_bin/psql" "${pg_psql[@]}" <<SQL
INSERT INTO todo_tasks (owner_id, title, status, priority, created_at, updated_at, version)
SELECT $me, 'Task ' || k, CASE k % 3 WHEN 0 THEN 'completed' WHEN 1 THEN 'pending' ELSE 'in_progress' END, k % 3,
  timestamptz '2025-01-01 00:00:00+00' + (k / 2) * interval '1 second',
  timestamptz '2025-01-01 00:00:00+00' + (k / 2) * interval '1 second', 1
FROM generate_series(0, $rows - 1) AS k;
VACUUM ANALYZE todo_tasks;
SQL
  fi
}

# KS_ISINS ISINs: a country of six, then ten digits (the check digit is not checked by the list); one in ten removed.
fill_isins() {
  local provider="$1"
  if [[ "$provider" == sqlite ]]; then
    sqlite3 -bail -cmd ".timeout 10000" "$db" <<SQL
WITH RECURSIVE s(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM s WHERE k < $isins - 1)
INSERT INTO isins (isin, country, first_seen, last_seen, removed_at)
SELECT substr('USDEGBFRJPCH', (k % 6) * 2 + 1, 2) || printf('%010d', k), substr('USDEGBFRJPCH', (k % 6) * 2 + 1, 2),
  '2025-01-01 00:00:00', '2025-06-01 00:00:00', CASE WHEN k % 10 = 9 THEN '2025-06-01 00:00:00' END
FROM s;
ANALYZE;
SQL
  else
    "$pg_bin/psql" "${pg_psql[@]}" <<SQL
INSERT INTO isins (isin, country, first_seen, last_seen, removed_at)
SELECT substr('USDEGBFRJPCH', (k % 6) * 2 + 1, 2) || lpad(k::text, 10, '0'), substr('USDEGBFRJPCH', (k % 6) * 2 + 1, 2),
  timestamptz '2025-01-01 00:00:00+00', timestamptz '2025-06-01 00:00:00+00', CASE WHEN k % 10 = 9 THEN timestamptz '2025-06-01 00:00:00+00' END
FROM generate_series(0, $isins - 1) AS k;
VACUUM ANALYZE isins;
SQL
  fi
}

# Walks a list by cursor from its first page over HTTP, then times its last page again; prints both.
walk() {
  local provider="$1" label="$2" first="$3" token="$4" cursor next last started pages=0 ms
  next="$first"
  last="$first"
  started="$(now_ms)"
  while true; do
    cursor="$(curl -s --max-time 30 -H "Authorization: Bearer $token" "$aap$next" | jq -r '.meta.next_cursor // empty')"
    pages=$((pages + 1))
    [[ -z "$cursor" ]] && break
    last="${first%%cursor=*}cursor=$cursor&size=$size"
    next="$last"
  done
  ms=$(($(now_ms) - started))
  printf '%-8s %-9s walk of %s pages of %s by cursor: %s ms (%s ms a page, curl and jq included)\n' "$provider" "$label" "$pages" "$size" "$ms" \
    "$(awk -v a="$ms" -v b="$pages" 'BEGIN { printf "%.2f", a / b }')"
  printf '%-8s %-9s last page by keyset: median %s ms of %s\n' "$provider" "$label" "$(http_median "$last" "$token")" "$repeat"
}

# The database's time for a list's last page: COUNT and OFFSET (by number), then by keyset.
db_last_page() {
  local provider="$1" label="$2" count="$3" offset="$4" keyset="$5" last_offset="$6"
  printf '%-8s %-9s last page by number: COUNT %s ms + OFFSET %s page %s ms\n' "$provider" "$label" "$(db_time "$provider" "$count")" "$last_offset" \
    "$(db_time "$provider" "$offset")"
  printf '%-8s %-9s last page by keyset: %s ms\n' "$provider" "$label" "$(db_time "$provider" "$keyset")"
}

# Prints the second run's time of a query, in milliseconds.
db_time() {
  local provider="$1" sql="$2"
  if [[ "$provider" == sqlite ]]; then
    printf '.timer on\n%s;\n%s;\n' "$sql" "$sql" | sqlite3 -cmd ".timeout 10000" "$db" | awk '/^Run Time/ { t = $4 } END { printf "%.2f", t * 1000 }'
  else
    printf 'EXPLAIN ANALYZE %s;\nEXPLAIN ANALYZE %s;\n' "$sql" "$sql" | "$pg_bin/psql" "${pg_psql[@]}" -At | awk '/^Execution Time/ { t = $3 } END { printf "%.2f", t }'
  fi
}

plan() {
  if [[ "$1" == sqlite ]]; then
    sqlite3 "$db" "EXPLAIN QUERY PLAN $2"
  else
    "$pg_bin/psql" "${pg_psql[@]}" -At -c "EXPLAIN (ANALYZE, COSTS OFF) $2"
  fi
}

# Median of curl's total time (ms) of KS_REPEAT GETs of one URL.
http_median() {
  local url="$1" token="$2" i times=()
  for ((i = 0; i < repeat; i++)); do
    times+=("$(curl -s -o /dev/null --max-time 30 -H "Authorization: Bearer $token" -w '%{time_total}' "$aap$url" | awk '{ printf "%.2f", $1 * 1000 }')")
  done
  median "${times[@]}"
}

bench_provider() {
  local provider="$1" data token me settings=() total last_offset at id where keyset offset count started
  data="$work/data-$provider"
  mkdir -p "$data"
  if [[ "$provider" == sqlite ]]; then
    db="$data/aap.db"
  else
    start_postgres
    settings=(Database__Provider=Postgres ConnectionStrings__Default="$pg_connection")
  fi
  run_aap "$data" "${settings[@]}"
  long_tokens
  token="$(new_user "keyset-$provider@example.com")"
  me="$(api GET /api/v1/me "" "$token" | jq -er .data.id)"
  started="$(date +%s)"
  fill "$provider" "$me"
  total="$(value "$provider" "SELECT count(*) FROM todo_tasks WHERE owner_id = $me")"
  log "$provider: $total to-dos of user $me, filled in $(($(date +%s) - started)) s; load average $(cut -d' ' -f1-3 /proc/loadavg)"

  # The last page starts after the last row of the page before it.
  last_offset=$(((total - 1) / size * size))
  where="\"t\".\"owner_id\" = $me AND \"t\".\"deleted_at\" IS NULL"
  IFS='|' read -r at id < <(value "$provider" "SELECT created_at, id FROM todo_tasks AS t WHERE $where ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET $((last_offset - 1))")
  count="SELECT count(*) FROM \"todo_tasks\" AS \"t\" WHERE $where"
  offset="SELECT $columns FROM \"todo_tasks\" AS \"t\" WHERE $where ORDER BY \"t\".\"created_at\" DESC, \"t\".\"id\" DESC LIMIT $size OFFSET $last_offset"
  keyset="SELECT $columns FROM \"todo_tasks\" AS \"t\" WHERE $where AND \"t\".\"created_at\" <= '$at' AND (\"t\".\"created_at\" < '$at' OR \"t\".\"id\" < $id) ORDER BY \"t\".\"created_at\" DESC, \"t\".\"id\" DESC LIMIT $((size + 1))"
  db_last_page "$provider" database "$count" "$offset" "$keyset" "$last_offset"
  printf '%-8s database  first page by keyset: %s ms\n' "$provider" \
    "$(db_time "$provider" "SELECT $columns FROM \"todo_tasks\" AS \"t\" WHERE $where ORDER BY \"t\".\"created_at\" DESC, \"t\".\"id\" DESC LIMIT $((size + 1))")"

  # The whole list by cursor, over HTTP.
  if ((walks)); then
    walk "$provider" http "/api/v1/todos?cursor=&size=$size" "$token"
  fi
  printf '%-8s http      last page by number (page=%s): median %s ms of %s\n' "$provider" "$((last_offset / size + 1))" \
    "$(http_median "/api/v1/todos?page=$((last_offset / size + 1))&size=$size" "$token")" "$repeat"
  printf '%-8s http      first page by number: median %s ms of %s\n' "$provider" "$(http_median "/api/v1/todos?page=1&size=$size" "$token")" "$repeat"
  echo "$provider plans: keyset, then OFFSET"
  plan "$provider" "$keyset"
  plan "$provider" "$offset"
  if ((isins > 0)); then
    bench_isins "$provider" "$token"
  fi
  stop_started "$aap_pid"
  if [[ "$provider" == postgres ]]; then
    as_postgres "$pg_bin/pg_ctl" -D "$pg_data" -m fast -w stop >/dev/null
    pg_data=""
  fi
}

# The ISIN list: listed ISINs in ISIN order, the last page by number (COUNT + OFFSET) and by keyset (isin > K).
bench_isins() {
  local provider="$1" token="$2" total last_offset key where count offset keyset started
  started="$(date +%s)"
  fill_isins "$provider"
  where='"i"."removed_at" IS NULL'
  total="$(value "$provider" "SELECT count(*) FROM isins AS i WHERE $where")"
  log "$provider: $total listed ISINs ($isins in all), filled in $(($(date +%s) - started)) s"
  last_offset=$(((total - 1) / size * size))
  key="$(value "$provider" "SELECT isin FROM isins AS i WHERE $where ORDER BY isin LIMIT 1 OFFSET $((last_offset - 1))")"
  count="SELECT count(*) FROM \"isins\" AS \"i\" WHERE $where"
  offset="SELECT $isin_columns FROM \"isins\" AS \"i\" WHERE $where ORDER BY \"i\".\"isin\" LIMIT $size OFFSET $last_offset"
  keyset="SELECT $isin_columns FROM \"isins\" AS \"i\" WHERE $where AND \"i\".\"isin\" > '$key' ORDER BY \"i\".\"isin\" LIMIT $((size + 1))"
  db_last_page "$provider" "isins db" "$count" "$offset" "$keyset" "$last_offset"
  if ((walks)); then
    walk "$provider" isins "/api/v1/isins?cursor=&size=$size" "$token"
  fi
  printf '%-8s isins     last page by number (page=%s): median %s ms of %s\n' "$provider" "$((last_offset / size + 1))" \
    "$(http_median "/api/v1/isins?page=$((last_offset / size + 1))&size=$size" "$token")" "$repeat"
  printf '%-8s isins     first page by number: median %s ms of %s\n' "$provider" "$(http_median "/api/v1/isins?page=1&size=$size" "$token")" "$repeat"
  printf '%-8s isins     second page by number: median %s ms of %s\n' "$provider" "$(http_median "/api/v1/isins?page=2&size=$size" "$token")" "$repeat"
  printf '%-8s isins     first page of country=DE by number: median %s ms of %s\n' "$provider" \
    "$(http_median "/api/v1/isins?country=DE&page=1&size=$size" "$token")" "$repeat"
  echo "$provider ISIN plans: keyset, then OFFSET"
  plan "$provider" "$keyset"
  plan "$provider" "$offset"
}

require_tools
log "load average: $(cut -d' ' -f1-3 /proc/loadavg), commit $(git -C "$root" rev-parse --short HEAD)"
log "publishing AAP in Release"
publish_one "$root/src/Aap.Api/Aap.Api.csproj" "$work/aap"
each_provider "$@"
log "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
