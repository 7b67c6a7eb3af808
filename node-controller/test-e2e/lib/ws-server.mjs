// A minimal RFC 6455 server side for the stand-in server (no npm package):
// text frames out, close/ping handling in, nothing else. The real controller
// uses @fastify/websocket; this only has to be good enough for a browser.
import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Answers an HTTP upgrade with an error status and drops the connection. */
export function rejectUpgrade(socket, status, text) {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

function frame(opcode, payload) {
  const len = payload.length;
  let head;
  if (len < 126) {
    head = Buffer.from([0x80 | opcode, len]);
  } else if (len < 65536) {
    head = Buffer.alloc(4);
    head[0] = 0x80 | opcode; head[1] = 126; head.writeUInt16BE(len, 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = 0x80 | opcode; head[1] = 127; head.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([head, payload]);
}

/**
 * Completes the handshake; -> a connection: send(obj) (JSON text frame),
 * close(code, reason), events 'message' (string) and 'close' (once).
 */
export function acceptWebSocket(req, socket) {
  const key = req.headers['sec-websocket-key'];
  if (!key || String(req.headers.upgrade).toLowerCase() !== 'websocket') {
    rejectUpgrade(socket, 400, 'Bad Request');
    return null;
  }
  const accept = crypto.createHash('sha1').update(key + GUID).digest('base64');
  socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
    + `Sec-WebSocket-Accept: ${accept}\r\n\r\n`);
  socket.setNoDelay(true);
  const conn = new EventEmitter();
  let buf = Buffer.alloc(0);
  let closed = false;
  const finish = () => {
    if (closed) return;
    closed = true;
    conn.emit('close');
  };
  conn.isOpen = () => !closed;
  conn.send = (obj) => {
    if (!closed && socket.writable) socket.write(frame(0x1, Buffer.from(JSON.stringify(obj))));
  };
  conn.close = (code = 1000, reason = '') => {
    if (closed) return;
    const body = Buffer.alloc(2 + Buffer.byteLength(reason));
    body.writeUInt16BE(code, 0);
    body.write(reason, 2);
    if (socket.writable) socket.end(frame(0x8, body));
    else socket.destroy();
    finish();
  };
  socket.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      if (buf.length < 2) return;
      const opcode = buf[0] & 0x0f;
      const masked = (buf[1] & 0x80) !== 0;
      let len = buf[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2); off = 4;
      } else if (len === 127) {
        if (buf.length < 10) return;
        len = Number(buf.readBigUInt64BE(2)); off = 10;
      }
      if (len > 1 << 20) { socket.destroy(); finish(); return; }
      const maskOff = off;
      if (masked) off += 4;
      if (buf.length < off + len) return;
      const payload = Buffer.from(buf.subarray(off, off + len));
      if (masked) for (let i = 0; i < len; i++) payload[i] ^= buf[maskOff + (i & 3)];
      buf = buf.subarray(off + len);
      if (opcode === 0x8) { conn.close(1000); return; }
      if (opcode === 0x9) { if (socket.writable) socket.write(frame(0xa, payload)); continue; }
      if (opcode === 0x1) conn.emit('message', payload.toString('utf8'));
    }
  });
  socket.on('end', () => { socket.end(); finish(); }); // the HTTP server's sockets allow half-open
  socket.on('close', finish);
  socket.on('error', () => { socket.destroy(); finish(); });
  return conn;
}
