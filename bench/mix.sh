#!/usr/bin/env bash
# The mixed load: virtual users sign in (POST /api/v1/auth/login), read the catalog (GET /api/v1/apps, some with q
# or category), complete apps with a unique PNG screenshot each, send points to each other, and an admin works through
# the review queue (approve, or reject with a reason), in a closed loop (no think time) for a bounded time and number
# of requests, on SQLite and on PostgreSQL. The load generator is bench/Aap.LoadMix (HttpClient): it reports per
# operation the count, the errors by status (a non-2xx that is not an expected business answer: a transfer the
# balance does not cover is one), p50/p95/p99/max, the overall throughput and the completions per second.
#
# Beside it this script samples, over the measured run, the CPU of AAP, of the load generator, of PostgreSQL's
# processes and of the whole machine (/proc), PostgreSQL's active backends and what they wait for
# (pg_stat_activity), and AAP's resident memory; it says which of them is at its limit. After each run it checks the
# books in the database: every balance is its ledger's sum and not negative, every approved completion has exactly
# one credit and no other completion has one, transfers sum to zero, the kept totals match the balances.
#
# AAP runs in Release as in production (lib.sh: Production, file logging, free loopback port, the rate limits raised
# above the load and the sign-in limit lifted, access tokens of an hour); every request goes to 127.0.0.1.
#
# Usage: bench/mix.sh [mix|steps|completions|memory]...   (default: mix)
#   mix          the mix for MIX_DURATION seconds with MIX_USERS users and MIX_ADMINS admins, on SQLite, then PostgreSQL;
#                completions wait for review (rewards.require_review=1), so that the admin has a queue
#   steps        the mix with MIX_STEPS users in turn ("1 2 4 8 16 32"), MIX_DURATION seconds each, on one AAP and
#                database per provider: throughput, p99 and errors at each step, and the highest throughput whose p99
#                stays under 250 ms with no error (the closed loop's load grows with its users, so this is the highest
#                rate that meets the latency target) and what saturated there
#   completions  only completions (credited at once, require_review=0) with 10 and with 50 users (COMPLETION_USER_COUNTS),
#                MIX_DURATION seconds each, on SQLite, then PostgreSQL, on a catalog of MIX_COMPLETION_APPS (1000) apps: first
#                a closed loop (the highest rate: completions/s and p95), then the same users paced at COMPLETION_RATE
#                (500) completions a second in all, timed from when each was due, against >= 500/s with p95 < 50 ms
#                (0 skips the paced run). After the warm-up and each run it waits for the thumbnail job to make the
#                thumbnails the run left pending, and says how long that took: a closed loop at full speed defers
#                that work past its end, which its completions/s do not count. Each account signs in once and
#                completes every app before the next one of its user signs in: the catalog's size sets how many of
#                the requests are sign-ins (each a deliberately slow password hash), one per 1,000 completions by default.
#                COMPLETION_START=same starts every account at the first app, so that the users complete the same
#                apps at the same time (an app everyone completes as soon as it is published), instead of at random
#   memory       fills MEMORY_ROWS (1,000,000) users, completions, ledger entries and to-do tasks in SQL, then runs
#                the mix for MEMORY_DURATION seconds (600), AAP's resident memory sampled every 10 s against 300 MB
# Settings:
#   MIX_USERS (32), MIX_ADMINS (1), MIX_DURATION (60), MIX_MAX_REQUESTS (2000000): the run stops at whichever comes first
#   MIX_WARMUP (30): seconds of the same load, on accounts of its own, before the measured run of mix and completions
#                (the JIT compiles the paths during the first 20 to 30 s of a fresh process; 0 measures a cold process)
#   MIX_APPS (100): apps published; MIX_ACCOUNTS (users x 20): accounts seeded in SQL, dealt out to the users in turn
#   MIX_DATABASES (sqlite postgres): which databases, in order
#   MIX_STEPS ("1 2 4 8 16 32"), COMPLETION_USER_COUNTS ("10 50"), MIX_COMPLETION_APPS (1000), COMPLETION_RATE (500), COMPLETION_START (random)
#   MEMORY_ROWS (1000000), MEMORY_DURATION (600), MEMORY_DATABASE (sqlite)
#   BENCH_PUBLISHED: a folder keeping AAP and the generator as published; a later run with it skips the build
#   MEMORY_KEEP: a folder to copy the memory run's data folder to (database and AAP's logs) before it is removed,
#                to look at its plans or at a statement log afterwards (with Serilog__MinimumLevel__Override__... set)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
log() { printf 'mix.sh: %s\n' "$*" >&2; }

