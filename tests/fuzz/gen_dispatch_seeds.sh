#!/usr/bin/env bash
# Seeds for fuzz_dispatch: the same valid channel messages as fuzz_fb_verify.
exec bash "$(dirname "$0")/gen_fb_verify_seeds.sh" "$@"
