#!/usr/bin/env bash
# Node black-box tests of the worker binary (node:test), once against the
# release build and once against the ASan/UBSan build.
set -euo pipefail
cd "$(dirname "$0")/.."
rc=0
for bin in build/sfu-worker build/sfu-worker-asan; do
  echo "== node tests against $bin"
  SFU_WORKER_BIN=$PWD/$bin ASAN_OPTIONS=detect_leaks=1 node --test --test-reporter=spec tests/worker/ || rc=1
done
exit $rc