mix_users="${MIX_USERS:-32}"
mix_admins="${MIX_ADMINS:-1}"
mix_duration="${MIX_DURATION:-60}"
mix_warmup="${MIX_WARMUP:-30}"
mix_max_requests="${MIX_MAX_REQUESTS:-2000000}"
mix_apps="${MIX_APPS:-100}"
mix_databases="${MIX_DATABASES:-sqlite postgres}"
mix_steps="${MIX_STEPS:-1 2 4 8 16 32}"
completion_user_counts="${COMPLETION_USER_COUNTS:-10 50}"
completion_start="${COMPLETION_START:-random}"
completion_apps="${MIX_COMPLETION_APPS:-1000}"
completion_rate="${COMPLETION_RATE:-500}"
memory_rows="${MEMORY_ROWS:-1000000}"
memory_duration="${MEMORY_DURATION:-600}"
memory_database="${MEMORY_DATABASE:-sqlite}"
target_p99_ms=250
target_completions=500
target_completion_p95_ms=50
target_rss_mb=300
db_file=""

# --- build -----------------------------------------------------------------------------------------------------
publish_mix() {
  publish_beside_aap "$root" loadmix "$root/bench/Aap.LoadMix/Aap.LoadMix.csproj" Aap.LoadMix.dll "the load generator"
}

# --- the database ----------------------------------------------------------------------------------------------
# Runs SQL from standard input on the benchmark's database of the provider.
db_sql() {
  if [[ "$1" == sqlite ]]; then
    sqlite3 -bail -cmd ".timeout 60000" -cmd "PRAGMA cache_size = -262144" "$db_file" >/dev/null
  else
    "$pg_bin/psql" "${pg_psql[@]}" >/dev/null
  fi
}

db_value() { query_value "$1" "$db_file" "$2"; }

# A series of integers FROM..TO as a table with a column i, in the provider's SQL.
series() {
  if [[ "$1" == sqlite ]]; then
    echo "(WITH RECURSIVE s(i) AS (SELECT $2 UNION ALL SELECT i + 1 FROM s WHERE i < $3) SELECT i FROM s) AS n"
  else
    echo "generate_series($2, $3) AS n(i)"
  fi
}

# A value as 64 hexadecimal digits, in the provider's SQL: a screenshot hash of its own for each filled completion.
hex64() {
  if [[ "$1" == sqlite ]]; then
    echo "printf('%064x', $2)"
  else
    echo "lpad(to_hex($2), 64, '0')"
  fi
}

# Copies the template account to <prefix>FROM..<prefix>TO (user name and e-mail), with its password hash: each can
# sign in with the template's password. One account goes through the API, the copies through SQL in a second.
copy_users_sql() {
  local provider="$1" template="$2" prefix="$3" from="$4" to="$5"
  cat <<SQL
INSERT INTO users (role, is_active, created_at, updated_at, user_name, normalized_user_name, email, normalized_email, email_confirmed,
  password_hash, security_stamp, concurrency_stamp, phone_number, phone_number_confirmed, two_factor_enabled, lockout_end, lockout_enabled, access_failed_count)
SELECT u.role, u.is_active, u.created_at, u.updated_at, '$prefix' || n.i, upper('$prefix') || n.i, '$prefix' || n.i || '@example.com',
  upper('$prefix') || n.i || '@EXAMPLE.COM', u.email_confirmed, u.password_hash, u.security_stamp, u.concurrency_stamp, u.phone_number,
  u.phone_number_confirmed, u.two_factor_enabled, u.lockout_end, u.lockout_enabled, u.access_failed_count
FROM users u CROSS JOIN $(series "$provider" "$from" "$to")
WHERE u.id = $template;
SQL
}

# --- AAP with its data -----------------------------------------------------------------------------------------
# Starts AAP on the provider's fresh database and publishes the catalog: four categories and $mix_apps apps.
mix_start() {
  local provider="$1" name="$2" admin i categories=(games education health tools)
  if [[ "$provider" == sqlite ]]; then
    run_aap "$work/data-$name"
    db_file="$(find "$work/data-$name" -name '*.db' | head -n 1)"
  else
    [[ -n "$pg_data" ]] || start_postgres
    "$pg_bin/psql" "${pg_psql[@]}" -c 'DROP SCHEMA public CASCADE; CREATE SCHEMA public;' >/dev/null
    run_aap "$work/data-$name" Database__Provider=Postgres ConnectionStrings__Default="$pg_connection"
  fi
  long_tokens
  admin="$(login "$admin_name" "$admin_password")"
  for i in "${categories[@]}"; do
    api POST /api/v1/categories "$(jq -nc --arg s "mix-$i" --arg n "Mix $i" '{slug: $s, name: $n}')" "$admin" >/dev/null
  done
  for ((i = 1; i <= mix_apps; i++)); do
    api POST /api/v1/apps "$(jq -nc --arg n "Mix app $i" --argjson p "$((i % 20 + 1))" --arg c "mix-${categories[i % 4]}" \
      '{name: $n, link: "https://example.com/app", points: $p, category: $c, description: "An app of the mixed load."}')" "$admin" >/dev/null
  done
}

