#!/usr/bin/env bash
# The README's test command: install what is missing, build, and run every
# test: C unit tests (plain, ASan/UBSan, valgrind), Node black-box tests of the
# worker, proto/'s generator and interop tests, mediasoup 3.27.1's
# conformance files that pass, the end-to-end tests with real clients, the
# controller's tests, and a short smoke run of every fuzzer. Starts with the
# versions it runs against (scripts/versions.sh), ends with one
# "total: N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --e2e || exit 1
bash scripts/versions.sh
log=$(mktemp)
status=0
run() {
  echo "==> $*"
  "$@" 2>&1 | tee -a "$log"
  local rc=${PIPESTATUS[0]}
  [ "$rc" -eq 0 ] || { echo "==> FAILED ($rc): $*"; status=1; }
}
make -j"$(nproc)" worker build/sfu-worker-asan >/dev/null || { echo "build failed"; make worker; exit 1; }
run make -j"$(nproc)" test
run make proto-node-test
run make conformance
run bash scripts/run-e2e.sh --no-setup
run bash -c 'cd node-controller && npm test'
run bash node-controller/test-e2e/run.sh
run node --test --test-reporter=spec tests/load/soak.test.mjs
run make fuzz-run FUZZ_SECONDS="${FUZZ_SECONDS:-10}"

# Totals: cmocka/conformance summary lines and node:test's pass/fail counters.
passed=$(grep -Eo '^(unit tests \[[a-z]+\]|conformance): [0-9]+ passed' "$log" | grep -Eo '[0-9]+ passed' | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '^(unit tests \[[a-z]+\]|conformance): [0-9]+ passed, [0-9]+ failed' "$log" | grep -Eo '[0-9]+ failed' | awk '{s+=$1} END {print s+0}')
npass=$(grep -Eo '^ℹ pass [0-9]+' "$log" | awk '{s+=$3} END {print s+0}')
nfail=$(grep -Eo '^ℹ fail [0-9]+' "$log" | awk '{s+=$3} END {print s+0}')
rm -f "$log"
passed=$((passed + npass)); failed=$((failed + nfail))
[ "$status" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
echo "total: $passed passed, $failed failed"
exit $status
