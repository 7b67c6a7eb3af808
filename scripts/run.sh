#!/usr/bin/env bash
# The README's run command: install what is missing, build, and start the main
# job. Today the main job is the example in which the mediasoup 3.27.1 library
# creates a worker and a router on our binary and prints the router's RTP
# capabilities (the controller issue turns it into the real server).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
make -j"$(nproc)" worker
exec node scripts/example.mjs --worker build/sfu-worker
