// A local module of examples/k6-api-tour.js: an HS256 JWT signed with k6/crypto.
import crypto from 'k6/crypto';
import encoding from 'k6/encoding';

const part = (o) => encoding.b64encode(JSON.stringify(o), 'rawurl');

export function hs256(claims, secret) {
  const signed = part({ alg: 'HS256', typ: 'JWT' }) + '.' + part(claims);
  return signed + '.' + crypto.hmac('sha256', secret, signed, 'base64rawurl');
}
