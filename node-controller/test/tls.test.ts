// TLS_CERT_FILE + TLS_KEY_FILE: the controller serves HTTPS and the event
// sockets over WSS on the same port; every bad value is one clear start-up
// error (never a crash later). Certificates come from Debian's openssl.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import type { FastifyInstance } from 'fastify';
import { loadConfig, tlsConfig } from '../src/config';
import { SECRET, startApp, userToken } from './helpers';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sfu-tls-'));
const file = (name: string) => path.join(dir, name);

function selfSigned(name: string, days = 2): void {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', file(`${name}.key`), '-out', file(`${name}.crt`), '-days', String(days), '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
}

before(() => {
  selfSigned('a');
  selfSigned('b');
  fs.writeFileSync(file('garbage.pem'), 'not a certificate\n');
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function get(url: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https.get(url, { ca }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('TLS', () => {
  let app: FastifyInstance;
  let base: string;
  before(async () => {
    app = await startApp({ TLS_CERT_FILE: file('a.crt'), TLS_KEY_FILE: file('a.key') });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(() => app.close());

  test('HTTPS on the API, WSS on the event socket; plain HTTP is refused on that port', async () => {
    assert.match(base, /^https:\/\//);
    const ca = fs.readFileSync(file('a.crt'));
    const h = await get(`${base}/healthz`, ca);
    assert.equal(h.status, 200);
    assert.equal(JSON.parse(h.body).status, 'ok');
    // a client that does not trust the certificate fails the handshake
    await assert.rejects(get(`${base}/healthz`, fs.readFileSync(file('b.crt'))), /self[- ]signed|unable to verify|certificate/i);
    const tok = userToken('tls-1', 'alice');
    const ws = new WebSocket(`${base.replace('https', 'wss')}/rtc/events?callId=tls-1&token=${tok}`, { ca });
    await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
    const room = await get(`${base}/rtc/rooms/tls-1`, ca);
    assert.equal(room.status, 401); // no token on that request: auth still applies over TLS
    ws.close();
    const plain = await fetch(base.replace('https', 'http') + '/healthz').then((r) => r.status, (e: Error) => e.message);
    assert.notEqual(plain, 200);
  });
});

describe('TLS configuration errors (at start, one clear line)', () => {
  const env = (e: Record<string, string>) => ({ JWT_SECRET: SECRET, ...e });
  test('one file without the other', () => {
    assert.throws(() => loadConfig(env({ TLS_CERT_FILE: file('a.crt') })), /TLS_CERT_FILE and TLS_KEY_FILE go together/);
    assert.throws(() => loadConfig(env({ TLS_KEY_FILE: file('a.key') })), /TLS_CERT_FILE and TLS_KEY_FILE go together/);
  });
  test('missing or unreadable files', () => {
    assert.throws(() => loadConfig(env({ TLS_CERT_FILE: file('nope.crt'), TLS_KEY_FILE: file('a.key') })),
      /TLS_CERT_FILE: cannot read .*nope\.crt.*ENOENT/);
    assert.throws(() => loadConfig(env({ TLS_CERT_FILE: file('a.crt'), TLS_KEY_FILE: dir })), /TLS_KEY_FILE: cannot read .*EISDIR/);
  });
  test('not PEM, swapped, or a key that is not the certificate\'s', () => {
    assert.throws(() => loadConfig(env({ TLS_CERT_FILE: file('garbage.pem'), TLS_KEY_FILE: file('a.key') })), /holds no PEM certificate/);
    assert.throws(() => loadConfig(env({ TLS_CERT_FILE: file('a.crt'), TLS_KEY_FILE: file('garbage.pem') })), /holds no \(unencrypted\) PEM private key/);
    assert.throws(() => loadConfig(env({ TLS_CERT_FILE: file('a.key'), TLS_KEY_FILE: file('a.crt') })), /holds no PEM certificate/);
    assert.throws(() => loadConfig(env({ TLS_CERT_FILE: file('a.crt'), TLS_KEY_FILE: file('b.key') })), /is not the key of the certificate/);
  });
  test('an expired (or not yet valid) certificate', () => {
    const e = { TLS_CERT_FILE: file('a.crt'), TLS_KEY_FILE: file('a.key') };
    assert.ok(tlsConfig(e));
    assert.throws(() => tlsConfig(e, new Date(Date.now() + 3 * 86_400_000)), /expired on/);
    assert.throws(() => tlsConfig(e, new Date(Date.now() - 86_400_000)), /not valid before/);
  });
  test('the server (dist/src/server.js) with a bad TLS file exits 1 with that line, no stack trace', () => {
    const r = spawnSync(process.execPath, [path.resolve(__dirname, '..', 'src', 'server.js')], {
      env: { ...process.env, JWT_SECRET: SECRET, RTC_WORKERS: '1', PORT: '0', TLS_CERT_FILE: file('garbage.pem'), TLS_KEY_FILE: file('a.key') },
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^sfu-controller: cannot start: TLS_CERT_FILE: .* holds no PEM certificate\n$/);
  });
});
