// Call-quality statistics of one room: every RTC_STATS_INTERVAL_MS one
// getStats() of each producer (what the SFU receives: the participant's send
// stream) and each consumer (what it sends: the participant's receive
// stream), turned into one sample per stream (bitrate, packets, loss over
// the interval, jitter, RTT, score) kept for RTC_STATS_WINDOW_S. GET
// /rtc/rooms/:callId/stats and the /ops page read them; the deltas also feed
// the per-worker packet and loss counters of /metrics. (This is the quality
// view's sampling; the silence monitor does not poll, see media-monitor.ts.)
import type { types } from 'mediasoup';
import type { Participant } from './participant';

export interface QualitySample {
  /** Epoch ms. */
  t: number;
  /** bits/s over the interval. */
  bitrate: number;
  /** Packets over the interval. */
  packets: number;
  /** Packets lost over the interval (receiver-reported for what the SFU sends). */
  lost: number;
  /** lost / expected over the interval, in %. */
  lossPct: number;
  jitterMs: number;
  /** Round-trip time of the path (0: unknown; the SFU measures it on what it sends). */
  rttMs: number;
  /** mediasoup's 0-10 stream score. */
  score: number;
}

export type StreamDirection = 'send' | 'recv';

export interface StreamSeries {
  /** Producer or consumer id. */
  id: string;
  kind: types.MediaKind;
  /** From the participant's side: send = its producer, recv = one of its consumers. */
  direction: StreamDirection;
  producerId: string;
  /** recv: whose producer it receives. */
  fromUserId?: string;
  mimeType: string;
  samples: QualitySample[];
}

/** Packets and losses per worker slot, for /metrics (monotonic over the process's life). */
export class WorkerTotals {
  readonly bySlot = new Map<number, { packetsIn: number; packetsOut: number; lostIn: number; lostOut: number }>();

  add(slot: number, d: { packetsIn?: number; packetsOut?: number; lostIn?: number; lostOut?: number }): void {
    let t = this.bySlot.get(slot);
    if (!t) this.bySlot.set(slot, (t = { packetsIn: 0, packetsOut: 0, lostIn: 0, lostOut: 0 }));
    t.packetsIn += d.packetsIn ?? 0;
    t.packetsOut += d.packetsOut ?? 0;
    t.lostIn += d.lostIn ?? 0;
    t.lostOut += d.lostOut ?? 0;
  }
}

interface Cumulative {
  t: number;
  bytes: number;
  packets: number;
  lost: number;
}

interface Tracked {
  series: StreamSeries;
  userId: string;
  clockRate: number;
  last?: Cumulative;
}

type Stat = types.RtpStreamRecvStats | types.RtpStreamSendStats;

export interface QualityOptions {
  intervalMs: number;
  windowS: number;
  /** The worker slot of a participant's router (undefined until the room opened). */
  slot: (userId: string) => number | undefined;
  totals?: WorkerTotals;
}

export class QualityStats {
  private readonly streams = new Map<string, Tracked>();
  private timer?: NodeJS.Timeout;
  private ticking = false;
  private stopped = false;

  constructor(private readonly participants: () => Iterable<Participant>, private readonly opts: QualityOptions) {}

