#!/bin/sh
# Writes a small seed corpus for tests/fuzz/fuzz_srtp.c into DIR.
# Input layout: [suite 0..3] [flags: bit 0 = RTCP] [packet].
set -eu
dir=${1:-tests/fuzz/corpus-srtp}
mkdir -p "$dir"
seed() { printf "$2" > "$dir/$1"; }
rtp='\200\157\000\001\000\000\000\240\021\042\063\104payloadpayload'
# RTP with two CSRCs and a one-byte-header extension of one word
rtpx='\222\157\000\002\000\000\000\240\021\042\063\104\000\000\000\001\000\000\000\002\276\336\000\001\020\001\002\003data'
sr='\200\310\000\006\021\042\063\104\000\000\000\001\000\000\000\002\000\000\000\003\000\000\000\004\000\000\000\005'
for s in 0 1 2 3; do
  seed "rtp-$s" "\\00$s\\000$rtp"
  seed "rtpx-$s" "\\00$s\\000$rtpx"
  seed "rtcp-$s" "\\00$s\\001$sr"
done
# too short, wrong version
seed short '\002\000\200\157\000'
seed v1 '\002\000\100\157\000\001\000\000\000\240\021\042\063\104xx'
echo "seeds written to $dir"