# Seeds the accounts mix-1..N (the users' share) from one registered through the API.
seed_accounts() {
  local provider="$1" count="$2" token template
  token="$(new_user mix-template@example.com)"
  template="$(api GET /api/v1/me "" "$token" | jq -r .data.id)"
  copy_users_sql "$provider" "$template" mix- 1 "$count" | db_sql "$provider"
  # The first and the last can sign in: the copies are accounts as AAP reads them.
  login "mix-1@example.com" "$user_password" >/dev/null
  login "mix-$count@example.com" "$user_password" >/dev/null
}

review() {
  local admin
  admin="$(login "$admin_name" "$admin_password")"
  api PUT /api/v1/admin/settings/rewards.require_review "{\"value\": $1}" "$admin" >/dev/null
}

# --- sampling --------------------------------------------------------------------------------------------------
# Busy and total ticks of the whole machine (/proc/stat: every field but idle and iowait is busy).
machine_ticks() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat; }

# PostgreSQL's processes: the postmaster and its children (backends, writer, WAL writer, autovacuum...).
pg_pids() {
  local main
  [[ -n "$pg_data" && -f "$pg_data/postmaster.pid" ]] || return 0
  main="$(head -n 1 "$pg_data/postmaster.pid")"
  echo "$main"
  pgrep -P "$main" 2>/dev/null || true
}

# Ticks of processes, each read once (a process gone since is left out).
ticks_of_pids() {
  local total=0 pid t
  for pid in "$@"; do
    t="$(cpu_ticks "$pid" 2>/dev/null)" || continue
    total=$((total + t))
  done
  echo "$total"
}

# One sample of PostgreSQL's active backends of the benchmark database: what each waits for, or "CPU", and after a
# tab the start of its statement (whitespace folded), so that a lock wait names what waits.
pg_activity() {
  "$pg_bin/psql" "${pg_psql[@]}" -At -F $'\t' -c "SELECT coalesce(wait_event_type, 'CPU') || ':' || coalesce(wait_event, '-'),
    left(regexp_replace(query, '\s+', ' ', 'g'), 90)
    FROM pg_stat_activity WHERE datname = 'aap_bench' AND state = 'active' AND pid <> pg_backend_pid()" 2>/dev/null || true
}

kib_of() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# kB resident of the runtime's double-mapped memory (write-xor-execute: one shared-memory file, mapped executable
# where code runs and writable where it is written) whose mappings have permissions matching $2: "^r-x" for the code
# the JIT wrote and the stubs, "^rw-" for the type system's data (the runtime's loader heaps). 0 with W^X off.
double_mapped_kib() {
  awk -v want="$2" '/^[0-9a-f]+-[0-9a-f]+ / { keep = ($6 ~ /doublemapper/ && $2 ~ want) } keep && $1 == "Rss:" { s += $2 } END { print s + 0 }' "/proc/$1/smaps"
}

