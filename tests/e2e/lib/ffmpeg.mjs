// Debian's ffmpeg as an RTP sender (Opus from a sine, VP8 from testsrc, two
// plain `-f rtp` outputs with fixed SSRC / payload type / local ports) and as
// an RTP recorder (an SDP file in, `-c copy` into Matroska), plus ffprobe.
import { spawn, execFile } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);
export const ffmpegBin = process.env.SFU_E2E_FFMPEG ?? '/usr/bin/ffmpeg';
export const ffprobeBin = process.env.SFU_E2E_FFPROBE ?? '/usr/bin/ffprobe';

export function checkFfmpeg() {
  for (const b of [ffmpegBin, ffprobeBin]) {
    if (!fs.existsSync(b)) throw new Error(`${b} not found: run "bash scripts/setup.sh --e2e" (installs Debian's ffmpeg)`);
  }
}

/** The parameters both sides agree on (ffmpeg's -ssrc/-payload_type = the producers' rtpParameters). */
export const SEND = {
  audio: { ssrc: 11111111, payloadType: 101, clockRate: 48000 },
  video: { ssrc: 22222222, payloadType: 102, clockRate: 90000 },
};

/** The producers' rtpParameters matching SEND (what ffmpeg really emits). */
export const producerRtpParameters = {
  audio: {
    codecs: [{
      mimeType: 'audio/opus', clockRate: 48000, payloadType: SEND.audio.payloadType, channels: 2,
      parameters: { 'sprop-stereo': 1 }, rtcpFeedback: [],
    }],
    encodings: [{ ssrc: SEND.audio.ssrc }],
  },
  video: {
    codecs: [{ mimeType: 'video/VP8', clockRate: 90000, payloadType: SEND.video.payloadType, rtcpFeedback: [] }],
    encodings: [{ ssrc: SEND.video.ssrc }],
  },
};

/**
 * Reserves n pairs of free UDP ports on 127.0.0.1 (RTP, RTP+1 for RTCP) by
 * binding and releasing them; the tiny race is harmless on a test netns.
 */
export async function freePortPairs(n) {
  const out = [];
  const held = [];
  while (out.length < n) {
    const a = dgram.createSocket('udp4');
    await new Promise((r, j) => a.bind(0, '127.0.0.1', r).once('error', j));
    const port = a.address().port;
    held.push(a);
    if (port % 2 !== 0 || port > 65000) continue;
    const b = dgram.createSocket('udp4');
    const ok = await new Promise((r) => {
      b.once('error', () => r(false));
      b.bind(port + 1, '127.0.0.1', () => r(true));
    });
    held.push(b);
    if (ok) out.push(port);
  }
  for (const s of held) s.close();
  return out;
}

function rtpUrl({ host = '127.0.0.1', port, rtcpPort, localRtpPort, localRtcpPort }) {
  const q = [`rtcpport=${rtcpPort}`, 'pkt_size=1200'];
  if (localRtpPort) q.push(`localrtpport=${localRtpPort}`);
  if (localRtcpPort) q.push(`localrtcpport=${localRtcpPort}`);
  return `rtp://${host}:${port}?${q.join('&')}`;
}

/**
 * ffmpeg arguments: a 440 Hz sine as Opus and testsrc as VP8 (1 key frame a
 * second: ffmpeg ignores PLI, so the SFU's consumers need periodic key frames),
 * in real time (-re), each as its own RTP output.
 * audio/video: {port, rtcpPort, localRtpPort, localRtcpPort} (destinations and ffmpeg's own ports).
 */
export function senderArgs({ audio, video, seconds = 60 }) {
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'warning',
    '-re', '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
    '-re', '-f', 'lavfi', '-i', `testsrc=size=320x240:rate=30:duration=${seconds}`,
    '-map', '0:a', '-c:a', 'libopus', '-ac', '2', '-b:a', '64k', '-application', 'audio', '-frame_duration', '20',
    '-ssrc', String(SEND.audio.ssrc), '-payload_type', String(SEND.audio.payloadType),
    '-f', 'rtp', rtpUrl(audio),
    '-map', '1:v', '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '300k',
    '-g', '30', '-keyint_min', '30', '-auto-alt-ref', '0', '-error-resilient', '1',
    '-ssrc', String(SEND.video.ssrc), '-payload_type', String(SEND.video.payloadType),
    '-f', 'rtp', rtpUrl(video),
  ];
}

/**
 * The SDP the recording ffmpeg reads: where the SFU's consumers send
 * (audio/video: {port, payloadType}; RTCP on port+1).
 */
