#!/bin/sh
# Writes a small seed corpus for tests/fuzz/fuzz_frame.c into DIR
# (default tests/fuzz/corpus-frame, which .gitignore excludes).
# Input layout (see fuzz_frame.c): [k-1] [k x u16 LE chunk descriptor]
# [stop_at] [stream]; descriptor bit 15 = reserve/commit path.
set -eu
dir=${1:-tests/fuzz/corpus-frame}
mkdir -p "$dir"

seed() { printf "$2" > "$dir/$1"; }

# two frames ("abc", empty), fed 16 bytes at a time
seed two-frames    '\000\020\000\000\003\000\000\000abc\000\000\000\000'
# chunks of 1 byte (feed) and 7 bytes (commit), three frames
seed mixed-chunks  '\001\001\000\007\200\000\002\000\000\000hi\005\000\000\000hello\000\000\000\000'
# frame, oversized prefix 0xffffffff, junk, then a good frame
seed oversized     '\000\011\000\000\002\000\000\000ok\377\377\377\377junkjunk\001\000\000\000x'
# prefix of exactly 4 MiB (accepted, incomplete) and of 4 MiB + 1
seed max-len       '\000\004\000\000\000\000\100\000abcd'
seed max-len-plus1 '\000\004\000\000\001\000\100\000abcd\000\000\000\000'
# stop after the second of four frames, commit path, 256-byte reads
seed stop          '\000\000\201\002\001\000\000\000a\001\000\000\000b\001\000\000\000c\001\000\000\000d'
# zero-length frames, partial prefixes across 3-byte reads
seed empties       '\000\003\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000'
# one 72000-byte read (descriptor bit 14: size x 8) holding a 70000-byte
# frame, so feed() has to split it internally
{ printf '\000\050\143\000\160\021\001\000'
  head -c 70000 /dev/zero | tr '\000' 'x'
  printf '\000\000\000\000'; } > "$dir/large-read"
echo "seeds written to $dir"
