// HS256 JSON Web Tokens with node:crypto only, for the end-to-end test (it
// mints tokens with the controller's JWT_SECRET) and the stand-in server.
// The real controller verifies with a maintained library; these tokens are
// plain RFC 7519 JWTs, so both agree.
import crypto from 'node:crypto';

const b64url = (buf) => Buffer.from(buf).toString('base64url');

/** sign({sub, callId, role?}, secret, {expiresInSec}) -> "h.p.s" (adds iat and exp). */
export function signJwt(claims, secret, { expiresInSec = 3600, now = Math.floor(Date.now() / 1000) } = {}) {
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = b64url(JSON.stringify({ iat: now, exp: now + expiresInSec, ...claims }));
  const sig = crypto.createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${sig}`;
}

/** verify(token, secret) -> claims, or throws Error (message says why). */
export function verifyJwt(token, secret) {
  const parts = typeof token === 'string' ? token.split('.') : [];
  if (parts.length !== 3) throw new Error('malformed token');
  let header;
  let claims;
  try {
    header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    throw new Error('malformed token');
  }
  if (header.alg !== 'HS256') throw new Error('unsupported alg');
  const want = crypto.createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest();
  const got = Buffer.from(parts[2], 'base64url');
  if (got.length !== want.length || !crypto.timingSafeEqual(got, want)) throw new Error('bad signature');
  if (typeof claims.exp === 'number' && claims.exp <= Date.now() / 1000) throw new Error('token expired');
  if (typeof claims.sub !== 'string' || !claims.sub) throw new Error('token has no sub');
  return claims;
}
