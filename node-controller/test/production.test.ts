// What a production start must not expose: `npm start` (as a fresh checkout
// runs it: prestart builds first) answers 404 on the development routes,
// and a 5xx tells the client nothing of its cause, only a request id that
// finds the cause in the log.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { build } from '../src/app';
import { loadConfig } from '../src/config';
import { api, SECRET, serviceToken, startApp, userToken } from './helpers';

const controllerDir = path.resolve(__dirname, '..', '..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function waitHealthy(url: string, child: ChildProcess, log: () => string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`npm start exited (${child.exitCode}):\n${log()}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.status === 200) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`npm start not healthy within ${ms} ms:\n${log()}`);
}

describe('npm start (no RTC_DEV_ROUTES)', () => {
  let child: ChildProcess | undefined;
  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      process.kill(-child.pid!, 'SIGTERM');
      await exited;
    }
  });

  test('the development routes answer 404, the API is there, SIGTERM stops it', async () => {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      JWT_SECRET: SECRET,
      RTC_WORKERS: '1',
      LOG_LEVEL: 'warn',
    };
    delete env.RTC_DEV_ROUTES;
    delete env.NODE_ENV;
    let out = '';
    child = spawn('npm', ['start'], { cwd: controllerDir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (c) => { out += c; });
    child.stderr!.on('data', (c) => { out += c; });
    const url = `http://127.0.0.1:${port}`;
    await waitHealthy(url, child, () => out.slice(-4000), 120_000);

    const mint = await fetch(`${url}/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'mallory', callId: 'any-call' }),
    });
    assert.equal(mint.status, 404);
    const mintBody = await mint.json() as { error: string; token?: string };
    assert.equal(mintBody.error, 'NOT_FOUND');
    assert.equal(mintBody.token, undefined);
    const dump = await fetch(`${url}/dev/workers/dump`, { headers: { authorization: `Bearer ${serviceToken()}` } });
    assert.equal(dump.status, 404);
    // the rest is served: the demo page, and the API behind its auth
    assert.equal((await fetch(`${url}/`)).status, 200);
    assert.equal((await fetch(`${url}/rtc/capabilities?callId=c1`)).status, 401);
    const caps = await fetch(`${url}/rtc/capabilities?callId=c1`, {
      headers: { authorization: `Bearer ${userToken('c1', 'alice')}` },
    });
    assert.equal(caps.status, 200);

    // SIGTERM to the group (npm, its shell, the controller): the controller
    // shuts down cleanly (npm itself dies of the signal).
    const exited = new Promise<void>((r) => child!.once('exit', () => r()));
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && await fetch(`${url}/healthz`).then(() => true, () => false)) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await assert.rejects(fetch(`${url}/healthz`), 'the controller still answers after SIGTERM');
    assert.doesNotMatch(out, /shutdown failed|Unhandled|ERR_/);
  });
});

describe('RTC_DEV_ROUTES', () => {
  test('=1 registers POST /dev/token; its token works on the API', async () => {
    const app = await startApp({ RTC_DEV_ROUTES: '1' });
    try {
      const r = await api(app, 'POST', '/dev/token', undefined, { userId: 'alice', callId: 'dev-call' });
      assert.equal(r.status, 200);
      const caps = await api(app, 'GET', '/rtc/capabilities?callId=dev-call', r.body.token);
      assert.equal(caps.status, 200);
    } finally {
      await app.close();
    }
  });

  test('unset or 0: 404, like any unknown route', async () => {
    for (const v of [undefined, '0']) {
      const app = await startApp(v === undefined ? {} : { RTC_DEV_ROUTES: v });
      try {
        const r = await api(app, 'POST', '/dev/token', undefined, { userId: 'alice', callId: 'dev-call' });
        assert.equal(r.status, 404);
        assert.equal(r.body.error, 'NOT_FOUND');
        assert.equal((await api(app, 'GET', '/dev/workers/dump', serviceToken())).status, 404);
      } finally {
        await app.close();
      }
    }
  });

  test('a value that is not 1 or 0 is a configuration error', () => {
    assert.throws(() => loadConfig({ JWT_SECRET: 'x', RTC_DEV_ROUTES: 'maybe' }), /RTC_DEV_ROUTES/);
    assert.throws(() => loadConfig({ JWT_SECRET: 'x', LOG_FORMAT: 'xml' }), /LOG_FORMAT/);
  });
});

describe('request logs', () => {
  test('a token in the query string (event socket, /ops) is not logged', async () => {
    const lines: string[] = [];
    const stream = new Writable({ write(chunk, _enc, cb) { lines.push(chunk.toString()); cb(); } });
    const config = loadConfig({ JWT_SECRET: SECRET, RTC_WORKERS: '1' });
    const app = await build({ config, fastify: { logger: { level: 'info', stream } } });
    await app.ready();
    try {
      const tok = userToken('log-1', 'alice');
      await app.inject({ method: 'GET', url: `/rtc/capabilities?callId=log-1&token=${tok}` });
      const all = lines.join('');
      assert.ok(all.includes('token=***'), all);
      assert.equal(all.includes(tok), false);
      assert.equal(all.includes(tok.split('.')[2]), false);
    } finally {
      await app.close();
    }
  });
});

describe('5xx', () => {
  test('the body carries a generic message and the request id; the cause is in the log', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, cb) { lines.push(chunk.toString()); cb(); },
    });
    const config = loadConfig({ JWT_SECRET: SECRET, RTC_WORKERS: '1' });
    const app = await build({ config, fastify: { logger: { level: 'error', stream } } });
    app.get('/test-boom', async () => { throw new Error('secret detail: /etc/shadow at 10.1.2.3'); });
    await app.ready();
    try {
      const res = await app.inject({ method: 'GET', url: '/test-boom' });
      assert.equal(res.statusCode, 500);
      const body = res.json();
      assert.deepEqual(Object.keys(body).sort(), ['error', 'message', 'requestId']);
      assert.equal(body.error, 'INTERNAL_ERROR');
      assert.equal(body.message, 'internal error');
      assert.doesNotMatch(res.body, /secret|shadow|10\.1\.2\.3/);
      const logged = lines.map((l) => JSON.parse(l)).find((l) => l.reqId === body.requestId && l.err);
      assert.ok(logged, `no log line with reqId ${body.requestId}: ${lines.join('')}`);
      assert.match(logged.err.message, /secret detail/);
    } finally {
      await app.close();
    }
  });
});
