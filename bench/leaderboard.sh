#!/usr/bin/env bash
# The leaderboard and the dashboard's "points issued" over a large ledger, timed in the database before and after
# migration 0020 (point_earnings, point_totals), on SQLite and on PostgreSQL.
#
# The schema is made by AAP's own migration scripts up to 0019, run by sqlite3 and psql (no AAP process: only the
# database's time is measured). SQL generated in the database then writes LB_USERS users and 20 ledger entries per
# user (1,000,000 by default), spread over 60 days: per user 17 completion credits of 10 to 500 points (many
# ties), one reversal of 10, one transfer out and one transfer in of 5; balances are the ledger's sums. Then
# ANALYZE, and each query twice: the second run's time is kept (SQLite's .timer, PostgreSQL's EXPLAIN ANALYZE
# execution time). Then 0020 is applied (its fill timed), ANALYZE again, and the new queries are timed the same way.
# Last, the write cost, before and after the triggers: LB_WRITES single-row credits, each its own transaction, and
# one statement of LB_BULK credits.
#
# Usage: bench/leaderboard.sh [sqlite|postgres|all]...   (default: all)
# Settings: LB_USERS (50000), LB_WRITES (2000), LB_BULK (100000)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

users="${LB_USERS:-50000}"
writes="${LB_WRITES:-2000}"
bulk="${LB_BULK:-100000}"
migrations="$root/src/Aap.Api/Platform/Persistence/Migrations"
page_size=25 # the /leaderboard page's
[[ $# -eq 0 ]] && set -- all
db=""

fill_sql() {
  local series_users series_entries ago
  if [[ "$1" == sqlite ]]; then
    series_users="(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $users) SELECT i FROM s) AS n"
    series_entries="(WITH RECURSIVE s(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM s WHERE k < $users * 20 - 1) SELECT k FROM s) AS n"
    ago="strftime('%Y-%m-%d %H:%M:%S', 'now', '-' || ((n.k * 7919) % 5184000) || ' seconds')"
    cat <<SQL
INSERT INTO users (role, is_active, created_at, updated_at, user_name, normalized_user_name, email_confirmed,
  phone_number_confirmed, two_factor_enabled, lockout_enabled, access_failed_count)
SELECT 'User', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00', 'lb-' || n.i, 'LB-' || n.i, 0, 0, 0, 1, 0 FROM $series_users;
SQL
  else
    series_users="generate_series(1, $users) AS n(i)"
    series_entries="generate_series(0::bigint, $users * 20 - 1) AS n(k)"
    ago="now() - make_interval(secs => (n.k::bigint * 7919) % 5184000)"
    cat <<SQL
INSERT INTO users (role, is_active, created_at, updated_at, user_name, normalized_user_name, email_confirmed,
  phone_number_confirmed, two_factor_enabled, lockout_enabled, access_failed_count)
SELECT 'User', true, '2026-01-01', '2026-01-01', 'lb-' || n.i, 'LB-' || n.i, false, false, false, true, 0 FROM $series_users;
SQL
  fi
  # Entry k belongs to user k % users; k / users (0 to 19) says what it is.
  cat <<SQL
INSERT INTO point_ledger (user_id, amount, reason, completion_id, transfer_id, created_at)
SELECT (SELECT min(id) FROM users) + CASE WHEN n.k / $users = 19 THEN (n.k + 7) % $users ELSE n.k % $users END,
  CASE WHEN n.k / $users < 17 THEN 10 * (1 + (n.k * 7919) % 50) WHEN n.k / $users = 17 THEN -10 WHEN n.k / $users = 18 THEN -5 ELSE 5 END,
  CASE WHEN n.k / $users < 17 THEN 'completion' WHEN n.k / $users = 17 THEN 'reversal' WHEN n.k / $users = 18 THEN 'transfer_out' ELSE 'transfer_in' END,
  CASE WHEN n.k / $users <= 17 THEN n.k END, CASE WHEN n.k / $users > 17 THEN n.k END, $ago
FROM $series_entries;

INSERT INTO point_balances (user_id, balance) SELECT user_id, sum(amount) FROM point_ledger GROUP BY user_id;
SQL
}

# name|SQL per line: what EF Core sends for the page (its count, then the page), the API's all-time top 10 and
# points issued. @offset is the offset of the page. After 0020 also the last page as the page's links read it, in two
# reads (the rest of the row's ties, then the rows below it): after the last row of the page before it (@ap, @au:
# its points and user id), and the page before the last from the last page's first row (@bp, @bu).
queries() {
  if [[ "$1" == before ]]; then
    cat <<SQL
board: count of ranked users|SELECT count(*) FROM (SELECT p.user_id FROM point_ledger AS p WHERE p.reason IN ('completion', 'reversal') GROUP BY p.user_id HAVING sum(p.amount) > 0) AS t
board: first page of $page_size|SELECT p.user_id, sum(p.amount) AS points FROM point_ledger AS p WHERE p.reason IN ('completion', 'reversal') GROUP BY p.user_id HAVING sum(p.amount) > 0 ORDER BY sum(p.amount) DESC, p.user_id LIMIT $page_size OFFSET 0
board: last page of $page_size|SELECT p.user_id, sum(p.amount) AS points FROM point_ledger AS p WHERE p.reason IN ('completion', 'reversal') GROUP BY p.user_id HAVING sum(p.amount) > 0 ORDER BY sum(p.amount) DESC, p.user_id LIMIT $page_size OFFSET @offset
API: all-time top 10|SELECT p.user_id, sum(p.amount) AS points FROM point_ledger AS p WHERE p.reason IN ('completion', 'reversal') GROUP BY p.user_id HAVING sum(p.amount) > 0 ORDER BY sum(p.amount) DESC, p.user_id LIMIT 10
points issued|SELECT coalesce(sum(p.balance), 0) FROM point_balances AS p
SQL
  else
    cat <<SQL
board: count of ranked users|SELECT coalesce(sum(p.ranked), 0) FROM point_totals AS p
board: first page of $page_size|SELECT p.user_id, p.points FROM point_earnings AS p WHERE p.points > 0 ORDER BY p.points DESC, p.user_id LIMIT $page_size OFFSET 0
board: last page of $page_size|SELECT p.user_id, p.points FROM point_earnings AS p WHERE p.points > 0 ORDER BY p.points DESC, p.user_id LIMIT $page_size OFFSET @offset
board: last page by link, ties|$link_after_ties
board: last page by link, the rest|$link_after_rest
board: page before by link, ties|$link_before_ties
board: page before by link, rest|$link_before_rest
API: all-time top 10|SELECT p.user_id, p.points FROM point_earnings AS p WHERE p.points > 0 ORDER BY p.points DESC, p.user_id LIMIT 10
points issued|SELECT coalesce(sum(p.points), 0) FROM point_totals AS p
SQL
  fi
}

run_sql() {
  if [[ "$1" == sqlite ]]; then
    sqlite3 -bail -cmd "PRAGMA cache_size = -262144" -cmd "PRAGMA foreign_keys = ON" "$db"
  else
    "$pg_bin/psql" "${pg_psql[@]}"
  fi
}

value() { query_value "$1" "$db" "$2"; }

# A page read by its link (RewardsService.SeekAsync): the rest of the row's ties, then the rows below (or above) it.
link_after_ties="SELECT p.user_id, p.points FROM point_earnings AS p WHERE p.points > 0 AND p.points = @ap AND p.user_id > @au ORDER BY p.points DESC, p.user_id LIMIT $page_size"
link_after_rest="SELECT p.user_id, p.points FROM point_earnings AS p WHERE p.points > 0 AND p.points < @ap ORDER BY p.points DESC, p.user_id LIMIT $page_size"
link_before_ties="SELECT p.user_id, p.points FROM point_earnings AS p WHERE p.points > 0 AND p.points = @bp AND p.user_id < @bu ORDER BY p.points, p.user_id DESC LIMIT $page_size"
link_before_rest="SELECT p.user_id, p.points FROM point_earnings AS p WHERE p.points > 0 AND p.points > @bp ORDER BY p.points, p.user_id DESC LIMIT $page_size"

# The rows the links of the last page and of the one before it start from (set after 0020 by bench_provider).
after_points=0 after_user=0 before_points=0 before_user=0
seek_values() {
  local sql="${1//@ap/$after_points}"
  sql="${sql//@au/$after_user}"
  sql="${sql//@bp/$before_points}"
  echo "${sql//@bu/$before_user}"
}

# The last row before the last page (@ap, @au) and the last page's first row (@bp, @bu), as the page's links carry them.
boundary_rows() {
  local provider="$1" offset="$2"
  read -r after_points after_user <<<"$(value "$provider" "SELECT points || ' ' || user_id FROM point_earnings WHERE points > 0 ORDER BY points DESC, user_id LIMIT 1 OFFSET $((offset - 1))")"
  read -r before_points before_user <<<"$(value "$provider" "SELECT points || ' ' || user_id FROM point_earnings WHERE points > 0 ORDER BY points DESC, user_id LIMIT 1 OFFSET $offset")"
}

# The user ids and points of a query's rows, one per line, in its order.
rows_of() {
  if [[ "$1" == sqlite ]]; then sqlite3 "$db" "$(seek_values "$2")"; else "$pg_bin/psql" "${pg_psql[@]}" -At -c "$(seek_values "$2")"; fi
}

time_queries() {
  local provider="$1" when="$2" offset="$3" name sql
  while IFS='|' read -r name sql; do
    [[ -z "$name" ]] && continue
    sql="$(seek_values "${sql//@offset/$offset}")"
    if [[ "$provider" == sqlite ]]; then
      printf '%-8s %-7s %-34s %s\n' "$provider" "$when" "$name" \
        "$(printf '.timer on\n%s;\n%s;\n' "$sql" "$sql" | sqlite3 "$db" | awk '/^Run Time/ { t = $4 } END { printf "%.1f ms", t * 1000 }')"
    else
      printf '%-8s %-7s %-34s %s\n' "$provider" "$when" "$name" \
        "$(printf 'EXPLAIN ANALYZE %s;\nEXPLAIN ANALYZE %s;\n' "$sql" "$sql" | "$pg_bin/psql" "${pg_psql[@]}" -At | awk '/^Execution Time/ { t = $3 } END { printf "%.1f ms", t }')"
    fi
  done < <(queries "$when")
}

# The plans of the new queries, for the record.
plans() {
  local provider="$1" offset="$2" name sql
  while IFS='|' read -r name sql; do
    sql="$(seek_values "${sql//@offset/$offset}")"
    echo "-- $name"
    if [[ "$provider" == sqlite ]]; then
      sqlite3 "$db" "EXPLAIN QUERY PLAN $sql"
    else
      "$pg_bin/psql" "${pg_psql[@]}" -At -c "EXPLAIN (ANALYZE, COSTS OFF) $sql"
    fi
  done < <(queries after)
}

# LB_WRITES credits of 10 points to distinct users, one statement and one transaction each; prints milliseconds.
write_cost() {
  local provider="$1" first started
  first="$(value "$provider" "SELECT min(id) FROM users")"
  awk -v n="$writes" -v first="$first" -v users="$users" -v p="$provider" 'BEGIN {
    for (i = 0; i < n; i++) {
      printf "INSERT INTO point_ledger (user_id, amount, reason, created_at) VALUES (%d, 10, %s, %s);\n",
        first + (i * 7) % users, "'"'"'completion'"'"'", (p == "sqlite" ? "'"'"'2026-11-29 00:00:00'"'"'" : "now()")
    }
  }' >"$work/writes.sql"
  started="$(date +%s%N)"
  if [[ "$provider" == sqlite ]]; then
    sqlite3 -bail "$db" <"$work/writes.sql"
  else
    "$pg_bin/psql" "${pg_psql[@]}" -f "$work/writes.sql" >/dev/null
  fi
  echo $((($(date +%s%N) - started) / 1000000))
}

# One statement that appends LB_BULK credits of 10 points (as SQL by hand or a data load would); prints milliseconds.
bulk_cost() {
  local provider="$1" series started
  if [[ "$provider" == sqlite ]]; then
    series="(WITH RECURSIVE s(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM s WHERE k < $bulk - 1) SELECT k FROM s) AS n"
  else
    series="generate_series(0, $bulk - 1) AS n(k)"
  fi
  started="$(date +%s%N)"
  run_sql "$provider" <<SQL
INSERT INTO point_ledger (user_id, amount, reason, created_at)
SELECT (SELECT min(id) FROM users) + (n.k * 13) % $users, 10, 'completion', '2026-11-29 00:00:00' FROM $series;
SQL
  echo $((($(date +%s%N) - started) / 1000000))
}

bench_provider() {
  local provider="$1" dir script started ranked offset
  dir="$([[ "$provider" == sqlite ]] && echo Sqlite || echo Postgres)"
  if [[ "$provider" == sqlite ]]; then
    db="$work/leaderboard.db"
    sqlite3 "$db" "PRAGMA journal_mode = WAL" >/dev/null
  else
    start_postgres
  fi
  for script in "$migrations/$dir"/00*.sql; do
    [[ "$(basename "$script")" < 0020 ]] || continue
    run_sql "$provider" <"$script"
  done
  started="$(date +%s)"
  fill_sql "$provider" | run_sql "$provider"
  if [[ "$provider" == sqlite ]]; then value sqlite "ANALYZE" >/dev/null; else value postgres "VACUUM ANALYZE" >/dev/null; fi
  log "$provider: $(value "$provider" "SELECT count(*) FROM point_ledger") ledger entries, $(value "$provider" "SELECT count(*) FROM users") users, filled in $(($(date +%s) - started)) s"
  ranked="$(value "$provider" "SELECT count(*) FROM (SELECT user_id FROM point_ledger WHERE reason IN ('completion', 'reversal') GROUP BY user_id HAVING sum(amount) > 0) AS t")"
  offset=$(((ranked - 1) / page_size * page_size))
  ((offset >= page_size)) || { log "$provider: $ranked ranked users make one page; the deep pages need more (LB_USERS)"; return 1; }
  time_queries "$provider" before "$offset"
  echo "$provider before  write cost: $writes single-row credits in $(write_cost "$provider") ms"
  echo "$provider before  write cost: one statement of $bulk credits in $(bulk_cost "$provider") ms"
  started="$(date +%s%N)"
  run_sql "$provider" <"$migrations/$dir/0020_point_earnings.sql"
  echo "$provider         migration 0020 (fill and triggers): $((($(date +%s%N) - started) / 1000000)) ms"
  if [[ "$provider" == sqlite ]]; then value sqlite "ANALYZE" >/dev/null; else value postgres "VACUUM ANALYZE" >/dev/null; fi
  boundary_rows "$provider" "$offset"
  time_queries "$provider" after "$offset"
  # Same rows: the last page by its link is the last page by its number, and the page before it by its link the
  # page before it by number (read the other way round).
  [[ "$({ rows_of "$provider" "$link_after_ties"; rows_of "$provider" "$link_after_rest"; } | head -n "$page_size")" == \
    "$(rows_of "$provider" "SELECT p.user_id, p.points FROM point_earnings AS p WHERE p.points > 0 ORDER BY p.points DESC, p.user_id LIMIT $page_size OFFSET $offset")" ]] ||
    { log "$provider: the last page by its link differs from the last page by its number"; return 1; }
  [[ "$({ rows_of "$provider" "$link_before_ties"; rows_of "$provider" "$link_before_rest"; } | head -n "$page_size" | tac)" == \
    "$(rows_of "$provider" "SELECT p.user_id, p.points FROM point_earnings AS p WHERE p.points > 0 ORDER BY p.points DESC, p.user_id LIMIT $page_size OFFSET $((offset - page_size))")" ]] ||
    { log "$provider: the page before the last by its link differs from that page by its number"; return 1; }
  echo "$provider after   write cost: $writes single-row credits in $(write_cost "$provider") ms"
  echo "$provider after   write cost: one statement of $bulk credits in $(bulk_cost "$provider") ms"
  # Same answers: the board from the totals is the board from the ledger, its total the number of users above zero,
  # and points issued the sum of the balances.
  [[ "$(value "$provider" "SELECT (SELECT sum(ranked) FROM point_totals) - (SELECT count(*) FROM point_earnings WHERE points > 0)")" == 0 ]] ||
    { log "$provider: the number of ranked users in point_totals differs from point_earnings"; return 1; }
  [[ "$(value "$provider" "SELECT count(*) FROM (SELECT user_id, sum(amount) AS s FROM point_ledger WHERE reason IN ('completion', 'reversal') GROUP BY user_id) AS l FULL JOIN point_earnings AS e ON e.user_id = l.user_id WHERE coalesce(l.s, 0) <> coalesce(e.points, 0)")" == 0 ]] ||
    { log "$provider: point_earnings differs from the ledger"; return 1; }
  # (The credits of the write cost add no balance: those written after 0020 are in point_totals and not in the balances.)
  [[ "$(value "$provider" "SELECT (SELECT sum(points) FROM point_totals) - (SELECT sum(balance) FROM point_balances)")" == "$(((writes + bulk) * 10))" ]] ||
    { log "$provider: point_totals differs from the balances by other than the credits written after 0020"; return 1; }
  echo "$provider: ranked users $ranked, last page offset $offset; plans after:"
  boundary_rows "$provider" "$offset" # the write cost's credits moved them
  plans "$provider" "$offset"
  if [[ "$provider" == postgres ]]; then
    as_postgres "$pg_bin/pg_ctl" -D "$pg_data" -m fast -w stop >/dev/null
    pg_data=""
  fi
}

log "load average: $(cut -d' ' -f1-3 /proc/loadavg), commit $(git -C "$root" rev-parse --short HEAD)"
each_provider "$@"
log "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
