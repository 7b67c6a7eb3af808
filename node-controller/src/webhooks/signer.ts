// Webhook signatures as LiveKit signs its webhooks: the Authorization header
// holds an HS256 JWT (key WEBHOOK_SECRET, issuer WEBHOOK_KEY: LiveKit's API
// key) whose `sha256` claim is the base64 SHA-256 of the exact body bytes; it
// expires after 5 minutes. LiveKit's WebhookReceiver(WEBHOOK_KEY,
// WEBHOOK_SECRET).receive(body, authorization) accepts it as is.
import { createHash } from 'node:crypto';
import { createSigner, createVerifier } from 'fast-jwt';

export const TOKEN_TTL_MS = 5 * 60_000;

export function bodyHash(body: string | Buffer): string {
  return createHash('sha256').update(body).digest('base64');
}

/** -> sign(body): the Authorization header value for that body. */
export function webhookSigner(secret: string, key: string): (body: string) => string {
  const sign = createSigner({ key: secret, algorithm: 'HS256', iss: key, expiresIn: TOKEN_TTL_MS });
  return (body) => sign({ sha256: bodyHash(body) });
}

/**
 * The receiver's side (tests, and an example for the app backend): verifies
 * the token (HS256 only, issuer, expiry) and that its sha256 claim is the
 * body's hash. Throws on any mismatch.
 */
export function webhookVerifier(secret: string, key: string): (body: string | Buffer, authorization: string | undefined) => void {
  const verify = createVerifier({ key: secret, algorithms: ['HS256'], allowedIss: key });
  return (body, authorization) => {
    if (!authorization) throw new Error('no Authorization header');
    const claims = verify(authorization) as { sha256?: unknown };
    if (claims.sha256 !== bodyHash(body)) throw new Error('sha256 claim does not match the body');
  };
}
