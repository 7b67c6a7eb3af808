// ICE servers for RTC-01: STUN URLs as they are, TURN URLs with time-limited
// credentials in coturn's TURN REST API scheme (turnserver --use-auth-secret
// --static-auth-secret=TURN_SECRET): username "<expiry unix time>:<userId>",
// password base64(HMAC-SHA1(secret, username)). coturn recomputes the
// password from the username and refuses it after the expiry; nothing is
// stored anywhere. A credential must outlive the call (coturn checks it
// again on every allocation refresh), hence TURN_TTL_S (default 24 h).
import { createHmac } from 'node:crypto';
import type { TurnConfig } from './config';

export interface IceServer {
  urls: string[];
  username?: string;
  credential?: string;
}

export function turnCredential(secret: string, userId: string, expiresAtS: number): { username: string; credential: string } {
  const username = `${expiresAtS}:${userId}`;
  return { username, credential: createHmac('sha1', secret).update(username).digest('base64') };
}

/** The iceServers a participant gets (RTCPeerConnection / mediasoup-client transport option). */
export function iceServersFor(turn: TurnConfig | undefined, userId: string, nowMs = Date.now()): IceServer[] {
  if (!turn) return [];
  const out: IceServer[] = [];
  if (turn.stunUrls.length > 0) out.push({ urls: [...turn.stunUrls] });
  if (turn.turnUrls.length > 0 && turn.secret) {
    out.push({ urls: [...turn.turnUrls], ...turnCredential(turn.secret, userId, Math.floor(nowMs / 1000) + turn.ttlS) });
  }
  return out;
}