  get intervalMs(): number {
    return this.opts.intervalMs;
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => { void this.tick(); }, this.opts.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The series of each participant's streams, samples newer than windowS. */
  snapshot(windowS: number, now = Date.now()): Map<string, StreamSeries[]> {
    const from = now - windowS * 1000;
    const out = new Map<string, StreamSeries[]>();
    for (const tr of this.streams.values()) {
      const list = out.get(tr.userId) ?? [];
      list.push({ ...tr.series, samples: tr.series.samples.filter((s) => s.t >= from) });
      out.set(tr.userId, list);
    }
    return out;
  }

  /** One sample of every live producer and consumer (exposed for tests). */
  async tick(now = Date.now()): Promise<void> {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    try {
      const live = new Set<string>();
      const jobs: Array<Promise<void>> = [];
      for (const p of this.participants()) {
        for (const producer of p.producers.values()) {
          live.add(producer.id);
          jobs.push(this.sample(this.track(producer.id, p.userId, 'send', producer.kind, producer.id, producer.rtpParameters),
            () => producer.getStats(), 'inbound-rtp'));
        }
        for (const consumer of p.consumers.values()) {
          live.add(consumer.id);
          const from = this.ownerOf(consumer.producerId);
          jobs.push(this.sample(this.track(consumer.id, p.userId, 'recv', consumer.kind, consumer.producerId, consumer.rtpParameters, from),
            () => consumer.getStats(), 'outbound-rtp'));
        }
      }
      // Streams that closed: their series go (the room's view is of live streams).
      for (const id of [...this.streams.keys()]) if (!live.has(id)) this.streams.delete(id);
      await Promise.all(jobs);
      const cut = now - this.opts.windowS * 1000;
      for (const tr of this.streams.values()) {
        const s = tr.series.samples;
        while (s.length > 0 && s[0].t < cut) s.shift();
      }
    } finally {
      this.ticking = false;
    }
  }

  private ownerOf(producerId: string): string | undefined {
    for (const tr of this.streams.values()) if (tr.series.direction === 'send' && tr.series.id === producerId) return tr.userId;
    for (const p of this.participants()) if (p.producers.has(producerId)) return p.userId;
    return undefined;
  }

  private track(id: string, userId: string, direction: StreamDirection, kind: types.MediaKind, producerId: string,
    rtp: types.RtpParameters, fromUserId?: string): Tracked {
    let tr = this.streams.get(id);
    if (!tr) {
      const codec = rtp.codecs.find((c) => !/\/(rtx|red|ulpfec)$/i.test(c.mimeType)) ?? rtp.codecs[0];
      tr = {
        userId,
        clockRate: codec?.clockRate ?? 48000,
        series: { id, kind, direction, producerId, ...(fromUserId ? { fromUserId } : {}), mimeType: codec?.mimeType ?? '', samples: [] },
      };
      this.streams.set(id, tr);
    }
    return tr;
  }

  private async sample(tr: Tracked, read: () => Promise<Stat[]>, type: 'inbound-rtp' | 'outbound-rtp'): Promise<void> {
    let stats: Stat[];
    try {
      stats = (await read()).filter((s) => s.type === type);
    } catch {
      return; // closed meanwhile
    }
    if (stats.length === 0 || this.stopped) return;
    const t = Date.now();
    // Simulcast/SVC producers have a stream per layer: sum the counters, worst of the rest.
    const cur: Cumulative = {
      t,
      bytes: stats.reduce((a, s) => a + s.byteCount, 0),
      packets: stats.reduce((a, s) => a + s.packetCount, 0),
      lost: stats.reduce((a, s) => a + Math.max(0, s.packetsLost), 0),
    };
    const prev = tr.last;
    tr.last = cur;
    if (!prev) return; // the first read only sets the baseline
    const dt = (cur.t - prev.t) / 1000;
    const packets = Math.max(0, cur.packets - prev.packets);
    const lost = Math.max(0, cur.lost - prev.lost);
    const expected = tr.series.direction === 'send' ? packets + lost : packets;
    const fraction = Math.max(...stats.map((s) => s.fractionLost)) / 256;
    const sample: QualitySample = {
      t,
      bitrate: dt > 0 ? Math.round((Math.max(0, cur.bytes - prev.bytes) * 8) / dt) : 0,
      packets,
      lost,
      lossPct: round(expected > 0 ? Math.min(100, (lost / expected) * 100) : fraction * 100),
      jitterMs: round((Math.max(...stats.map((s) => s.jitter)) / tr.clockRate) * 1000),
      rttMs: round(Math.max(...stats.map((s) => s.roundTripTime ?? 0))),
      score: Math.min(...stats.map((s) => s.score)),
    };
    tr.series.samples.push(sample);
    const slot = this.opts.slot(tr.userId);
    if (slot !== undefined && this.opts.totals) {
      this.opts.totals.add(slot, tr.series.direction === 'send' ? { packetsIn: packets, lostIn: lost } : { packetsOut: packets, lostOut: lost });
    }
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
