// A webhook receiver for the tests: an HTTP server on loopback that checks
// every delivery's signature (the controller's own verifier and an
// independent HMAC/SHA-256 check), can fail deliveries on purpose, and keeps
// what it accepted deduplicated by id, as an app backend should.
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { webhookVerifier } from '../src/webhooks/signer';

export interface Attempt {
  id: string;
  body: string;
  event: any;
  authorization: string | undefined;
  contentType: string | undefined;
  attempt: number;
  /** What the receiver answered: 200, a failure status, or 'slow' (answered after the sender's timeout). */
  answer: number | 'slow';
  signatureOk: boolean;
  signatureError?: string;
  at: number;
}

export type Behaviour = (a: { n: number; id: string; event: any; attempt: number }) => number | 'slow';

export interface Receiver {
  url: string;
  attempts: Attempt[];
  /** Accepted (2xx) events, first delivery of each id only, in arrival order. */
  accepted: any[];
  /** Ids accepted more than once (a retry after an answer the sender did not get). */
  redelivered: string[];
  behaviour: Behaviour;
  waitFor(pred: (accepted: any[]) => boolean, ms?: number, what?: string): Promise<void>;
  close(): Promise<void>;
}

const b64url = (b: Buffer) => b.toString('base64url');

/** Independent of fast-jwt: HS256 signature, iss, exp, and sha256 = base64(SHA-256(body)). */
export function checkByHand(token: string, body: string, secret: string, key: string): string | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return 'not a JWT';
  const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString());
  if (header.alg !== 'HS256') return `alg ${header.alg}`;
  const sig = b64url(crypto.createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest());
  if (sig !== parts[2]) return 'bad signature';
  const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
  if (claims.iss !== key) return `iss ${claims.iss}`;
  if (!(claims.exp * 1000 > Date.now())) return 'expired';
  if (claims.sha256 !== crypto.createHash('sha256').update(body).digest('base64')) return 'sha256 mismatch';
  return undefined;
}

export async function startReceiver(secret: string, key: string, behaviour: Behaviour = () => 200, slowMs = 1500): Promise<Receiver> {
  const verify = webhookVerifier(secret, key);
  const attempts: Attempt[] = [];
  const seen = new Set<string>();
  const accepted: any[] = [];
  const redelivered: string[] = [];
  let n = 0;
  const r: Receiver = {
    url: '',
    attempts,
    accepted,
    redelivered,
    behaviour,
    async waitFor(pred, ms = 10_000, what = 'webhooks') {
      const end = Date.now() + ms;
      while (!pred(accepted)) {
        if (Date.now() > end) {
          throw new Error(`${what}: not within ${ms} ms; accepted ${JSON.stringify(accepted.map((e) => `${e.callId}:${e.seq}:${e.event}`))}`);
        }
        await new Promise((res) => setTimeout(res, 20));
      }
    },
    close: () => new Promise<void>((res) => { server.closeAllConnections(); server.close(() => res()); }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let event: any = null;
      try { event = JSON.parse(body); } catch { /* recorded as is */ }
      const authorization = req.headers.authorization;
      let signatureError: string | undefined;
      try {
        verify(body, authorization);
        signatureError = checkByHand(authorization!, body, secret, key);
      } catch (err) {
        signatureError = (err as Error).message;
      }
      const attempt = Number(req.headers['x-sfu-webhook-attempt'] ?? 0);
      const answer = signatureError ? 401 : r.behaviour({ n: n++, id: event?.id, event, attempt });
      attempts.push({
        id: event?.id, body, event, authorization, contentType: req.headers['content-type'], attempt, answer,
        signatureOk: !signatureError, signatureError, at: Date.now(),
      });
      const accept = () => {
        if (seen.has(event.id)) redelivered.push(event.id);
        else { seen.add(event.id); accepted.push(event); }
      };
      if (answer === 'slow') {
        // Processed, but the answer comes after the sender gave up: it sends again (same id).
        accept();
        setTimeout(() => { if (!res.destroyed) res.writeHead(200).end(); }, slowMs);
        return;
      }
      if (answer >= 200 && answer < 300) accept();
      res.writeHead(answer, answer === 503 ? { 'retry-after': '0' } : {}).end();
    });
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/sfu`;
  return r;
}
