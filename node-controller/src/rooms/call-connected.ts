// call_connected (seed 002's billing start): fires once per call, when at
// least two participants produce and every participant that produces has had
// the first RTP packet of one of its producers reach the worker (a call
// connects when both sides' media flows, not when the second person joins). Our worker notifies PRODUCER_SCORE on the
// first packet of each stream (mediasoup's 'score' event); a getStats()
// poll (packetCount > 0) backs it up for other workers.
import type { types } from 'mediasoup';
import type { Participant } from './participant';

const POLL_MS = 1000;

export class CallConnected {
  private readonly flowing = new Set<string>(); // producer ids with RTP seen
  private poll?: NodeJS.Timeout;
  private done = false;
  at?: Date;

  constructor(
    private readonly participants: () => Iterable<Participant>,
    private readonly onConnected: (at: Date) => void,
  ) {}

  get connected(): boolean {
    return this.done;
  }

  track(producer: types.Producer): void {
    if (this.done) return;
    producer.on('score', (scores) => {
      if (scores.length > 0) this.markFlowing(producer.id);
    });
    producer.observer.once('close', () => {
      this.flowing.delete(producer.id);
      this.check();
    });
    this.startPolling();
  }

  /** Participants joined or left, producers came or went: re-evaluate. */
  check(): void {
    if (this.done) return;
    const ps = [...this.participants()];
    const producing = ps.filter((p) => p.producers.size > 0);
    if (ps.length < 2 || producing.length < 2) return;
    for (const p of producing) {
      if (![...p.producers.keys()].some((id) => this.flowing.has(id))) return;
    }
    this.done = true;
    this.at = new Date();
    this.stop();
    this.onConnected(this.at);
  }

  stop(): void {
    clearInterval(this.poll);
    this.poll = undefined;
  }

  private markFlowing(producerId: string): void {
    if (this.flowing.has(producerId)) return;
    this.flowing.add(producerId);
    this.check();
  }

  private startPolling(): void {
    if (this.poll || this.done) return;
    this.poll = setInterval(() => { void this.pollOnce(); }, POLL_MS);
    this.poll.unref();
  }

  private async pollOnce(): Promise<void> {
    for (const p of this.participants()) {
      for (const producer of p.producers.values()) {
        if (this.flowing.has(producer.id) || producer.closed) continue;
        try {
          const stats = await producer.getStats();
          if (stats.some((s) => s.packetCount > 0)) this.markFlowing(producer.id);
        } catch {
          /* closed meanwhile */
        }
      }
    }
  }
}
