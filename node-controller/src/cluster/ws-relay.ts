// The event WebSocket of a call owned by another node: the landing node opens
// the same URL on the owner (ws client) before it accepts the client's
// upgrade, then relays messages both ways until either side closes.
//
// Why not @fastify/http-proxy's WebSocket proxy: its upstream is fixed per
// route prefix and it answers upgrades from its own 'upgrade' listener, next
// to @fastify/websocket's; ours is picked per call after auth and an
// asynchronous directory lookup, on a route that is served locally for the
// calls this node owns. The relay is ws on both sides: @fastify/websocket's
// server socket and a ws client socket.
import WebSocket from 'ws';
import type { RawData } from 'ws';

const PIPE_TIMEOUT_MS = 10_000;

/** Close codes a server may send (ws refuses 1004-1006 and 1015). */
function sendableCode(code: number): number {
  if (code === 1005) return 1000; // no status: a normal close
  if (code === 1006) return 1014; // upstream gone abnormally: "bad gateway"
  if ((code >= 1000 && code <= 1014 && code !== 1004) || (code >= 3000 && code <= 4999)) return code;
  return 1011;
}

export class RelayRefused extends Error {
  constructor(readonly status: number, readonly body: unknown) {
    super(`owner answered ${status}`);
  }
}

export class WsRelay {
  private readonly queue: Array<{ data: RawData; binary: boolean }> = [];
  private client?: WebSocket;
  private closed = false;

  private constructor(private readonly upstream: WebSocket) {
    upstream.on('message', (data, binary) => {
      if (this.client) forward(this.client, data, binary);
      else this.queue.push({ data, binary });
    });
    // The client's upgrade should follow at once; if it never does, let go.
    setTimeout(() => { if (!this.client) this.close(); }, PIPE_TIMEOUT_MS).unref();
  }

  /**
   * Opens url with headers; resolves once the owner accepted. Rejects with
   * RelayRefused when the owner answers the upgrade with an HTTP status, or
   * the connection error.
   */
  static open(url: string, headers: Record<string, string>, timeoutMs: number): Promise<WsRelay> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers, handshakeTimeout: timeoutMs, perMessageDeflate: false });
      ws.once('open', () => {
        ws.removeAllListeners('error');
        ws.on('error', () => undefined); // the close event follows
        resolve(new WsRelay(ws));
      });
      ws.once('unexpected-response', (_req, res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let body: unknown = Buffer.concat(chunks).toString('utf8');
          try { body = JSON.parse(body as string); } catch { /* text */ }
          reject(new RelayRefused(res.statusCode ?? 502, body));
        });
        res.on('error', () => reject(new RelayRefused(res.statusCode ?? 502, null)));
      });
      ws.once('error', reject);
    });
  }

  /** Relays to and from the client socket (messages the owner sent meanwhile go first). */
  pipe(client: WebSocket): void {
    this.client = client;
    for (const m of this.queue.splice(0)) forward(client, m.data, m.binary);
    const up = this.upstream;
    if (up.readyState !== WebSocket.OPEN) {
      this.closeClient(1014, 'owner gone');
      return;
    }
    client.on('message', (data, binary) => forward(up, data, binary));
    client.on('close', () => this.close());
    client.on('error', () => undefined);
    up.on('close', (code, reason) => this.closeClient(sendableCode(code), reason.toString('utf8').slice(0, 120)));
  }

  /** Ends both sides (the client is gone, or the relay was never piped). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.upstream.readyState === WebSocket.OPEN || this.upstream.readyState === WebSocket.CONNECTING) {
      this.upstream.close(1000);
    }
  }

  private closeClient(code: number, reason: string): void {
    this.closed = true;
    const c = this.client;
    if (c && (c.readyState === WebSocket.OPEN || c.readyState === WebSocket.CONNECTING)) c.close(code, reason);
  }
}

function forward(to: WebSocket, data: RawData, binary: boolean): void {
  if (to.readyState !== WebSocket.OPEN) return;
  try { to.send(data, { binary }); } catch { /* its close handler runs */ }
}