# Runs the generator (arguments after the provider) and samples everything once a second until it exits; then
# prints its report, what each process used, and the saturation; the RSS samples are in $work/rss (seconds KiB).
# mix_run PROVIDER RSS_EVERY_S GENERATOR_ARGUMENTS...
mix_run() {
  local provider="$1" rss_every="$2" gen_pid started elapsed m0 m1 a0 a1 g0 g1 p0 p1 pg_list=() second=0 rss
  shift 2
  : >"$work/activity"
  : >"$work/rss"
  mapfile -t pg_list < <(pg_pids)
  local busy0 total0
  read -r busy0 total0 < <(machine_ticks)
  a0="$(cpu_ticks "$aap_pid")"
  p0="$(ticks_of_pids "${pg_list[@]}")"
  started="$(now_ms)"
  (
    cd "$work/loadmix"
    exec timeout "$((mix_duration_now + 120))" dotnet Aap.LoadMix.dll --url "$aap" --password "$user_password" \
      --admin-login "$admin_name" --admin-password "$admin_password" --duration "$mix_duration_now" --max-requests "$mix_max_requests" "$@"
  ) >"$work/mix.out" 2>"$work/mix.err" &
  gen_pid=$!
  g0=0
  local next_rss="$rss_every" at
  while kill -0 "$gen_pid" 2>/dev/null; do
    sleep 1
    second=$((second + 1))
    # Seconds since the start, not loops: on a busy machine a loop takes longer than its second.
    at=$((($(now_ms) - started) / 1000))
    # The generator runs under timeout: its ticks are those of timeout's child.
    g1="$(ticks_of_pids $(pgrep -P "$gen_pid" 2>/dev/null))" && ((g1 > 0)) && g0="$g1"
    [[ "$provider" == postgres ]] && pg_activity >>"$work/activity"
    if ((at >= next_rss)); then
      next_rss=$((next_rss + rss_every))
      rss="$(kib_of "$aap_pid" VmRSS)"
      echo "$at $rss" >>"$work/rss"
      ((rss_every > 1)) && log "$at s: AAP's RSS $(mib "$rss") MiB"
    fi
  done
  wait "$gen_pid" || { log "the load generator failed:"; cat "$work/mix.err" "$work/mix.out" >&2; return 1; }
  elapsed=$(($(now_ms) - started))
  read -r m0 m1 < <(machine_ticks)
  a1="$(cpu_ticks "$aap_pid")"
  p1="$(ticks_of_pids "${pg_list[@]}")"
  cat "$work/mix.out"
  # CPU as a percentage of one core over the run: 100% is a core's worth, $(nproc)00% the machine.
  local cores aap_pct gen_pct pg_pct machine_pct
  cores="$(nproc)"
  aap_pct="$(awk -v t=$((a1 - a0)) -v hz="$clock_ticks" -v ms="$elapsed" 'BEGIN { printf "%.0f", t / hz * 100000 / ms }')"
  gen_pct="$(awk -v t="$g0" -v hz="$clock_ticks" -v ms="$elapsed" 'BEGIN { printf "%.0f", t / hz * 100000 / ms }')"
  pg_pct="$(awk -v t=$((p1 - p0)) -v hz="$clock_ticks" -v ms="$elapsed" 'BEGIN { printf "%.0f", t / hz * 100000 / ms }')"
  machine_pct="$(awk -v b=$((m0 - busy0)) -v t=$((m1 - total0)) 'BEGIN { printf "%.0f", 100 * b / t }')"
  echo "CPU over the run ($((elapsed / 1000)) s; 100% = one core, the machine has $cores): AAP ${aap_pct}%, load generator ${gen_pct}%," \
    "PostgreSQL $([[ "$provider" == postgres ]] && echo "${pg_pct}%" || echo "-"); the machine ${machine_pct}% busy of its $cores cores"
  # AAP's CPU per request: what a quiet machine's cores would bound the rate to, whatever else ran beside it.
  awk -v t=$((a1 - a0)) -v hz="$clock_ticks" -v n="$(awk '/^result / { split($2, kv, "="); print kv[2] }' "$work/mix.out")" -v cores="$cores" \
    'BEGIN { if (n > 0) printf "AAP'"'"'s CPU per request: %.1f ms (all %d cores would bound AAP alone to about %.0f requests/s of this mix)\n", t / hz * 1000 / n, cores, n * cores * hz / t }'
  # RssFile is mostly the runtime and the assemblies, mapped from disk and shared with other .NET processes;
  # RssShmem the runtime's double-mapped memory (the JIT's code and the type system's data), plus AAP's own
  # assemblies when its folder is on a tmpfs (TMPDIR=/dev/shm).
  echo "AAP's resident memory: peak $(mib "$(kib_of "$aap_pid" VmHWM)") MiB since start, $(mib "$(kib_of "$aap_pid" VmRSS)") MiB at the end" \
    "(anonymous $(mib "$(kib_of "$aap_pid" RssAnon)"), files $(mib "$(kib_of "$aap_pid" RssFile)"), shared $(mib "$(kib_of "$aap_pid" RssShmem)") MiB;" \
    "of the shared, the runtime's code and stubs $(mib "$(double_mapped_kib "$aap_pid" '^r-x')") MiB and its type data $(mib "$(double_mapped_kib "$aap_pid" '^rw-')") MiB)"
  if [[ "$provider" == sqlite ]]; then
    # Part of the anonymous memory: SQLite's allocator (page caches, schemas, statements), from AAP's own gauges.
    curl -s --max-time 10 "$aap/metrics" | awk '$1 ~ /^aap_sqlite_memory_bytes($|\{)/ { now = $2 } $1 ~ /^aap_sqlite_memory_peak_bytes($|\{)/ { peak = $2 }
      END { if (now != "") printf "of the anonymous, SQLite'"'"'s allocator %.1f MiB (its peak %.1f MiB)\n", now / 1048576, peak / 1048576 }'
  fi
  if [[ "$provider" == postgres && -s "$work/activity" ]]; then
    echo "PostgreSQL's active backends, sampled about once a second ($second samples): $(awk -v n="$second" 'END { printf "%.1f", NR / n }' "$work/activity") on average;" \
      "what they were doing: $(cut -f1 "$work/activity" | sort | uniq -c | sort -rn | head -n 6 | awk '{ printf "%s%s %s", sep, $2, $1; sep = ", " }')"
    echo "lock waits (wait_event_type Lock) in $(grep -c '^Lock:' "$work/activity" || true) of $(wc -l <"$work/activity") backend samples; the statements waiting most:"
    grep '^Lock:' "$work/activity" | cut -f2 | sort | uniq -c | sort -rn | head -n 4 | sed 's/^ */  /' || true
  fi
  saturation "$provider" "$machine_pct" "$aap_pct" "$gen_pct" "$pg_pct" "$cores"
}

# Which resource is at its limit: the machine's CPU when it is nearly all busy (then the biggest user named), else
# PostgreSQL's lock waits when many backends wait on locks, else none (the clients wait on something else).
saturation() {
  local provider="$1" machine="$2" aap="$3" gen="$4" pg="$5" cores="$6" locks=0 samples=0
  if [[ "$provider" == postgres && -s "$work/activity" ]]; then
    locks="$(grep -c '^Lock:' "$work/activity" || true)"
    samples="$(wc -l <"$work/activity")"
  fi
  if ((machine >= 90)); then
    echo "saturated first: the CPU ($machine% of $cores cores busy); of it AAP $aap%, the generator $gen%$([[ "$provider" == postgres ]] && echo ", PostgreSQL $pg%")"
  elif ((samples > 0 && locks * 5 > samples)); then
    echo "saturated first: PostgreSQL's row locks ($locks of $samples active-backend samples wait on a Lock) with the CPU $machine% busy"
  else
    echo "saturated first: no CPU is at its limit ($machine% busy): the requests wait on something else$([[ "$provider" == sqlite ]] && echo " (SQLite takes one writer at a time)")"
  fi
}

# The books after a run: each line a check and the number of rows breaking it (all must be 0).
check_books() {
  local provider="$1" line name sql n bad=0
  while IFS='|' read -r name sql; do
    n="$(db_value "$provider" "$sql")"
    [[ "$n" == 0 ]] || { bad=1; log "books: $name: $n"; }
  done <<'SQL'
balances that are not their ledger's sum|SELECT count(*) FROM point_balances b WHERE b.balance <> (SELECT coalesce(sum(l.amount), 0) FROM point_ledger l WHERE l.user_id = b.user_id)
negative balances|SELECT count(*) FROM point_balances WHERE balance < 0
approved completions without exactly one credit|SELECT count(*) FROM app_completions c WHERE c.status = 'Approved' AND (SELECT count(*) FROM point_ledger l WHERE l.completion_id = c.id AND l.reason = 'completion') <> 1
other completions with a credit|SELECT count(*) FROM app_completions c WHERE c.status <> 'Approved' AND EXISTS (SELECT 1 FROM point_ledger l WHERE l.completion_id = c.id)
transfers that do not sum to zero|SELECT count(*) FROM (SELECT transfer_id FROM point_ledger WHERE transfer_id IS NOT NULL GROUP BY transfer_id HAVING sum(amount) <> 0 OR count(*) <> 2) t
kept totals unlike the balances|SELECT CASE WHEN (SELECT coalesce(sum(points), 0) FROM point_totals) = (SELECT coalesce(sum(balance), 0) FROM point_balances) THEN 0 ELSE 1 END
SQL
  line="$(db_value "$provider" "SELECT (SELECT count(*) FROM app_completions) || ' completions (' || (SELECT count(*) FROM app_completions WHERE status = 'Pending') || ' pending), ' || (SELECT count(*) FROM point_ledger) || ' ledger entries, ' || (SELECT count(*) FROM point_ledger WHERE reason = 'transfer_out') || ' transfers'")"
  if ((bad)); then
    echo "books after the run: WRONG (see above); $line"
  else
    echo "books after the run: consistent (balances = ledger sums, none negative, one credit per approved completion, transfers sum to zero, totals = balances); $line"
  fi
}

# --- the sub-commands ------------------------------------------------------------------------------------------
# The warm-up: MIX_WARMUP seconds of the same load (arguments as for mix_run's generator) on accounts FIRST to
# FIRST + COUNT - 1, which the measured run does not use; its report is not kept.
warm_up() {
  local provider="$1" first="$2" count="$3"
  shift 3
  ((mix_warmup > 0)) || return 0
  log "warming up on $provider for $mix_warmup s"
  mix_duration_now="$mix_warmup"
  mix_run "$provider" 1 "$@" --accounts "$count" --first-account "$first" >/dev/null
}

bench_mix() {
  local provider accounts=$((${MIX_ACCOUNTS:-$((mix_users * 20))}))
  for provider in $mix_databases; do
    mix_start "$provider" "mix-$provider"
    seed_accounts "$provider" $((accounts * 2))
    review 1
    warm_up "$provider" $((accounts + 1)) "$accounts" --mode mix --users "$mix_users" --admins "$mix_admins"
    echo
    echo "mix on $provider: $mix_users users and $mix_admins admin(s), closed loop, $mix_duration s (at most $mix_max_requests requests) after a warm-up of $mix_warmup s;" \
      "$mix_apps apps, $accounts accounts; sign-in 5%, catalog 45%, completion 30%, transfer 20% of each user's requests; completions reviewed"
    mix_duration_now="$mix_duration"
    mix_run "$provider" 1 --mode mix --users "$mix_users" --admins "$mix_admins" --accounts "$accounts" >"$work/mix-$provider.report"
    cat "$work/mix-$provider.report"
    targets_mix "$work/mix-$provider.report"
    check_books "$provider"
    stop_started "$aap_pid"
  done
}

targets_mix() {
  awk -v t="$target_p99_ms" '/^result / { for (i = 2; i <= NF; i++) { split($i, kv, "="); r[kv[1]] = kv[2] }
    printf "target p99 < %d ms and no error: p99 %s ms, %s errors: %s\n", t, r["p99_ms"], r["errors"], (r["p99_ms"] + 0 < t && r["errors"] == 0) ? "met" : "not met" }' "$1"
}

