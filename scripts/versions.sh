#!/usr/bin/env bash
# Prints the versions the worker and its tests run against, so that a red
# run on another machine can be traced: the libraries the worker links
# (OpenSSL, libuv, usrsctp, libsrtp built from Debian's source), the tools
# the tests use (Node, npm, Chromium, ffmpeg, valgrind, clang) and the kernel.
set -uo pipefail
cd "$(dirname "$0")/.."
pkg() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "not installed"; }
first() { "$@" 2>/dev/null | head -1 || true; }
echo "==> versions"
printf '  %-10s %s (libssl3 %s)\n' OpenSSL "$(first openssl version)" "$(pkg libssl3)"
printf '  %-10s %s (libuv1 %s)\n' libuv "$(pkg-config --modversion libuv 2>/dev/null || echo '?')" "$(pkg libuv1)"
printf '  %-10s %s\n' usrsctp "$(pkg libusrsctp-dev)"
printf '  %-10s %s\n' libsrtp "$(cat build/deps/srtp/.stamp 2>/dev/null || echo 'not built')"
printf '  %-10s %s\n' Node "$(first node --version)"
printf '  %-10s %s\n' npm "$(first npm --version)"
printf '  %-10s %s\n' mediasoup "$(node -p 'require("./node-controller/node_modules/mediasoup/package.json").version' 2>/dev/null || echo '?')"
printf '  %-10s %s\n' Chromium "$(first chromium --version)"
printf '  %-10s %s\n' ffmpeg "$(first ffmpeg -version | awk '{print $3}')"
printf '  %-10s %s\n' gcc "$(first gcc -dumpfullversion)"
printf '  %-10s %s\n' clang "$(first clang --version)"
printf '  %-10s %s\n' valgrind "$(first valgrind --version)"
printf '  %-10s %s\n' kernel "$(uname -srm)"
printf '  %-10s %s (%s cores)\n' machine "$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")" "$(nproc)"
