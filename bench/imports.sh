#!/usr/bin/env bash
# aap import csv on a generated file, beside the databases' own loaders in the same run: psql's \copy into the same
# PostgreSQL table, and sqlite3's .import into the same SQLite table. Rows per second of each, their ratio, and the
# peak resident memory of the AAP process.
#
# The file has IMPORT_ROWS rows of 10 mixed columns (id, integer, bigint, decimal, boolean, date, timestamp and
# three texts, one of them quoted with a comma inside), generated on the fly with awk. AAP is published in Release
# and run as the command line (`dotnet aap.dll import csv`), timed from the process start to its end (start-up,
# type inference, validation of every field, staging, and the final transaction included) by /usr/bin/time, which
# also gives its peak RSS. AAP creates the table (key id); the baseline then loads the same file into that same
# table, emptied, so both pay for the same primary key.
#
# Usage: bench/imports.sh [postgres|sqlite|all]...   (default: all)
# Settings: IMPORT_ROWS (10000000)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rows="${IMPORT_ROWS:-10000000}"
[[ $# -eq 0 ]] && set -- all
file=""

generate() {
  log "generating $rows rows x 10 columns"
  mkdir -p "$work/files"
  file="$work/files/bench.csv"
  awk -v n="$rows" 'BEGIN {
    print "id,qty,big,price,active,day,at,name,city,note"
    for (i = 1; i <= n; i++) {
      printf "%d,%d,%d,%d.%02d,%s,2024-%02d-%02d,2024-%02d-%02dT%02d:%02d:%02dZ,name %d,city %d,\"note, %d\"\n",
        i, i % 1000, i * 1000003, i % 100000, i % 100, (i % 2 ? "true" : "false"), i % 12 + 1, i % 28 + 1,
        i % 12 + 1, i % 28 + 1, i % 24, i % 60, (i * 7) % 60, i, i % 500, i
    }
  }' >"$file"
  log "file: $(du -h "$file" | cut -f1)"
}

# Runs the AAP command line under /usr/bin/time; sets aap_ms (wall) and aap_rss_mb (peak RSS).
run_import() {
  local data="$1" out="$work/time.out"
  shift
  (
    cd "$work/aap"
    exec env ASPNETCORE_ENVIRONMENT=Production AAP_DATA_DIR="$data" Log__ConsoleEnabled=false \
      Auth__SigningKey="$signing_key" Storage__LinkSigningKey="$link_signing_key" "$@" \
      /usr/bin/time -f "%e %M" -o "$out" dotnet aap.dll import csv "$file" --table bench --key id --mode create
  ) >"$work/import.log" 2>&1 || {
    cat "$work/import.log" >&2
    return 1
  }
  grep -E "row\(s\) read" "$work/import.log" >&2
  read -r seconds kb <"$out"
  aap_ms="$(awk -v s="$seconds" 'BEGIN { printf "%.0f", s * 1000 }')"
  aap_rss_mb=$((kb / 1024))
}

bench_postgres() {
  local started ms copy_rate aap_rate
  start_postgres
  run_import "$work/data-pg" Database__Provider=Postgres ConnectionStrings__Default="$pg_connection"
  aap_rate=$((rows * 1000 / aap_ms))
  log "aap import on PostgreSQL: $rows rows in $aap_ms ms, peak RSS $aap_rss_mb MB"
  "$pg_bin/psql" "${pg_psql[@]}" -c "TRUNCATE imports.bench"
  started="$(now_ms)"
  "$pg_bin/psql" "${pg_psql[@]}" -c "\\copy imports.bench (id, qty, big, price, active, day, at, name, city, note) FROM '$file' WITH (FORMAT csv, HEADER true)"
  ms=$(($(now_ms) - started))
  copy_rate=$((rows * 1000 / ms))
  log "psql \\copy into the same table: $rows rows in $ms ms"
  echo "PostgreSQL: aap import $aap_rate rows/s (peak RSS $aap_rss_mb MB), psql \\copy $copy_rate rows/s: $(percent "$aap_rate" "$copy_rate")% of \\copy (target 80%: $(at_least "$aap_rate" "$((copy_rate * 80 / 100))"))"
}

bench_sqlite() {
  local started ms import_rate aap_rate db="$work/data-sqlite/aap.db"
  run_import "$work/data-sqlite" Database__Provider=Sqlite
  aap_rate=$((rows * 1000 / aap_ms))
  log "aap import on SQLite: $rows rows in $aap_ms ms, peak RSS $aap_rss_mb MB"
  sqlite3 "$db" "DELETE FROM import_bench; VACUUM;"
  started="$(now_ms)"
  sqlite3 "$db" ".mode csv" ".import --skip 1 '$file' import_bench"
  ms=$(($(now_ms) - started))
  import_rate=$((rows * 1000 / ms))
  log "sqlite3 .import into the same table: $rows rows in $ms ms"
  echo "SQLite: aap import $aap_rate rows/s (peak RSS $aap_rss_mb MB), sqlite3 .import $import_rate rows/s: $(percent "$aap_rate" "$import_rate")% of .import (target 60%: $(at_least "$aap_rate" "$((import_rate * 60 / 100))"))"
}

machine
log "publishing AAP in Release"
publish_one "$root/src/Aap.Api/Aap.Api.csproj" "$work/aap"
generate
echo
echo "CSV import of $rows generated rows x 10 columns ($(du -h "$file" | cut -f1)), $(nproc) cores"
for mode in "$@"; do
  case "$mode" in
    postgres) bench_postgres ;;
    sqlite) bench_sqlite ;;
    all) bench_postgres; bench_sqlite ;;
    *) log "unknown mode $mode (postgres, sqlite, all)"; exit 1 ;;
  esac
done
