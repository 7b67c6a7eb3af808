#!/usr/bin/env bash
# Runs cmocka test programs in one mode (plain | asan | valgrind) and prints a
# summary line. Exit status is non-zero if any program failed.
set -uo pipefail
mode=$1; shift
passed=0; failed=0; progs_failed=()
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
for t in "$@"; do
  case $mode in
    valgrind) cmd=(valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect "$t") ;;
    *) cmd=("$t") ;;
  esac
  out=$("${cmd[@]}" 2>&1); rc=$?
  p=$(grep -Eo '\[  PASSED  \] [0-9]+' <<<"$out" | awk '{s+=$4} END {print s+0}')
  f=$(grep -Eo '\[  FAILED  \] [0-9]+' <<<"$out" | awk '{s+=$4} END {print s+0}')
  passed=$((passed + p)); failed=$((failed + f))
  if [ $rc -ne 0 ]; then
    progs_failed+=("$(basename "$t")")
    [ "$f" -eq 0 ] && failed=$((failed + 1))
    echo "$out" | tail -40
  fi
  echo "[$mode] $(basename "$t"): ${p} passed, ${f} failed (exit $rc)"
done
echo "unit tests [$mode]: $passed passed, $failed failed"
[ ${#progs_failed[@]} -eq 0 ] || { echo "failing programs [$mode]: ${progs_failed[*]}"; exit 1; }
