// A user-space UDP relay between a browser and one WebRtcTransport, for the
// network conditions the kernel here cannot make (no netem): random loss and
// a rate-limited bottleneck with a drop-tail queue, per direction.
//
//   const relay = await startRelay({ target: { ip, port }, up: {...}, down: {...} })
//   relay.port            the port to announce to the browser instead of the worker's
//   relay.set('down', { rateBps: 600_000 })   change a direction at any time
//   relay.stats()         packets/bytes forwarded and dropped per direction
//   relay.close()
//
// 'up' is browser -> worker, 'down' worker -> browser. Each direction takes
//   lossPct    drop each packet with this probability (deterministic PRNG, seed)
//   rateBps    bottleneck rate (0: none); packets wait in a FIFO that drains at this rate
//   queueMs    drop-tail: a packet that would wait longer than this is dropped (default 300)
//   delayMs    fixed one-way delay added to every packet
// ICE works through it unchanged: the worker sees the relay's address as the
// remote candidate, and answers go back to whoever last sent from the browser side.
import dgram from 'node:dgram';

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Direction {
  constructor(name, opts, seed, sendFn) {
    this.name = name;
    this.rand = mulberry32(seed);
    this.send = sendFn;
    this.queue = [];
    this.busyUntil = 0; // ms (performance.now) when the link is free again
    this.timer = null;
    this.counters = { in: 0, out: 0, bytesOut: 0, lost: 0, queueDropped: 0, maxQueueMs: 0 };
    this.set(opts);
  }

  set(opts = {}) {
    this.lossPct = opts.lossPct ?? this.lossPct ?? 0;
    this.rateBps = opts.rateBps ?? this.rateBps ?? 0;
    this.queueMs = opts.queueMs ?? this.queueMs ?? 300;
    this.delayMs = opts.delayMs ?? this.delayMs ?? 0;
  }

  push(msg) {
    this.counters.in++;
    if (this.lossPct > 0 && this.rand() * 100 < this.lossPct) {
      this.counters.lost++;
      return;
    }
    const now = performance.now();
    if (this.rateBps > 0) {
      const start = Math.max(now, this.busyUntil);
      const wait = start - now;
      if (wait > this.queueMs) {
        this.counters.queueDropped++;
        return;
      }
      this.counters.maxQueueMs = Math.max(this.counters.maxQueueMs, wait);
      // the packet leaves when its last bit has crossed the bottleneck (+ 28 bytes of IP/UDP)
      this.busyUntil = start + ((msg.length + 28) * 8 * 1000) / this.rateBps;
      this.queue.push({ msg, at: this.busyUntil + this.delayMs });
    } else if (this.delayMs > 0) {
      this.queue.push({ msg, at: now + this.delayMs });
    } else {
      this.deliver(msg);
      return;
    }
    this.schedule();
  }

  deliver(msg) {
    this.counters.out++;
    this.counters.bytesOut += msg.length;
    this.send(msg);
  }

  schedule() {
    if (this.timer || this.queue.length === 0) return;
    const wait = Math.max(0, this.queue[0].at - performance.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      const now = performance.now();
      while (this.queue.length > 0 && this.queue[0].at <= now + 0.5) this.deliver(this.queue.shift().msg);
      this.schedule();
    }, wait);
  }

  close() {
    clearTimeout(this.timer);
    this.queue = [];
  }
}

export async function startRelay({ target, up = {}, down = {}, seed = 1 }) {
  const outer = dgram.createSocket('udp4'); // the browser talks to this one
  const inner = dgram.createSocket('udp4'); // this one talks to the worker
  let client = null; // the browser's address, learned from its packets
  await new Promise((r) => outer.bind(0, '127.0.0.1', r));
  await new Promise((r) => inner.bind(0, '127.0.0.1', r));
  for (const s of [outer, inner]) {
    try {
      s.setRecvBufferSize(4 << 20);
      s.setSendBufferSize(4 << 20);
    } catch {}
  }
  const dirs = {
    up: new Direction('up', up, seed, (m) => inner.send(m, target.port, target.ip)),
    down: new Direction('down', down, seed + 1, (m) => client && outer.send(m, client.port, client.address)),
  };
  outer.on('message', (m, rinfo) => {
    client = rinfo;
    dirs.up.push(m);
  });
  inner.on('message', (m) => dirs.down.push(m));
  return {
    port: outer.address().port,
    set(dir, opts) {
      dirs[dir].set(opts);
    },
    stats() {
      return { up: { ...dirs.up.counters }, down: { ...dirs.down.counters } };
    },
    close() {
      dirs.up.close();
      dirs.down.close();
      outer.close();
      inner.close();
    },
  };
}