# Field NAME of the generator's "result" line in report FILE.
result_of() { awk -v k="$2" '/^result / { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) print kv[2] } }' "$1"; }

# Whether a step's p99 ($1) is under the target with no error ($2), at a higher rate ($3) than the best so far ($4).
meets() { awk -v p="$1" -v t="$target_p99_ms" -v e="$2" -v r="$3" -v b="${4:-0}" 'BEGIN { exit !(p + 0 < t && e == 0 && r + 0 > b + 0) }'; }

bench_steps() {
  local provider users accounts=0 first rps p99 rest errors saturated best best_users best_p99 best_saturated rest_best rest_users rest_p99
  # Each step has accounts of its own (20 per user), so that none repeats a completion of an earlier step.
  for users in $mix_steps; do
    accounts=$((accounts + users * 20))
  done
  for provider in $mix_databases; do
    mix_start "$provider" "steps-$provider"
    seed_accounts "$provider" "$accounts"
    review 1
    echo
    echo "steps on $provider: the mix with $mix_steps users in turn (and $mix_admins admin(s)), $mix_duration s each, on one AAP and database;" \
      "$mix_apps apps, 20 accounts of its own per user in each step"
    printf '%-6s %10s %10s %22s %8s  %s\n' users "req/s" "p99 ms" "p99 ms but sign-in" errors "saturated first"
    best="" best_users="" best_p99="" best_saturated="" rest_best="" rest_users="" rest_p99="" first=1
    for users in $mix_steps; do
      mix_duration_now="$mix_duration"
      mix_run "$provider" 1 --mode mix --users "$users" --admins "$mix_admins" --accounts $((users * 20)) --first-account "$first" \
        >"$work/steps-$provider-$users.report"
      first=$((first + users * 20))
      rps="$(result_of "$work/steps-$provider-$users.report" rps)"
      p99="$(result_of "$work/steps-$provider-$users.report" p99_ms)"
      rest="$(result_of "$work/steps-$provider-$users.report" p99_but_sign_in_ms)"
      errors="$(result_of "$work/steps-$provider-$users.report" errors)"
      saturated="$(sed -n 's/^saturated first: //p' "$work/steps-$provider-$users.report")"
      printf '%-6s %10s %10s %22s %8s  %s\n' "$users" "$rps" "$p99" "$rest" "$errors" "$saturated"
      if meets "$p99" "$errors" "$rps" "$best"; then
        best="$rps" best_users="$users" best_p99="$p99" best_saturated="$saturated"
      fi
      if meets "$rest" "$errors" "$rps" "$rest_best"; then
        rest_best="$rps" rest_users="$users" rest_p99="$rest"
      fi
    done
    for users in $mix_steps; do
      echo
      echo "the step with $users users:"
      cat "$work/steps-$provider-$users.report"
    done
    echo
    if [[ -n "$best" ]]; then
      echo "highest rate with p99 < $target_p99_ms ms and no error on $provider: $best requests/s with $best_users users (p99 $best_p99 ms); there, saturated first: $best_saturated"
    else
      echo "highest rate with p99 < $target_p99_ms ms and no error on $provider: none of the steps met it"
    fi
    if [[ -n "$rest_best" ]]; then
      echo "highest rate with p99 < $target_p99_ms ms for every request but the sign-ins, and no error, on $provider: $rest_best requests/s with $rest_users users (p99 $rest_p99 ms)"
    else
      echo "highest rate with p99 < $target_p99_ms ms for every request but the sign-ins, and no error, on $provider: none of the steps met it"
    fi
    check_books "$provider"
    stop_started "$aap_pid"
  done
}

