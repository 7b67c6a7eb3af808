#!/usr/bin/env node
// Mints an HS256 JWT for local work.
//
//   node scripts/mint-token.mjs --call call_abc123 --user alice        a participant token
//   node scripts/mint-token.mjs --service --user backend               a service token (any call)
//   options: --secret S (default $JWT_SECRET or the dev secret), --ttl SECONDS (default 3600)
import crypto from 'node:crypto';
import { parseArgs } from 'node:util';

export const DEV_SECRET = 'dev-secret-change-me';

const b64url = (buf) => Buffer.from(buf).toString('base64url');

/** mintToken({secret, sub, callId?, role?, ttlSeconds?, now?}) -> compact JWS (HS256). */
export function mintToken({ secret, sub, callId, role, ttlSeconds = 3600, now = Math.floor(Date.now() / 1000), extra = {} }) {
  const header = { alg: 'HS256', typ: 'JWT' };
  const payload = { sub, ...(callId ? { callId } : {}), ...(role ? { role } : {}), iat: now, exp: now + ttlSeconds, ...extra };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const sig = crypto.createHmac('sha256', secret).update(input).digest();
  return `${input}.${b64url(sig)}`;
}

const isMain = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const { values } = parseArgs({
    options: {
      call: { type: 'string' },
      user: { type: 'string' },
      service: { type: 'boolean', default: false },
      secret: { type: 'string' },
      ttl: { type: 'string', default: '3600' },
    },
  });
  if (!values.user || (!values.call && !values.service)) {
    console.error('usage: mint-token.mjs --user ID (--call CALL_ID | --service) [--secret S] [--ttl SECONDS]');
    process.exit(2);
  }
  process.stdout.write(`${mintToken({
    secret: values.secret ?? process.env.JWT_SECRET ?? DEV_SECRET,
    sub: values.user,
    callId: values.call,
    role: values.service ? 'service' : undefined,
    ttlSeconds: Number(values.ttl),
  })}\n`);
}
