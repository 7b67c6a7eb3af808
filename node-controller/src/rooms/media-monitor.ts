// The media-silence monitor of one room (the integration guide's RtpMonitor):
// per audio producer, no RTP for RTC_SILENCE_THRESHOLD_MS -> 'silence'; RTP
// again -> 'resumed'; with RTC_SILENCE_CLOSE_MS, no RTP that long -> 'timeout'
// (the room ends the call, reason media_timeout).
//
// Driven by the worker's notifications, never by polling producers:
//   - the room's AudioLevelObserver (threshold -127 dBov, so that every
//     producer that had audio packets in an interval is listed in its
//     'volumes' notification, once per OBSERVER_INTERVAL_MS): each listing is
//     "RTP arrived during the last interval" (onVolumes);
//   - the producer's first 'score' notification (our worker sends one on the
//     first packet of a stream; mediasoup's own worker on the first RTCP
//     interval): the first RTP, before the observer's next interval.
// Later score notifications are no activity signal: our worker sends one
// when a receiver-report interval changes the score, which also happens
// right after a stream stops (no packets expected, no loss: the score goes
// back to 10); mediasoup's own worker drops the score to 0 after 1.5 s
// without RTP but our worker does not (see the README: what a worker-side
// inactivity notification would change).
//
// Only audio producers whose RTP carries the ssrc-audio-level header
// extension (RFC 6464; every browser sends it, mediasoup-client negotiates
// it) can be listed by the observer: the others (video, or audio without the
// extension) are not monitored; they count as media once their first packet
// arrived. A paused producer (the client muted on purpose) is not silent:
// its clock restarts when it resumes.
//
// Timing: a producer's last RTP is known to one observer interval (the time
// of the last notification that listed it), so silence is reported between
// threshold - 0.2 s and threshold + 1 s after its last packet (20 ms Opus
// frames; mediasoup's worker needs 10 packets in an interval to list a
// producer, ours one).
import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';

/** The room's AudioLevelObserver interval (also the resolution of lastRtpAt). */
export const OBSERVER_INTERVAL_MS = 1000;
/** A producer listed this recently is still flowing (an interval plus notification slack). */
export const FLOWING_MARGIN_MS = OBSERVER_INTERVAL_MS + 500;
export const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';

export interface SilenceInfo {
  producerId: string;
  userId: string;
  kind: types.MediaKind;
  /** The last RTP (to one observer interval); null: none ever. */
  lastRtpAt: number | null;
  /** The silence began (lastRtpAt, or when the producer was created/resumed). */
  silentSince: number;
}

export interface ResumedInfo {
  producerId: string;
  userId: string;
  kind: types.MediaKind;
  /** How long the producer was without RTP. */
  silentMs: number;
}

export interface MonitorOptions {
  thresholdMs: number;
  closeMs?: number;
}

interface Entry {
  producer: types.Producer;
  userId: string;
  /** Audio with ssrc-audio-level: the observer can list it. */
  monitored: boolean;
  /** Time of the last RTP seen (observer listing or first score). */
  lastRtpAt?: number;
  /** Created, or resumed after a pause: silence counts from here without later RTP. */
  since: number;
  silent: boolean;
  paused: boolean;
  silenceTimer?: NodeJS.Timeout;
  closeTimer?: NodeJS.Timeout;
}

export interface MonitorEvents {
  silence: [info: SilenceInfo];
  resumed: [info: ResumedInfo];
  timeout: [info: SilenceInfo];
  /** A producer's media state changed at `at` (its first RTP, silence (at = its last RTP), resumption, pause, close). */
  change: [at: number];
}

export class MediaMonitor extends EventEmitter<MonitorEvents> {
  private readonly entries = new Map<string, Entry>();
  private stopped = false;

  constructor(private readonly opts: MonitorOptions, private readonly now: () => number = Date.now) {
    super();
  }

  track(producer: types.Producer, userId: string): void {
    if (this.stopped || this.entries.has(producer.id)) return;
    const monitored = producer.kind === 'audio'
      && (producer.rtpParameters.headerExtensions ?? []).some((h) => h.uri === AUDIO_LEVEL_URI);
    const e: Entry = { producer, userId, monitored, since: this.now(), silent: false, paused: producer.paused };
    this.entries.set(producer.id, e);
    producer.on('score', (scores) => {
      // Only the first one: see the header.
      if (e.lastRtpAt === undefined && scores.some((s) => s.score > 0)) this.activity(e, this.now());
    });
    producer.observer.on('pause', () => this.setPaused(e, true));
    producer.observer.on('resume', () => this.setPaused(e, false));
    producer.observer.once('close', () => this.untrack(e));
    this.arm(e);
  }

  /** The observer listed these producers (RTP during the interval that ended at `at`). */
  onVolumes(producerIds: Iterable<string>, at = this.now()): void {
    for (const id of producerIds) {
      const e = this.entries.get(id);
      if (e) this.activity(e, at);
    }
  }

