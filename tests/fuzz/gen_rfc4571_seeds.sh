#!/bin/sh
# Writes the seed corpus for tests/fuzz/fuzz_rfc4571.c into DIR (default
# tests/fuzz/seeds/fuzz_rfc4571, which is committed).
# Input layout (see fuzz_rfc4571.c): [k-1] [k x u16 LE chunk descriptor]
# [stop_at] [stream]; descriptor bit 15 = reserve/commit, bit 14 = size x 8.
set -eu
dir=${1:-tests/fuzz/seeds/fuzz_rfc4571}
mkdir -p "$dir"

seed() { printf "$2" > "$dir/$1"; }

# two frames ("abc", "hi") and a null packet, 16-byte feeds
seed two-frames   '\000\020\000\000\000\003abc\000\000\000\002hi'
# 1-byte feeds and 5-byte commits alternating, frames across chunk edges
seed mixed-chunks '\001\001\000\005\200\000\000\002hi\000\005hello\000\000\000\001x'
# only null packets, 3-byte reads (a LENGTH split across reads)
seed nulls        '\000\003\000\000\000\000\000\000\000\000\000\000\000\000\000'
# stop after the second of four frames, commit path, 256-byte reads
seed stop         '\000\000\201\002\000\001a\000\001b\000\001c\000\001d'
# a maximal LENGTH (65535) whose payload is still incomplete: 4096-byte
# commits make the buffer grow to hold the whole frame (kept small here: the
# fuzzer finds complete maximal frames from it)
{ printf '\000\000\220\000\377\377'
  head -c 3000 /dev/zero | tr '\000' 'n'; } > "$dir/max-length-partial"
# LENGTH 300 split as 1 + 1 bytes, then the payload in a x8 read
{ printf '\001\001\000\001\100\000\001\054'
  head -c 300 /dev/zero | tr '\000' 'p'; } > "$dir/split-length"
echo "seeds written to $dir"
