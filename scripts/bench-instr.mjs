#!/usr/bin/env node
// Instructions per forwarded packet, counted by valgrind's callgrind: one
// Opus-like producer on a PlainTransport fanned out to K consumers on
// PlainTransports (plain or SRTP), everything the worker's UDP read
// callback runs (parse, route, rewrite, protect, send; user space only, the
// kernel's share is not counted). Unlike CPU time this count does not move
// with the load of a shared machine, so it tells whether a change added
// per-packet work: run it on the binaries before and after.
//
//   node scripts/bench-instr.mjs --worker build/sfu-worker [--worker OTHER ...]
//        [--ks 1,16] [--variants plain,gcm] [--packets 1000]
import dgram from 'node:dgram';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..');
const require = createRequire(path.join(repoRoot, 'node-controller', 'package.json'));
const mediasoup = require('mediasoup');

const argv = process.argv.slice(2);
const all = (name) => argv.flatMap((a, i) => (a === `--${name}` ? [argv[i + 1]] : []));
const one = (name, d) => all(name)[0] ?? d;
const workers = all('worker').map((w) => path.resolve(w));
if (workers.length === 0) workers.push(path.join(repoRoot, 'build', 'sfu-worker'));
const ks = one('ks', '1,16').split(',').map(Number);
const variants = one('variants', 'plain,gcm').split(',');
const packets = Number(one('packets', '1000'));
const SUITES = { plain: null, gcm: 'AEAD_AES_128_GCM', cm80: 'AES_CM_128_HMAC_SHA1_80' };

execFileSync('valgrind', ['--version']);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-instr-'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function run(bin, k, variant) {
  const out = path.join(tmp, `cg-${path.basename(bin)}-${k}-${variant}-${Date.now()}.out`);
  const wrapper = path.join(tmp, `w-${Date.now()}.sh`);
  fs.writeFileSync(
    wrapper,
    `#!/bin/sh\nexec valgrind -q --tool=callgrind --toggle-collect=sfu__udp_on_poll --callgrind-out-file=${out} ${bin} "$@"\n`,
    { mode: 0o755 },
  );
  const worker = await mediasoup.createWorker({ workerBin: wrapper, logLevel: 'error' });
  const router = await worker.createRouter({ mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }] });
  const listenInfo = { protocol: 'udp', ip: '127.0.0.1' };
  const input = await router.createPlainTransport({ listenInfo: { ...listenInfo, recvBufferSize: 4 << 20 }, rtcpMux: true, comedia: true });
  const producer = await input.produce({
    kind: 'audio',
    rtpParameters: {
      codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }],
      headerExtensions: [{ uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level', id: 1 }],
      encodings: [{ ssrc: 1234 }],
    },
  });
  const sink = dgram.createSocket('udp4');
  let got = 0;
  sink.on('message', () => got++);
  await new Promise((r) => sink.bind(0, '127.0.0.1', r));
  const suite = SUITES[variant];
  for (let i = 0; i < k; i++) {
    const t = await router.createPlainTransport({ listenInfo, rtcpMux: true, comedia: false, ...(suite ? { enableSrtp: true, srtpCryptoSuite: suite } : {}) });
    await t.connect({ ip: '127.0.0.1', port: sink.address().port, ...(suite ? { srtpParameters: t.srtpParameters } : {}) });
    await t.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities });
  }
  const src = dgram.createSocket('udp4');
  // header with a one-byte extension block (audio level), 160 bytes of payload;
  // a buffer per packet: dgram sends it later and must not see it change
  for (let i = 0; i < packets; i++) {
    const pkt = Buffer.alloc(12 + 8 + 160, 0x55);
    pkt[0] = 0x90;
    pkt[1] = 111;
    pkt.writeUInt16BE(i & 0xffff, 2);
    pkt.writeUInt32BE((i * 960) >>> 0, 4);
    pkt.writeUInt32BE(1234, 8);
    pkt.writeUInt16BE(0xbede, 12);
    pkt.writeUInt16BE(1, 14);
    pkt[16] = 0x10;
    pkt[17] = 0x2a;
    pkt[18] = 0;
    pkt[19] = 0;
    src.send(pkt, input.tuple.localPort, '127.0.0.1');
    if (i % 5 === 4) await sleep(10); // well under what the worker takes under callgrind
  }
  for (let t = 0; t < 400 && got < packets * k; t++) await sleep(25);
  src.close();
  sink.close();
  worker.close();
  for (let t = 0; t < 400 && !fs.existsSync(out); t++) await sleep(25);
  await sleep(200);
  const text = fs.readFileSync(out, 'utf8');
  const m = text.match(/^(?:summary|totals):\s+(\d+)/m);
  const ir = m ? Number(m[1]) : NaN;
  return { got, ir };
}

const rows = [];
for (const k of ks) {
  for (const variant of variants) {
    for (const bin of workers) {
      const { got, ir } = await run(bin, k, variant);
      rows.push({ bin, k, variant, got, perOut: ir / got, perIn: ir / packets });
      console.log(
        `K=${String(k).padStart(2)} ${variant.padEnd(5)} ${path.relative(process.cwd(), bin).padEnd(28)} ` +
          `delivered ${got}/${packets * k}  ${(ir / got).toFixed(0).padStart(6)} instr/out packet  ${(ir / packets).toFixed(0).padStart(7)} instr/in packet`,
      );
    }
  }
}
if (!process.argv.includes("--keep")) fs.rmSync(tmp, { recursive: true, force: true });
else console.log(`callgrind files kept in ${tmp}`);
