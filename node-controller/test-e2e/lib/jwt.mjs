// Tokens for the end-to-end tests, minted with the controller's JWT_SECRET by
// fast-jwt (the library @fastify/jwt itself signs and verifies with).
import { createSigner } from 'fast-jwt';

/** signJwt({sub, callId, role?}, secret, {expiresInSec}) -> an HS256 JWT with iat and exp. */
export function signJwt(claims, secret, { expiresInSec = 3600 } = {}) {
  return createSigner({ key: secret, algorithm: 'HS256', expiresIn: expiresInSec * 1000 })(claims);
}
