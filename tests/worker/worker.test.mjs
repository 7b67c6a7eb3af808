// Black-box tests of the worker binary over its real pipes: start-up contract
// (exit codes), hostile channel input, signals, shutdown paths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { RawWorker, workerBin, frame, buildRequest, buildNotification, Method, RequestBody, Event, FbsWorker, flatbuffers } from './wire.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function runWorker(args, env) {
  return spawnSync(workerBin, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    timeout: 5000,
  });
}

test('exits 41 without MEDIASOUP_VERSION', () => {
  const env = { ...process.env };
  delete env.MEDIASOUP_VERSION;
  const r = spawnSync(workerBin, [], { env, stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'], timeout: 5000 });
  assert.equal(r.status, 41);
});

for (const args of [
  ['--logLevel=chicken'],
  ['--rtcMinPort=1000', '--rtcMaxPort=999'],
  ['--rtcMinPort=1000', '--rtcMaxPort=65536'],
  ['--rtcMinPort=abc'],
  ['--nope=1'],
  ['--dtlsCertificateFile=/notfound/cert.pem'],
  ['--dtlsPrivateKeyFile=/notfound/priv.pem'],
  ['--dtlsCertificateFile=/notfound/cert.pem', '--dtlsPrivateKeyFile=/notfound/priv.pem'],
]) {
  test(`exits 42 on bad settings ${args.join(' ')}`, () => {
    const r = runWorker(args, { MEDIASOUP_VERSION: '3.27.1' });
    assert.equal(r.status, 42, r.stderr.toString());
  });
}

test('sends WORKER_RUNNING with its pid and answers WORKER_DUMP', async () => {
  const w = new RawWorker({ args: ['--logLevel=debug', '--logTag=info'] });
  const running = await w.running;
  assert.equal(running.handlerId(), String(w.child.pid));
  const r = await w.request(1, Method.WORKER_DUMP);
  assert.equal(r.accepted(), true);
  const dump = r.body(new FbsWorker.DumpResponse());
  assert.equal(dump.pid(), w.child.pid);
  assert.equal(dump.routerIdsLength(), 0);
  assert.deepEqual(await w.close(), { code: 0, signal: null });
});

test('unknown handler and unimplemented methods get error responses naming the method', async () => {
  const w = new RawWorker();
  await w.running;
  let r = await w.request(1, Method.ROUTER_DUMP, 'no-such-router');
  assert.equal(r.accepted(), false);
  assert.equal(r.error(), 'NotFoundError');
  assert.match(r.reason(), /ROUTER_DUMP/);
  r = await w.request(2, Method.WORKER_CREATE_WEBRTCSERVER, '', (b) => {
    const id = b.createString('server-1');
    const off = FbsWorker.CreateWebRtcServerRequest.createCreateWebRtcServerRequest(b, id, 0);
    return [RequestBody.Worker_CreateWebRtcServerRequest, off];
  });
  assert.equal(r.accepted(), false);
  assert.match(r.reason(), /WORKER_CREATE_WEBRTCSERVER/);
  // A method number outside the enum.
  r = await w.request(3, 250);
  assert.equal(r.accepted(), false);
  assert.equal(r.error(), 'TypeError');
  // The body of another request type.
  r = await w.request(4, Method.WORKER_CREATE_ROUTER, '', (b) => {
    const id = b.createString('x');
    return [RequestBody.Worker_CloseRouterRequest, FbsWorker.CloseRouterRequest.createCloseRouterRequest(b, id)];
  });
  assert.equal(r.accepted(), false);
  assert.equal(r.error(), 'TypeError');
  assert.ok(w.alive());
  await w.close();
});

test('creates, dumps and closes routers; duplicate ids are refused', async () => {
  const w = new RawWorker();
  await w.running;
  const create = (id, rid) =>
    w.request(id, Method.WORKER_CREATE_ROUTER, '', (b) => {
      const s = b.createString(rid);
      return [RequestBody.Worker_CreateRouterRequest, FbsWorker.CreateRouterRequest.createCreateRouterRequest(b, s)];
    });
  assert.equal((await create(1, 'r1')).accepted(), true);
  assert.equal((await create(2, 'r2')).accepted(), true);
  const dup = await create(3, 'r1');
  assert.equal(dup.accepted(), false);
  let dump = (await w.request(4, Method.WORKER_DUMP)).body(new FbsWorker.DumpResponse());
  assert.deepEqual([dump.routerIds(0), dump.routerIds(1)], ['r1', 'r2']);
  assert.equal((await w.request(5, Method.ROUTER_DUMP, 'r1')).accepted(), true);
  const close = await w.request(6, Method.WORKER_CLOSE_ROUTER, '', (b) => {
    const s = b.createString('r1');
    return [RequestBody.Worker_CloseRouterRequest, FbsWorker.CloseRouterRequest.createCloseRouterRequest(b, s)];
  });
  assert.equal(close.accepted(), true);
  assert.equal((await w.request(7, Method.ROUTER_DUMP, 'r1')).error(), 'NotFoundError');
  dump = (await w.request(8, Method.WORKER_DUMP)).body(new FbsWorker.DumpResponse());
  assert.equal(dump.routerIdsLength(), 1);
  await w.close();
});

test('survives random bytes and garbage frames, then answers a valid request', async () => {
  const w = new RawWorker();
  await w.running;
  // 1. Frames with valid length prefixes and random bodies, many per write.
  for (let i = 0; i < 200; i++) {
    const chunks = [];
    for (let j = 0; j < 10; j++) chunks.push(frame(randomBytes(1 + ((i * 7 + j * 13) % 300))));
    await w.write(Buffer.concat(chunks));
  }
  // Empty frames and a valid message of an unexpected kind (a Response from Node).
  await w.write(Buffer.concat([frame(Buffer.alloc(0)), frame(Buffer.alloc(3))]));
  assert.equal((await w.request(1, Method.WORKER_DUMP)).accepted(), true);

  // 2. A plain stream of random bytes: framing is lost, so resynchronize the way
  // the channel documents it (an oversized length prefix drops what is buffered).
  for (let i = 0; i < 100; i++) await w.write(randomBytes(4096));
  const resync = Buffer.alloc(4 * 1024 * 1024 + 8, 0xff);
  await w.write(resync);
  let answered = false;
  for (let attempt = 0; attempt < 5 && !answered; attempt++) {
    await sleep(100);
    try {
      answered = (await w.request(100 + attempt, Method.WORKER_DUMP, '', undefined, 1000)).accepted();
    } catch {
      await w.write(resync);
    }
  }
  assert.ok(answered, 'worker answered after the random stream');
  assert.ok(w.alive());
  const logs = w.logs.join('\n');
  assert.match(logs, /malformed/);
  assert.deepEqual(await w.close(), { code: 0, signal: null });
});

test('ignores PIPE, HUP, ALRM, USR1, USR2; exits on SIGTERM and SIGINT', async () => {
  for (const sig of ['SIGTERM', 'SIGINT']) {
    const w = new RawWorker();
    await w.running;
    for (const s of ['SIGPIPE', 'SIGHUP', 'SIGALRM', 'SIGUSR1', 'SIGUSR2']) w.child.kill(s);
    await sleep(200);
    assert.ok(w.alive());
    assert.equal((await w.request(1, Method.WORKER_DUMP)).accepted(), true);
    w.child.kill(sig);
    const { code } = await w.exited;
    assert.equal(code, 0);
  }
});

test('WORKER_CLOSE notification closes the worker with routers open', async () => {
  const w = new RawWorker();
  await w.running;
  await w.request(1, Method.WORKER_CREATE_ROUTER, '', (b) => {
    const s = b.createString('r1');
    return [RequestBody.Worker_CreateRouterRequest, FbsWorker.CreateRouterRequest.createCreateRouterRequest(b, s)];
  });
  await w.write(frame(buildNotification(Event.WORKER_CLOSE)));
  assert.deepEqual(await w.exited, { code: 0, signal: null });
});

test('UPDATE_SETTINGS validates before applying', async () => {
  const w = new RawWorker();
  await w.running;
  const update = (id, level, tags) =>
    w.request(id, Method.WORKER_UPDATE_SETTINGS, '', (b) => {
      const l = level ? b.createString(level) : 0;
      const t = tags ? FbsWorker.UpdateSettingsRequest.createLogTagsVector(b, tags.map((x) => b.createString(x))) : 0;
      return [RequestBody.Worker_UpdateSettingsRequest, FbsWorker.UpdateSettingsRequest.createUpdateSettingsRequest(b, l, t)];
    });
  const bad = await update(1, 'chicken', ['info']);
  assert.equal(bad.error(), 'TypeError');
  assert.equal((await update(2, 'debug', ['info', 'nope'])).accepted(), true);
  // Debug logs now flow.
  await w.request(3, Method.WORKER_DUMP);
  await sleep(50);
  assert.ok(w.logs.some((l) => l.startsWith('D')));
  await w.close();
});

test('many requests in flight are all answered in order', async () => {
  const w = new RawWorker();
  await w.running;
  const n = 2000;
  const frames = [];
  for (let i = 1; i <= n; i++) frames.push(frame(buildRequest(i, Method.WORKER_DUMP)));
  const all = [];
  for (let i = 1; i <= n; i++) all.push(new Promise((resolve) => w.waiters.set(i, resolve)));
  await w.write(Buffer.concat(frames));
  const rs = await Promise.all(all);
  assert.equal(rs.length, n);
  assert.ok(rs.every((r) => r.accepted()));
  await w.close();
});
