#!/usr/bin/env bash
# Writes the seed corpus of tests/fuzz/fuzz_fb_verify.c into DIR: one valid
# FBS.Message.Message per kind the C interop tool can build (Request,
# Response, Notification, Log; ~2 KB in all).  Builds the tool first.
#   tests/fuzz/gen_fb_verify_seeds.sh DIR [BUILD]
set -euo pipefail
dir=${1:?usage: gen_fb_verify_seeds.sh DIR [BUILD]}
build=${2:-build}
cd "$(dirname "$0")/../.."
make -s -f proto/proto.mk BUILD="$build" "$build/proto/fb_interop_tool"
mkdir -p "$dir"
"$build/proto/fb_interop_tool" seeds "$dir"
