#!/bin/sh
# Writes a small seed corpus for tests/fuzz/fuzz_pipe.c into DIR.
# Input: chunks of [target: 0 = the producer's pipe, 1 = the pipe consumer's] [length, 2 bytes BE] [datagram].
set -eu
dir=${1:-tests/fuzz/corpus-pipe}
mkdir -p "$dir"
node - "$dir" <<'JS'
const fs = require('fs');
const dir = process.argv[2];
const rtp = (pt, seq, ts, ssrc, payload) => {
  const b = Buffer.alloc(12);
  b[0] = 0x80; b[1] = pt; b.writeUInt16BE(seq, 2); b.writeUInt32BE(ts, 4); b.writeUInt32BE(ssrc, 8);
  return Buffer.concat([b, Buffer.from(payload)]);
};
const key = [0x10, 0, 0, 0, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01, 7, 7, 7];
const delta = [0x10, 1, 0, 0, 5, 5, 5, 5];
const rtcp = (pt, count, words) => {
  const b = Buffer.alloc(4 + words.length * 4);
  b[0] = 0x80 | count; b[1] = pt; b.writeUInt16BE(words.length, 2);
  words.forEach((w, i) => b.writeUInt32BE(w >>> 0, 4 + i * 4));
  return b;
};
const chunk = (target, d) => Buffer.concat([Buffer.from([target, d.length >> 8, d.length & 255]), d]);
const seeds = {
  keys: [chunk(0, rtp(96, 100, 9000, 3000, key)), chunk(0, rtp(96, 101, 12000, 3000, delta)), chunk(0, rtp(96, 8, 9000, 3001, key))],
  rtx: [chunk(0, rtp(96, 100, 9000, 3000, key)), chunk(0, rtp(97, 1, 9000, 3100, [0, 100, ...key])), chunk(0, rtcp(200, 0, [3000, 1, 2, 3, 4, 5]))],
  feedback: [
    chunk(0, rtp(96, 100, 9000, 3000, key)), chunk(0, rtp(96, 8, 9000, 3001, key)),
    chunk(1, rtcp(201, 1, [1, 9000, 0x08000001, 100, 2, 0, 0])),
    chunk(1, rtcp(205, 1, [1, 9001, 0x00080003])),
    chunk(1, rtcp(206, 1, [1, 9000])),
    chunk(1, rtcp(206, 4, [1, 0, 9001, 0x01000000])),
  ],
  junk: [chunk(0, Buffer.alloc(20, 0x78)), chunk(1, Buffer.from([0x80, 0xc9, 0, 0xff]))],
};
for (const [name, parts] of Object.entries(seeds)) fs.writeFileSync(`${dir}/${name}`, Buffer.concat(parts));
JS
echo "seeds written to $dir"
