#!/usr/bin/env bash
# The README's run command: install what is missing, build, and start the main
# job: the controller (REST API, event WebSocket, metrics, /docs) with a dev
# JWT secret and the demo call page at http://127.0.0.1:3000/ (npm run dev),
# driving our C workers through the mediasoup 3.27.1 library.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
make -j"$(nproc)" worker
cd node-controller
exec npm run dev