  /** userId has media now: a producer that is flowing, or paused (muted on purpose). */
  hasMedia(userId: string): boolean {
    for (const e of this.entries.values()) {
      if (e.userId === userId && (e.paused || (e.lastRtpAt !== undefined && !e.silent))) return true;
    }
    return false;
  }

  /** Users with media now. */
  usersWithMedia(): Set<string> {
    const out = new Set<string>();
    for (const e of this.entries.values()) if (this.hasMedia(e.userId)) out.add(e.userId);
    return out;
  }

  /**
   * When userId's media ended, if its producers closed at `at`: `at` if one
   * was still flowing (listed within the last interval) or paused, else its
   * last RTP (its media had stopped before the close).
   */
  mediaEnd(userId: string, at = this.now()): number | undefined {
    let end: number | undefined;
    for (const e of this.entries.values()) {
      if (e.userId !== userId) continue;
      let t: number | undefined;
      if (e.paused) t = at;
      else if (e.lastRtpAt !== undefined && !e.silent) t = !e.monitored || at - e.lastRtpAt <= FLOWING_MARGIN_MS ? at : e.lastRtpAt;
      if (t !== undefined && (end === undefined || t > end)) end = t;
    }
    return end;
  }

  /** Monitored audio producers (for the room's description). */
  state(producerId: string): { monitored: boolean; silent: boolean; lastRtpAt: number | null } | undefined {
    const e = this.entries.get(producerId);
    return e && { monitored: e.monitored, silent: e.silent, lastRtpAt: e.lastRtpAt ?? null };
  }

  stop(): void {
    this.stopped = true;
    for (const e of this.entries.values()) this.clear(e);
    this.entries.clear();
    this.removeAllListeners();
  }

  private activity(e: Entry, at: number): void {
    if (this.stopped || !this.entries.has(e.producer.id)) return;
    const first = e.lastRtpAt === undefined;
    const wasSilent = e.silent;
    const silentSince = this.silentSince(e);
    e.lastRtpAt = Math.max(e.lastRtpAt ?? 0, at);
    e.silent = false;
    this.arm(e);
    if (wasSilent) {
      this.emit('resumed', { producerId: e.producer.id, userId: e.userId, kind: e.producer.kind, silentMs: Math.max(0, at - silentSince) });
    }
    if (first || wasSilent) this.emit('change', at);
  }

  private setPaused(e: Entry, paused: boolean): void {
    if (e.paused === paused || this.stopped) return;
    e.paused = paused;
    const at = this.now();
    if (paused) {
      e.silent = false;
      this.clear(e);
    } else {
      e.since = at;
      this.arm(e);
    }
    this.emit('change', at);
  }

  /** A producer closed: its media ended now, or at its last RTP if it had stopped flowing before. */
  private untrack(e: Entry): void {
    this.clear(e);
    if (!this.entries.delete(e.producer.id) || this.stopped) return;
    const now = this.now();
    const stale = e.monitored && !e.paused && e.lastRtpAt !== undefined && now - e.lastRtpAt > FLOWING_MARGIN_MS;
    this.emit('change', stale ? e.lastRtpAt! : now);
  }

  private silentSince(e: Entry): number {
    return Math.max(e.lastRtpAt ?? 0, e.since);
  }

  /** (Re)arms the silence timer of a monitored, unpaused producer from its last RTP. */
  private arm(e: Entry): void {
    this.clear(e);
    if (!e.monitored || e.paused || this.stopped) return;
    const due = this.silentSince(e) + this.opts.thresholdMs - this.now();
    e.silenceTimer = setTimeout(() => this.onSilent(e), Math.max(0, due));
    e.silenceTimer.unref();
  }

  private clear(e: Entry): void {
    clearTimeout(e.silenceTimer);
    clearTimeout(e.closeTimer);
    e.silenceTimer = undefined;
    e.closeTimer = undefined;
  }

  private info(e: Entry): SilenceInfo {
    return { producerId: e.producer.id, userId: e.userId, kind: e.producer.kind, lastRtpAt: e.lastRtpAt ?? null, silentSince: this.silentSince(e) };
  }

  private onSilent(e: Entry): void {
    e.silenceTimer = undefined;
    if (this.stopped || e.silent || e.paused || !this.entries.has(e.producer.id)) return;
    e.silent = true;
    const info = this.info(e);
    this.emit('silence', info);
    this.emit('change', info.silentSince);
    if (this.opts.closeMs === undefined) return;
    const due = info.silentSince + this.opts.closeMs - this.now();
    e.closeTimer = setTimeout(() => {
      e.closeTimer = undefined;
      if (!this.stopped && e.silent && !e.paused) this.emit('timeout', this.info(e));
    }, Math.max(0, due));
    e.closeTimer.unref();
  }
}