export function recorderSdp({ audio, video }) {
  return [
    'v=0',
    'o=- 0 0 IN IP4 127.0.0.1',
    's=sfu-e2e-recording',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${audio.port} RTP/AVP ${audio.payloadType}`,
    `a=rtpmap:${audio.payloadType} opus/48000/2`,
    `a=rtcp:${audio.port + 1}`,
    'a=recvonly',
    `m=video ${video.port} RTP/AVP ${video.payloadType}`,
    `a=rtpmap:${video.payloadType} VP8/90000`,
    `a=rtcp:${video.port + 1}`,
    'a=recvonly',
    '',
  ].join('\r\n');
}

export function recorderArgs(sdpPath, outPath) {
  return [
    '-hide_banner', '-nostdin', '-loglevel', process.env.SFU_E2E_FFMPEG_LOGLEVEL ?? 'warning', '-y',
    '-protocol_whitelist', 'file,udp,rtp',
    '-analyzeduration', '1000000', '-probesize', '5000000', '-reorder_queue_size', '64',
    '-i', sdpPath,
    '-map', '0:a', '-map', '0:v', '-c', 'copy', outPath,
  ];
}

/** Spawns ffmpeg; keeps the last 8 KiB of its stderr for failure messages. */
export function startFfmpeg(args, label) {
  const child = spawn(ffmpegBin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const proc = { child, label, stderr: '', exited: null };
  child.stderr.on('data', (d) => { proc.stderr = (proc.stderr + d).slice(-8192); });
  proc.done = new Promise((resolve) => {
    child.on('exit', (code, signal) => { proc.exited = { code, signal }; resolve(proc.exited); });
    child.on('error', (err) => { proc.stderr += `\nspawn error: ${err.message}`; proc.exited = { code: -1 }; resolve(proc.exited); });
  });
  /**
   * SIGINT lets ffmpeg finish its output file. ffmpeg only checks the first
   * SIGINT between packets, so a recorder whose input went quiet needs a
   * second one (that one interrupts the blocked read); SIGKILL after 6 s.
   */
  proc.stop = async () => {
    if (proc.exited) return proc.exited;
    child.kill('SIGINT');
    const t2 = setTimeout(() => child.kill('SIGINT'), 1500);
    const t9 = setTimeout(() => child.kill('SIGKILL'), 6000);
    const r = await proc.done;
    clearTimeout(t2);
    clearTimeout(t9);
    return r;
  };
  proc.describe = () => `${label}: ${proc.exited ? `exited ${JSON.stringify(proc.exited)}` : 'running'}; stderr tail: ${proc.stderr.trim().split('\n').slice(-6).join(' | ') || '(empty)'}`;
  return proc;
}

/**
 * ffprobe's view of a recording: per codec_type {codec, packets, seconds}
 * where seconds = last packet end - first packet pts and maxGap the largest
 * pts step between consecutive packets.
 */
export async function probe(file) {
  const { stdout } = await execFileP(ffprobeBin, [
    '-v', 'error', '-show_entries', 'stream=index,codec_type,codec_name:packet=stream_index,pts_time,duration_time',
    '-of', 'json', file,
  ], { maxBuffer: 64 << 20 });
  const j = JSON.parse(stdout);
  const out = {};
  for (const s of j.streams ?? []) {
    const pk = (j.packets ?? []).filter((p) => p.stream_index === s.index && p.pts_time !== undefined);
    const t = pk.map((p) => Number(p.pts_time));
    const last = pk.length ? Number(pk[pk.length - 1].pts_time) + Number(pk[pk.length - 1].duration_time ?? 0) : 0;
    const sorted = [...t].sort((a, b) => a - b);
    let maxGap = 0;
    for (let i = 1; i < sorted.length; i++) maxGap = Math.max(maxGap, sorted[i] - sorted[i - 1]);
    out[s.codec_type] = {
      codec: s.codec_name,
      packets: pk.length,
      seconds: pk.length ? Number((last - sorted[0]).toFixed(3)) : 0,
      maxGap: Number(maxGap.toFixed(3)),
    };
  }
  return out;
}

/** Receives UDP datagrams on 127.0.0.1:port into an array of {t, buf, from} (from: source port). */
export async function udpSink(port) {
  const sock = dgram.createSocket('udp4');
  const packets = [];
  sock.on('message', (buf, rinfo) => packets.push({ t: Date.now(), buf, from: rinfo.port }));
  await new Promise((r, j) => sock.bind(port, '127.0.0.1', r).once('error', j));
  return { packets, close: () => new Promise((r) => sock.close(r)) };
}
