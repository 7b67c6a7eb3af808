// Churn: >= 200 join/leave cycles over a few calls with random abrupt socket
// drops (grace-period cleanup), explicit leaves and whole-room cleanups.
// Ends with no object in any worker and a stable controller heap.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { api, join, openEvents, produce, serviceToken, sleep, startApp, transport, until, workerObjects } from './helpers';

const GRACE_MS = 40;
let app: FastifyInstance;
let base: string;
before(async () => {
  app = await startApp({ RTC_DISCONNECT_GRACE_MS: String(GRACE_MS), RTC_EMPTY_ROOM_TIMEOUT_MS: '100' });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});
after(() => app.close());

// Deterministic pseudo-random numbers (xorshift) so a failure can be replayed.
let seed = 0x2545f491;
const rnd = () => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return (seed >>> 0) / 0x100000000; };

let cycleNo = 0;
async function cycle(lane: number): Promise<string> {
  const callId = `churn-${Math.floor(rnd() * 4)}`;
  const userId = `u${lane}-${cycleNo++}`;
  let peer;
  try {
    peer = await join(app, callId, userId);
  } catch {
    return 'join-raced'; // the room was being closed by another lane
  }
  const ev = await openEvents(base, callId, peer.tok);
  try {
    const send = await transport(app, peer, 'send');
    const producerId = await produce(app, peer, send);
    const recv = await transport(app, peer, 'recv');
    const room = app.rooms.get(callId);
    const others = room ? [...room.participants.values()].flatMap((p) => (p.userId === userId ? [] : [...p.producers.keys()])) : [];
    if (others.length > 0) {
      await api(app, 'POST', '/rtc/consumers', peer.tok,
        { callId, transportId: recv, producerId: others[Math.floor(rnd() * others.length)], rtpCapabilities: peer.rtpCapabilities });
    }
    if (rnd() < 0.3) await api(app, 'POST', `/rtc/producers/${producerId}/pause`, peer.tok);
  } catch {
    // A concurrent cleanup closed the room mid-way: fine, the end state is checked below.
  }
  const r = rnd();
  if (r < 0.45) {
    ev.ws.terminate(); // abrupt: tab closed, network gone
    return 'abrupt';
  }
  if (r < 0.9) {
    await api(app, 'DELETE', `/rtc/rooms/${callId}/participants/me`, peer.tok);
    ev.ws.close();
    return 'leave';
  }
  await api(app, 'DELETE', `/rtc/rooms/${callId}/cleanup`, serviceToken());
  ev.ws.close();
  return 'cleanup';
}

async function run(cycles: number, lanes = 4): Promise<Record<string, number>> {
  const kinds: Record<string, number> = {};
  let left = cycles;
  await Promise.all(Array.from({ length: lanes }, async (_, lane) => {
    while (left > 0) {
      left--;
      const k = await cycle(lane);
      kinds[k] = (kinds[k] ?? 0) + 1;
    }
  }));
  return kinds;
}

async function drained(): Promise<void> {
  await until(() => app.rooms.size === 0, 5000, `rooms to close (left: ${app.rooms.all().map((r) => r.callId)})`);
  await until(async () => (await workerObjects(app)).handlers === 0, 3000, 'worker objects to go');
}

function heapUsed(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) gc?.();
  return process.memoryUsage().heapUsed;
}

test('churn: 250 cycles leave nothing behind, heap stable', { timeout: 120_000 }, async () => {
  await run(50); // warm-up (JIT, pools)
  await drained();
  await sleep(50);
  const heap0 = heapUsed();
  const kinds = await run(250);
  assert.ok((kinds.abrupt ?? 0) >= 50, JSON.stringify(kinds));
  await drained();
  const objs = await workerObjects(app);
  assert.deepEqual(objs, { routers: 0, transports: 0, producers: 0, consumers: 0, observers: 0, handlers: 0 });
  await sleep(50);
  const heap1 = heapUsed();
  const growth = heap1 - heap0;
  if ((globalThis as { gc?: unknown }).gc) {
    assert.ok(growth < 8 * 1024 * 1024, `heap grew by ${(growth / 1048576).toFixed(1)} MiB over 250 cycles`);
  }
  const totals = app.rooms.totals();
  assert.deepEqual(totals, { rooms: 0, participants: 0, transports: 0, producers: 0, consumers: 0, dataProducers: 0, dataConsumers: 0 });
  console.log(`# churn: ${JSON.stringify(kinds)}; heap ${(heap0 / 1048576).toFixed(1)} -> ${(heap1 / 1048576).toFixed(1)} MiB`);
});
