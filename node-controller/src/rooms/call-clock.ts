// The billable time of one call (seed 002: billing starts at call_connected;
// the product: it stops when media stops). The clock runs from
// call_connected while at least two participants have media (a producer
// whose RTP flows, or one paused on purpose), and stops at the moment that
// no longer holds: a participant's media went silent (at its last RTP, known
// once the silence monitor reports it), its producers closed (leave, cleanup,
// transport closed: at the close, or at its last RTP if its media had
// stopped before), or the room closed. Media coming back starts it again.
// connectedDurationMs (call_ended) is the sum of these intervals.
export class CallClock {
  /** call_connected. */
  connectedAt?: number;
  private liveSince?: number;
  private billedMs = 0;
  private ended = false;

  get running(): boolean {
    return this.liveSince !== undefined;
  }

  /** call_connected at `at` (both sides' media flowing). */
  start(at: number): void {
    if (this.connectedAt !== undefined || this.ended) return;
    this.connectedAt = at;
    this.liveSince = at;
  }

  /** The call has (live) or lacks media since `at`. Before call_connected: nothing. */
  set(live: boolean, at: number): void {
    if (this.connectedAt === undefined || this.ended) return;
    if (live && this.liveSince === undefined) {
      this.liveSince = at;
    } else if (!live && this.liveSince !== undefined) {
      this.billedMs += Math.max(0, at - this.liveSince);
      this.liveSince = undefined;
    }
  }

  /** The billable milliseconds so far (counting up to `now` if running). */
  durationMs(now = Date.now()): number {
    return Math.round(this.billedMs + (this.liveSince !== undefined ? Math.max(0, now - this.liveSince) : 0));
  }

  /** The call ended; media (if still live) until `at`. -> the billable milliseconds. */
  end(at: number): number {
    this.set(false, at);
    this.ended = true;
    return this.durationMs(at);
  }
}
