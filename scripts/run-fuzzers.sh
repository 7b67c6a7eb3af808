#!/usr/bin/env bash
# Runs each libFuzzer target for N seconds with its seed corpus (if any) and
# reports executions. Usage: run-fuzzers.sh SECONDS fuzzer...
set -euo pipefail
secs=$1; shift
cd "$(dirname "$0")/.."
for f in "$@"; do
  name=$(basename "$f")
  corpus=build/fuzz/corpus-$name
  mkdir -p "$corpus"
  seeds=tests/fuzz/seeds/$name
  [ -d "$seeds" ] && cp -n "$seeds"/* "$corpus"/ 2>/dev/null || true
  # Seed generators: tests/fuzz/gen_<name without fuzz_>_seeds.sh DIR
  gen=tests/fuzz/gen_${name#fuzz_}_seeds.sh
  [ -f "$gen" ] || gen=""
  [ -n "$gen" ] && { bash "$gen" "$corpus" >/dev/null 2>&1 || echo "$name: seed generator failed"; }
  echo "== $name for ${secs}s"
  "$f" -max_total_time="$secs" -max_len=140000 -print_final_stats=1 "$corpus" 2>&1 | grep -E "stat::number_of_executed_units|Done|ERROR|SUMMARY" || true
  [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "$name: finding"; exit 1; }
done
