// One user in a room and the media objects it owns. The maps always hold
// live objects only: each object removes itself when mediasoup closes it,
// whatever the reason (explicit close, its transport or producer closing,
// the router or worker going away).
import type { types } from 'mediasoup';

export type Direction = 'send' | 'recv';

export interface TransportEntry {
  transport: types.WebRtcTransport;
  direction: Direction;
  /** RTC-03 succeeded: asking for this direction again is a reconnect. */
  connected: boolean;
  /** Pending close after ICE disconnected (cleared if ICE recovers). */
  recoveryTimer?: NodeJS.Timeout;
}

export interface Released {
  transports: number;
  producers: number;
  consumers: number;
  /** Data channels (SCTP): counted apart from the media producers/consumers. */
  dataProducers: number;
  dataConsumers: number;
}

export function noneReleased(): Released {
  return { transports: 0, producers: 0, consumers: 0, dataProducers: 0, dataConsumers: 0 };
}

export class Participant {
  readonly transports = new Map<string, TransportEntry>();
  readonly producers = new Map<string, types.Producer>();
  readonly consumers = new Map<string, types.Consumer>();
  readonly dataProducers = new Map<string, types.DataProducer>();
  readonly dataConsumers = new Map<string, types.DataConsumer>();
  /** Running while the participant has no event socket. */
  graceTimer?: NodeJS.Timeout;
  readonly joinedAt = Date.now();

  constructor(readonly userId: string) {}

  transportFor(direction: Direction): TransportEntry | undefined {
    for (const e of this.transports.values()) if (e.direction === direction) return e;
    return undefined;
  }

  addTransport(entry: TransportEntry): void {
    const id = entry.transport.id;
    this.transports.set(id, entry);
    entry.transport.observer.once('close', () => {
      clearTimeout(entry.recoveryTimer);
      this.transports.delete(id);
    });
  }

  addProducer(producer: types.Producer): void {
    this.producers.set(producer.id, producer);
    producer.observer.once('close', () => this.producers.delete(producer.id));
  }

  addConsumer(consumer: types.Consumer): void {
    this.consumers.set(consumer.id, consumer);
    consumer.observer.once('close', () => this.consumers.delete(consumer.id));
  }

  addDataProducer(dataProducer: types.DataProducer): void {
    this.dataProducers.set(dataProducer.id, dataProducer);
    dataProducer.observer.once('close', () => this.dataProducers.delete(dataProducer.id));
  }

  addDataConsumer(dataConsumer: types.DataConsumer): void {
    this.dataConsumers.set(dataConsumer.id, dataConsumer);
    dataConsumer.observer.once('close', () => this.dataConsumers.delete(dataConsumer.id));
  }

  /** Closes this participant's consumers and data consumers; adds what it closed to `into`. */
  closeConsumers(into: Released): void {
    for (const c of [...this.consumers.values()]) {
      if (c.closed) continue;
      c.close();
      into.consumers++;
    }
    for (const c of [...this.dataConsumers.values()]) {
      if (c.closed) continue;
      c.close();
      into.dataConsumers++;
    }
  }

  /** Producers and data producers. */
  closeProducers(into: Released): void {
    for (const p of [...this.producers.values()]) {
      if (p.closed) continue;
      p.close();
      into.producers++;
    }
    for (const p of [...this.dataProducers.values()]) {
      if (p.closed) continue;
      p.close();
      into.dataProducers++;
    }
  }

  closeTransports(into: Released): void {
    for (const e of [...this.transports.values()]) {
      if (e.transport.closed) continue;
      e.transport.close();
      into.transports++;
    }
  }

  /**
   * Closes everything this participant owns in the order consumers (and data
   * consumers), producers (and data producers), transports, counting only objects this call really closed.
   */
  closeAll(into: Released = noneReleased()): Released {
    this.closeConsumers(into);
    this.closeProducers(into);
    this.closeTransports(into);
    this.stopGrace();
    return into;
  }

  stopGrace(): void {
    clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
  }
}