# The screenshots whose thumbnails are still to be made: the thumbnail job makes them after the answers, on one thread
# of its own, so a run at full speed leaves some of that work for after its end.
thumbnails_pending() { db_value "$1" "SELECT count(*) FROM stored_files WHERE thumbnail_status = 'pending'"; }

# Waits for the job to make the thumbnails the run left pending (10 minutes at most), so that the next run does not
# start with the work of this one, and says how long that took.
drain_thumbnails() {
  local provider="$1" left waited=0
  left="$(thumbnails_pending "$provider")"
  while ((left > 0 && waited < 600)); do
    sleep 1
    waited=$((waited + 1))
    left="$(thumbnails_pending "$provider")"
  done
  echo "the thumbnail job's work left at the end of the run: $waited s ($left thumbnails still pending after it)"
}

# The completions target against a report: met when the run completed at least 500 a second (99% of it for a paced
# run, whose last answers come after its end) with p95 under 50 ms and no error.
targets_completions() {
  awk -v c="$target_completions" -v p="$target_completion_p95_ms" '/^result / { for (i = 2; i <= NF; i++) { split($i, kv, "="); r[kv[1]] = kv[2] }
    paced = (r["rate"] + 0 > 0); need = paced ? c * 0.99 : c; how = paced ? " (paced at " r["rate"] "/s)" : " (closed loop)"
    met = (r["completions_per_s"] + 0 >= need && r["complete_p95_ms"] + 0 < p && r["errors"] == 0) ? "met" : "not met"
    printf "target >= %d completions/s with p95 < %d ms%s: %s/s, p95 %s ms, %s errors: %s\n", c, p, how, r["completions_per_s"], r["complete_p95_ms"], r["errors"], met }' "$1"
}

