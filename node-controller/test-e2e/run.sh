#!/usr/bin/env bash
# The controller's browser end-to-end tests (test-e2e/*.test.mjs) in a
# loopback-only network namespace, like scripts/run-e2e.sh:
#
#   bash node-controller/test-e2e/run.sh [--no-netns] [file.test.mjs ...]
#   CONTROLLER_CMD="npm start" bash node-controller/test-e2e/run.sh
#
# Builds the worker and the demo page first (outside the namespace: nothing
# is installed inside it), then runs node --test. CONTROLLER_CMD is the
# server under test (sh -c in node-controller/), default the controller
# (node dist/src/server.js). --no-netns runs on the host network (debugging).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
ctl="$(cd "$here/.." && pwd)"
root="$(cd "$ctl/.." && pwd)"
netns=1
files=()
for a in "$@"; do
  case "$a" in
    --no-netns) netns=0 ;;
    *) files+=("$a") ;;
  esac
done
[ "${#files[@]}" -gt 0 ] || files=("$here"/*.test.mjs)

if [ -z "${RTC_WORKER_BIN:-}" ]; then
  make -C "$root" worker >/dev/null
  export RTC_WORKER_BIN="$root/build/sfu-worker"
fi
node "$ctl/demo/build.mjs" >/dev/null
(cd "$ctl" && npx tsc -p tsconfig.json)
cd "$ctl"
if [ "$netns" -eq 1 ]; then
  [ "$(id -u)" -eq 0 ] || { echo "test-e2e: needs root for the loopback-only netns (or --no-netns)"; exit 1; }
  exec unshare -n sh -c 'ip link set lo up && exec node --test --test-reporter=spec "$@"' sh "${files[@]}"
fi
exec node --test --test-reporter=spec "${files[@]}"
