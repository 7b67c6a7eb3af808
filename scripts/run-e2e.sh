#!/usr/bin/env bash
# End-to-end media tests through the SFU with clients nobody on the project
# wrote (tests/e2e/):
#   harness  self-checks of the harness that need no media path in the worker
#   browser  Chromium + mediasoup-client: Opus + VP8 from page A to page B
#   werift   a second WebRTC stack (werift): an Opus round trip
#   ffmpeg   ffmpeg -> PlainTransports -> SFU -> PlainTransports -> ffmpeg recording
#   quality  Chromium 1280x720 VP8: bandwidth estimate and resolution on a clean path,
#            simulcast under a 600 kbit/s limit, 5 % uplink loss repaired (relays in the path),
#            VP8 and H264 L1T3 frame rate following the preferred temporal layer
#   pipe     Chromium A on worker 1, router.pipeToRouter() to worker 2, Chromium B decodes
#            640x360 video at A's frame rate and hears audio energy
#   datachannel  Chromium + mediasoup-client data channels: ordered text/binary 1 B..256 kB
#            (SHA-256) and unordered messages A -> B, B -> A; werift data channel too
#
#   bash scripts/run-e2e.sh [--no-setup] [harness|browser|werift|ffmpeg|quality|pipe|datachannel ...]
#
# Installs what is missing first (scripts/setup.sh --e2e: Debian chromium and
# ffmpeg, tests/e2e npm packages) and builds the worker, then runs each test
# file in its own loopback-only network namespace (unshare -n, needs root):
# nothing can leave the machine, and npm is never run inside the namespace.
# SFU_WORKER_BIN picks the worker (default build/sfu-worker; any
# mediasoup-compatible worker binary works). Ends with one
# "e2e: N passed, N failed" line; exit status 0 only if everything passed.
set -uo pipefail
cd "$(dirname "$0")/.."

setup=1
tests=()
for a in "$@"; do
  case "$a" in
    --no-setup) setup=0 ;;
    harness|browser|werift|ffmpeg|quality|pipe|datachannel) tests+=("$a") ;;
    *) echo "usage: $0 [--no-setup] [harness|browser|werift|ffmpeg|quality|pipe|datachannel ...]" >&2; exit 2 ;;
  esac
done
[ "${#tests[@]}" -gt 0 ] || tests=(harness browser werift ffmpeg quality pipe datachannel)

if [ "$setup" -eq 1 ]; then
  bash scripts/setup.sh --e2e || { echo "e2e: setup failed"; exit 1; }
fi
if [ -z "${SFU_WORKER_BIN:-}" ]; then
  make worker >/dev/null || { make worker; echo "e2e: worker build failed"; exit 1; }
  export SFU_WORKER_BIN="$PWD/build/sfu-worker"
fi
[ -x "$SFU_WORKER_BIN" ] || { echo "e2e: worker binary $SFU_WORKER_BIN not found"; exit 1; }
if [ "$(id -u)" -ne 0 ]; then
  echo "e2e: needs root for the loopback-only network namespace (unshare -n)"; exit 1
fi
unshare -n true 2>/dev/null || { echo "e2e: unshare -n failed (no permission to create a network namespace?)"; exit 1; }

logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT
declare -A result
total_pass=0
total_fail=0
for t in "${tests[@]}"; do
  file="tests/e2e/$t.test.mjs"
  echo "==> $t ($file) in a loopback-only netns, worker $SFU_WORKER_BIN"
  start=$(date +%s.%N)
  unshare -n sh -c 'ip link set lo up && exec node --test --test-reporter=spec "$1"' sh "$file" 2>&1 | tee "$logdir/$t.log"
  rc=${PIPESTATUS[0]}
  secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
  pass=$(grep -Eo '^ℹ pass [0-9]+' "$logdir/$t.log" | awk '{ s += $3 } END { print s + 0 }')
  fail=$(grep -Eo '^ℹ (fail|cancelled) [0-9]+' "$logdir/$t.log" | awk '{ s += $3 } END { print s + 0 }')
  if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi  # crashed before reporting
  total_pass=$((total_pass + pass))
  total_fail=$((total_fail + fail))
  # First error line after node:test's "failing tests" header: which step failed, and why.
  why=$(awk '/failing tests:/ { f = 1 } f && /Error|error:|timed out/ { sub(/^[ \t\[]+/, ""); print; exit }' "$logdir/$t.log" | cut -c1-220)
  if [ "$fail" -eq 0 ]; then
    result[$t]=$(printf '%-8s PASS  %2d passed          %6ss' "$t" "$pass" "$secs")
  else
    result[$t]=$(printf '%-8s FAIL  %2d passed %2d failed %6ss  %s' "$t" "$pass" "$fail" "$secs" "${why:-exit status $rc}")
  fi
done

echo
echo "e2e summary (worker: $SFU_WORKER_BIN)"
for t in "${tests[@]}"; do echo "  ${result[$t]}"; done
echo "e2e: $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