bench_completions() {
  local provider users accounts mix_apps="$completion_apps"
  for provider in $mix_databases; do
    for users in $completion_user_counts; do
      # Enough accounts that none runs out of apps: users x 20 accounts x $mix_apps apps, for the warm-up, the closed
      # loop and the paced run each.
      accounts=$((users * 20))
      mix_start "$provider" "completions-$provider-$users"
      seed_accounts "$provider" $((accounts * 3))
      review 0
      warm_up "$provider" $((accounts + 1)) "$accounts" --mode completions --users "$users" --start "$completion_start"
      drain_thumbnails "$provider" >/dev/null
      echo
      echo "completions on $provider: $users users in parallel, each only completing apps (credited at once; $mix_apps apps; accounts start at $completion_start apps), closed loop, $mix_duration s after a warm-up of $mix_warmup s"
      mix_duration_now="$mix_duration"
      mix_run "$provider" 1 --mode completions --users "$users" --accounts "$accounts" --start "$completion_start" >"$work/completions.report"
      cat "$work/completions.report"
      drain_thumbnails "$provider"
      targets_completions "$work/completions.report"
      if ((completion_rate > 0)); then
        echo
        echo "completions on $provider: the same $users users paced at $completion_rate completions a second in all, $mix_duration s, on accounts of their own"
        mix_run "$provider" 1 --mode completions --users "$users" --accounts "$accounts" --first-account $((accounts * 2 + 1)) --start "$completion_start" \
          --rate "$completion_rate" >"$work/completions-paced.report"
        cat "$work/completions-paced.report"
        drain_thumbnails "$provider"
        targets_completions "$work/completions-paced.report"
      fi
      check_books "$provider"
      stop_started "$aap_pid"
    done
  done
}

# The memory run: MEMORY_ROWS users (fill-1..N), as many to-do tasks, 1.1 x as many completions (one in eleven
# pending or rejected, the others approved) and one ledger credit per approved one, then the mix for MEMORY_DURATION s.
# Each filled completion has a screenshot hash of its own, as real proofs do: with the template's hash on all of them,
# the ANALYZE after the fill told SQLite that a hash matches 1.1M rows, and the duplicate-proof check of every new
# completion scanned the table instead of its hash index (docs/benchmarks.md, "What grew with the tables").
memory_fill_sql() {
  local provider="$1" template_user="$2" template_completion="$3" first_app="$4" apps="$5" rows="$6" first
  local completions=$((rows / 10 * 11))
  # The copies come after the template, whose own name may start with fill- too.
  first="(SELECT min(id) FROM users WHERE id > $template_user AND user_name LIKE 'fill-%')"
  copy_users_sql "$provider" "$template_user" fill- 1 "$rows"
  cat <<SQL
INSERT INTO todo_tasks (owner_id, title, description, status, priority, due_date, completed_at, created_at, updated_at, deleted_at, version)
SELECT f.first + n.i % $rows, 'Task ' || n.i, 'Written by the benchmark', t.status, n.i % 3, t.due_date, t.completed_at, t.created_at, t.updated_at, NULL, 1
FROM todo_tasks t CROSS JOIN (SELECT $first AS first) f CROSS JOIN $(series "$provider" 0 $((rows - 1)))
WHERE t.id = (SELECT min(id) FROM todo_tasks);

INSERT INTO app_completions (user_id, app_id, screenshot_file_id, screenshot_sha256, status, flagged, points, review_reason, reviewed_by,
  reviewed_at, created_at, updated_at)
SELECT f.first + n.i % $rows, a.id, c.screenshot_file_id, $(hex64 "$provider" n.i),
  CASE WHEN n.i % 11 <> 10 THEN 'Approved' WHEN n.i % 2 = 0 THEN 'Rejected' ELSE 'Pending' END, c.flagged, a.points,
  CASE WHEN n.i % 11 = 10 AND n.i % 2 = 0 THEN 'The screenshot shows another app.' END,
  CASE WHEN n.i % 11 = 10 AND n.i % 2 = 1 THEN NULL ELSE c.reviewed_by END,
  CASE WHEN n.i % 11 = 10 AND n.i % 2 = 1 THEN NULL ELSE c.created_at END,
  c.created_at, c.created_at
FROM app_completions c CROSS JOIN (SELECT $first AS first) f CROSS JOIN $(series "$provider" 0 $((completions - 1)))
JOIN apps a ON a.id = $first_app + (n.i / $rows + n.i) % $apps
WHERE c.id = $template_completion;

INSERT INTO point_ledger (user_id, amount, reason, completion_id, transfer_id, created_at)
SELECT c.user_id, c.points, 'completion', c.id, NULL, c.created_at
FROM app_completions c
WHERE c.status = 'Approved' AND c.user_id >= $first;

INSERT INTO point_balances (user_id, balance)
SELECT e.user_id, sum(e.amount) FROM point_ledger e WHERE e.user_id >= $first GROUP BY e.user_id;
SQL
}

