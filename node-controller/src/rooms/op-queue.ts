// Runs async operations one after another (one queue per room), so racing
// requests (join, produce, leave, cleanup...) see each other's results.

export class OpQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  /** Operations queued or running. */
  get size(): number {
    return this.pending;
  }

  run<T>(op: () => Promise<T> | T): Promise<T> {
    this.pending++;
    const result = this.tail.then(op).finally(() => { this.pending--; });
    this.tail = result.catch(() => undefined);
    return result;
  }
}
