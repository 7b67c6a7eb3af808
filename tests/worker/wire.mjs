// A raw channel client for black-box tests of the worker binary: spawns it the
// way mediasoup's Node library does (fds 3 and 4 as pipes, MEDIASOUP_VERSION
// set), frames messages with the 4-byte little-endian length prefix, and
// decodes replies with mediasoup's own generated FlatBuffers classes.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');
const require = createRequire(path.join(repoRoot, 'node-controller', 'package.json'));
const flatbuffers = require('flatbuffers');
const fbsDir = path.join(path.dirname(require.resolve('mediasoup')), 'fbs');
const { Message, Body: MessageBody } = require(path.join(fbsDir, 'message.js'));
const { Request, Method, Body: RequestBody } = require(path.join(fbsDir, 'request.js'));
const { Response } = require(path.join(fbsDir, 'response.js'));
const { Notification, Event } = require(path.join(fbsDir, 'notification.js'));
const { Log } = require(path.join(fbsDir, 'log.js'));
const FbsWorker = require(path.join(fbsDir, 'worker.js'));

export { flatbuffers, Method, RequestBody, Event, FbsWorker, MessageBody, Message, Response, Notification };

export const workerBin = process.env.SFU_WORKER_BIN ?? path.join(repoRoot, 'build', 'sfu-worker');

/** Frames a FlatBuffer with the channel's length prefix. */
export function frame(payload) {
  const out = Buffer.alloc(4 + payload.length);
  out.writeUInt32LE(payload.length, 0);
  Buffer.from(payload).copy(out, 4);
  return out;
}

/** Builds Message{Request{...}}; `body` is (builder) => [bodyType, offset] or undefined. */
export function buildRequest(id, method, handlerId = '', body) {
  const b = new flatbuffers.Builder(256);
  const hid = b.createString(handlerId);
  const [bodyType, bodyOffset] = body ? body(b) : [RequestBody.NONE, 0];
  const req = Request.createRequest(b, id, method, hid, bodyType, bodyOffset);
  const msg = Message.createMessage(b, MessageBody.Request, req);
  b.finish(msg);
  return b.asUint8Array();
}

export function buildNotification(event, handlerId = '') {
  const b = new flatbuffers.Builder(128);
  const hid = b.createString(handlerId);
  const n = Notification.createNotification(b, hid, event, 0, 0);
  const msg = Message.createMessage(b, MessageBody.Notification, n);
  b.finish(msg);
  return b.asUint8Array();
}

export class RawWorker {
  constructor({ args = [], env = {}, bin = workerBin } = {}) {
    this.child = spawn(bin, args, {
      env: { MEDIASOUP_VERSION: '3.27.1', ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    });
    this.stderr = '';
    this.child.stderr.on('data', (d) => (this.stderr += d.toString()));
    this.child.stdout.on('data', () => {});
    this.responses = new Map();
    this.waiters = new Map();
    this.notifications = [];
    this.logs = [];
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
    this.buf = Buffer.alloc(0);
    this.out = this.child.stdio[3];
    this.out.on('error', () => {});
    this.child.stdio[4].on('data', (d) => this.#onData(d));
    this.running = new Promise((resolve) => (this.onRunning = resolve));
  }

  #onData(d) {
    this.buf = Buffer.concat([this.buf, d]);
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32LE(0);
      if (this.buf.length < 4 + len) break;
      const payload = new Uint8Array(this.buf.subarray(4, 4 + len));
      this.buf = this.buf.subarray(4 + len);
      const msg = Message.getRootAsMessage(new flatbuffers.ByteBuffer(payload));
      switch (msg.dataType()) {
        case MessageBody.Response: {
          const r = msg.data(new Response());
          const w = this.waiters.get(r.id());
          if (w) {
            this.waiters.delete(r.id());
            w(r);
          } else this.responses.set(r.id(), r);
          break;
        }
        case MessageBody.Notification: {
          const n = msg.data(new Notification());
          this.notifications.push(n);
          if (n.event() === Event.WORKER_RUNNING) this.onRunning(n);
          break;
        }
        case MessageBody.Log:
          this.logs.push(msg.data(new Log()).data());
          break;
        default:
          throw new Error(`unexpected message type ${msg.dataType()}`);
      }
    }
  }

  write(bytes) {
    return new Promise((resolve, reject) => this.out.write(Buffer.from(bytes), (err) => (err ? reject(err) : resolve())));
  }

  /** Sends a request and resolves with its Response (rejects after timeoutMs). */
  request(id, method, handlerId = '', body, timeoutMs = 2000) {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters.delete(id);
        reject(new Error(`no response to request ${id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(id, (r) => {
        clearTimeout(t);
        resolve(r);
      });
      this.write(frame(buildRequest(id, method, handlerId, body))).catch(reject);
    });
  }

  alive() {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async close() {
    if (this.alive()) {
      this.out.end();
      this.child.stdio[4].destroy();
    }
    return this.exited;
  }
}