# A 1x1 PNG, made unique by the bytes after it: the template completion's proof.
png_base64='iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='

bench_memory() {
  local provider="$memory_database" token template first_app started code accounts=$((mix_users * 20))
  mix_start "$provider" "memory-$provider"
  token="$(new_user fill-template@example.com)"
  template="$(api GET /api/v1/me "" "$token" | jq -r .data.id)"
  api POST /api/v1/todos '{"title": "Task 0", "description": "Written by the benchmark", "priority": "normal"}' "$token" >/dev/null
  first_app="$(db_value "$provider" 'SELECT min(id) FROM apps')"
  { printf '%s' "$png_base64" | base64 -d; printf 'fill template'; } >"$work/template.png"
  code="$(curl -s --max-time 30 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
    -F "screenshot=@$work/template.png;type=image/png" "$aap/api/v1/apps/$first_app/completions")"
  [[ "$code" == 201 ]] || { log "the template completion answered $code"; return 1; }
  log "$provider: filling $memory_rows users, to-do tasks, $((memory_rows / 10 * 11)) completions and their ledger credits"
  started="$(now_ms)"
  memory_fill_sql "$provider" "$template" "$(db_value "$provider" 'SELECT max(id) FROM app_completions')" "$first_app" "$mix_apps" "$memory_rows" | db_sql "$provider"
  if [[ "$provider" == sqlite ]]; then echo 'ANALYZE;' | db_sql sqlite; else echo 'VACUUM ANALYZE;' | db_sql postgres; fi
  log "$provider: filled in $(($(now_ms) - started)) ms"
  seed_accounts "$provider" "$accounts"
  review 1
  # A restart: the memory measured is that of a process serving the big tables, not of the one that filled them.
  stop_started "$aap_pid"
  if [[ "$provider" == sqlite ]]; then run_aap "$work/data-memory-$provider"; else run_aap "$work/data-memory-$provider" Database__Provider=Postgres ConnectionStrings__Default="$pg_connection"; fi
  echo
  echo "memory on $provider: $(db_value "$provider" "SELECT (SELECT count(*) FROM users) || ' users, ' || (SELECT count(*) FROM todo_tasks) || ' to-do tasks, ' || (SELECT count(*) FROM app_completions) || ' completions, ' || (SELECT count(*) FROM point_ledger) || ' ledger entries'");" \
    "AAP's RSS after the restart $(mib "$(kib_of "$aap_pid" VmRSS)") MiB; the mix with $mix_users users and $mix_admins admin(s) for $memory_duration s"
  mix_duration_now="$memory_duration"
  mix_run "$provider" 10 --mode mix --users "$mix_users" --admins "$mix_admins" --accounts "$accounts" >"$work/memory.report"
  cat "$work/memory.report"
  echo "AAP's resident memory, the first sample of every minute (s MiB): $(awk 'int($1 / 60) != last { last = int($1 / 60); printf "%s%d %d", sep, $1, $2 / 1024; sep = ", " }' "$work/rss")"
  awk -v t="$target_rss_mb" '{ if ($2 > peak) peak = $2; last = $2 } END {
    printf "RSS under load: peak %d MiB, at the end %d MiB (%.0f MB) (target < %d MB after 10 minutes: %s)\n", peak / 1024, last / 1024, last * 1.024 / 1000, t, (last * 1.024 / 1000 < t) ? "met" : "not met" }' "$work/rss"
  check_books "$provider"
  stop_started "$aap_pid"
  if [[ -n "${MEMORY_KEEP:-}" ]]; then
    mkdir -p "$MEMORY_KEEP"
    cp -r "$work/data-memory-$provider" "$MEMORY_KEEP/"
    log "the data folder is kept in $MEMORY_KEEP/data-memory-$provider"
  fi
}

mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }

# --- main ------------------------------------------------------------------------------------------------------
commands=("$@")
[[ ${#commands[@]} == 0 ]] && commands=(mix)
for command in "${commands[@]}"; do
  case "$command" in
    mix | steps | completions | memory) ;;
    *)
      log "unknown run '$command': use mix, steps, completions or memory"
      exit 2
      ;;
  esac
done
[[ "$completion_start" == random || "$completion_start" == same ]] || { log "COMPLETION_START is random or same, not '$completion_start'"; exit 2; }
require_tools
command -v sqlite3 >/dev/null || { log "sqlite3 is required to seed the SQLite database"; exit 1; }
publish_mix
echo "mixed load: ${commands[*]}"
machine
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for command in "${commands[@]}"; do
  "bench_$command"
  echo "load average after $command: $(cut -d' ' -f1-3 /proc/loadavg)"
done
