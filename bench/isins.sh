#!/usr/bin/env bash
# The ISIN load of the daily isin-download job (docs/isins.md) on a generated file, beside psql's \copy of the same
# rows into a plain table on the same PostgreSQL: rows per second of each, and their ratio.
#
# The file has ISIN_ROWS rows "LEI,ISIN" (valid check digits), zipped as GLEIF publishes it, served from a local
# HTTP server (python3 -m http.server, which answers If-Modified-Since with a 304). AAP is published in Release and
# run against a throwaway PostgreSQL cluster (and, with "sqlite", on SQLite too); the job is started with run-now
# and timed from the request to the run's end as its record shows it (polled every 100 ms): download, unzip,
# validation, COPY into the stage and the swap transaction. A second run of the unchanged file shows the conditional GET.
#
# Usage: bench/isins.sh [postgres|sqlite|all]...   (default: postgres)
# Settings: ISIN_ROWS (5000000), BENCH_RUNS (1: loads into an empty table; each run uses a fresh database)
# The generated files are kept between modes; the rate of a load is ISIN_ROWS over the time from run-now to the
# run seen finished.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rows="${ISIN_ROWS:-5000000}"
isin_runs="${BENCH_RUNS:-1}"
[[ $# -eq 0 ]] && set -- postgres

generate() {
  log "generating $rows rows"
  mkdir -p "$work/files"
  python3 - "$rows" "$work/files" <<'PY'
import sys, zipfile
rows, folder = int(sys.argv[1]), sys.argv[2]
def check(body):
    digits = "".join(str(int(c, 36)) for c in body)
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d // 10 + d % 10
    return str((10 - total % 10) % 10)
countries = ["US", "DE", "GB", "FR", "JP", "XS", "CA", "AU"]
with open(f"{folder}/isins.csv", "w") as out:
    out.write("LEI,ISIN\n")
    for n in range(rows):
        body = f"{countries[n % len(countries)]}{n:09d}"
        out.write(f"5493{n // 7:014d}00,{body}{check(body)}\n")
with zipfile.ZipFile(f"{folder}/isins.zip", "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
    z.write(f"{folder}/isins.csv", "isin-lei.csv")
PY
  log "file: $(du -h "$work/files/isins.zip" | cut -f1) zipped, $(du -h "$work/files/isins.csv" | cut -f1) as CSV"
  local port
  port="$(free_port)"
  (cd "$work/files" && exec python3 -m http.server "$port" --bind 127.0.0.1) >"$work/files.log" 2>&1 &
  pids+=($!)
  source_url="http://127.0.0.1:$port/isins.zip"
  wait_ready "${pids[-1]}" "$source_url" 100 0.1 files
}

# psql's \copy of the CSV into a plain table (no index), timed by the client: the floor of any load.
bench_copy() {
  local started ms
  "$pg_bin/psql" "${pg_psql[@]}" -c "DROP TABLE IF EXISTS copy_isins; CREATE TABLE copy_isins (lei text, isin text)"
  started="$(now_ms)"
  "$pg_bin/psql" "${pg_psql[@]}" -c "\\copy copy_isins FROM '$work/files/isins.csv' WITH (FORMAT csv, HEADER true)"
  ms=$(($(now_ms) - started))
  copy_rate=$((rows * 1000 / ms))
  log "psql \\copy: $rows rows in $ms ms"
  "$pg_bin/psql" "${pg_psql[@]}" -c "DROP TABLE copy_isins"
}

# One run of isin-download through the admin API; prints "items ms", timed from the request until the run is seen finished.
run_job() {
  local token="$1" id run i started
  started="$(now_ms)"
  id="$(api POST /api/v1/admin/jobs/isin-download/run "" "$token" | jq -er .data.run_id)"
  for ((i = 0; i < 36000; i++)); do
    run="$(api GET "/api/v1/admin/jobs/isin-download/runs/$id" "" "$token" | jq -c .data)"
    if [[ "$(jq -r .finished_at <<<"$run")" != null ]]; then
      if [[ "$(jq -r .status <<<"$run")" != succeeded ]]; then
        log "the run failed: $run"
        return 1
      fi
      echo "$(jq -r .items <<<"$run") $(($(now_ms) - started))"
      return 0
    fi
    sleep 0.1
  done
  log "the run did not finish"
  return 1
}

# AAP's load on one provider: a fresh database each run, the file loaded into an empty table, then loaded again.
bench_load() {
  local provider="$1" run settings=() token items ms rates=() again
  for ((run = 1; run <= isin_runs; run++)); do
    settings=(Jobs__Isin__SourceUrl="$source_url" Jobs__RetryAttempts=0 Storage__LinkSigningKey="$(head -c 48 /dev/urandom | base64 -w 0)")
    if [[ "$provider" == postgres ]]; then
      "$pg_bin/psql" "${pg_psql[@]}" -d postgres -c "DROP DATABASE IF EXISTS aap_isins" -c "CREATE DATABASE aap_isins"
      settings+=(Database__Provider=Postgres ConnectionStrings__Default="${pg_connection/Database=aap_bench/Database=aap_isins}")
    fi
    run_aap "$work/data-isins-$provider-$run" "${settings[@]}"
    long_tokens
    token="$(login "$admin_name" "$admin_password")"
    read -r items ms < <(run_job "$token")
    [[ "$items" == "$rows" ]] || { log "$provider loaded $items ISINs, not $rows"; return 1; }
    rates+=($((items * 1000 / ms)))
    log "$provider run $run: $items ISINs in $ms ms"
    read -r items again < <(run_job "$token")
    log "$provider run $run, unchanged file: $items ISINs loaded in $again ms (304)"
    stop_started "$aap_pid"
  done
  load_rate="$(median "${rates[@]}")"
}

machine
log "publishing AAP in Release"
publish_one "$root/src/Aap.Api/Aap.Api.csproj" "$work/aap"
start_postgres
generate
bench_copy
echo
echo "ISIN load of $rows generated rows (ZIP from a local HTTP server), $(nproc) cores"
echo "psql \\copy into a plain table: $copy_rate rows/s"
for mode in "$@"; do
  case "$mode" in
    postgres | sqlite) bench_load "$mode"; echo "isin-download on $mode: $load_rate rows/s ($(percent "$load_rate" "$copy_rate")% of \\copy)" ;;
    all) for m in postgres sqlite; do bench_load "$m"; echo "isin-download on $m: $load_rate rows/s ($(percent "$load_rate" "$copy_rate")% of \\copy)"; done ;;
    *) log "unknown mode $mode (postgres, sqlite, all)"; exit 1 ;;
  esac
done
