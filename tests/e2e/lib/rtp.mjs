// Minimal RTP/RTCP header reading for the harness (RFC 3550), byte by byte.

/** -> {version, padding, marker, payloadType, sequenceNumber, timestamp, ssrc, payload} or throws. */
export function parseRtp(buf) {
  if (buf.length < 12) throw new Error(`RTP packet too short (${buf.length} bytes)`);
  const version = buf[0] >> 6;
  if (version !== 2) throw new Error(`RTP version ${version}, expected 2`);
  const padding = (buf[0] >> 5) & 1;
  const extension = (buf[0] >> 4) & 1;
  const csrcCount = buf[0] & 0x0f;
  let off = 12 + 4 * csrcCount;
  if (extension) {
    if (buf.length < off + 4) throw new Error('RTP header extension truncated');
    off += 4 + 4 * ((buf[off + 2] << 8) | buf[off + 3]);
  }
  let end = buf.length;
  if (padding) end -= buf[buf.length - 1];
  if (off > end) throw new Error('RTP header longer than the packet');
  return {
    version,
    padding,
    extension,
    marker: buf[1] >> 7,
    payloadType: buf[1] & 0x7f,
    sequenceNumber: (buf[2] << 8) | buf[3],
    timestamp: ((buf[4] << 24) | (buf[5] << 16) | (buf[6] << 8) | buf[7]) >>> 0,
    ssrc: ((buf[8] << 24) | (buf[9] << 16) | (buf[10] << 8) | buf[11]) >>> 0,
    payload: buf.subarray(off, end),
  };
}

/** True for an RTCP packet type (RFC 5761: PT 192..223 with the marker bit folded in). */
export function isRtcp(buf) {
  return buf.length >= 4 && (buf[0] >> 6) === 2 && buf[1] >= 192 && buf[1] <= 223;
}

/** Builds an RTP packet (no CSRC, no extension). */
export function buildRtp({ payloadType, sequenceNumber, timestamp, ssrc, marker = 0, payload }) {
  const b = Buffer.alloc(12 + payload.length);
  b[0] = 0x80;
  b[1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
  b.writeUInt16BE(sequenceNumber & 0xffff, 2);
  b.writeUInt32BE(timestamp >>> 0, 4);
  b.writeUInt32BE(ssrc >>> 0, 8);
  Buffer.from(payload).copy(b, 12);
  return b;
}

/**
 * Summarises a list of parsed packets of one stream:
 * {count, ssrcs, payloadTypes, seqGaps, firstTs, lastTs, spanSeconds(clockRate)}.
 */
export function summarise(packets, clockRate) {
  const ssrcs = new Set(packets.map((p) => p.ssrc));
  const pts = new Set(packets.map((p) => p.payloadType));
  let seqGaps = 0;
  for (let i = 1; i < packets.length; i++) {
    if (((packets[i - 1].sequenceNumber + 1) & 0xffff) !== packets[i].sequenceNumber) seqGaps++;
  }
  const span = packets.length ? ((packets[packets.length - 1].timestamp - packets[0].timestamp) >>> 0) / clockRate : 0;
  return { count: packets.length, ssrcs: [...ssrcs], payloadTypes: [...pts], seqGaps, spanSeconds: span };
}
