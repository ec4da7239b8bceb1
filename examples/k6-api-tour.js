// k6 APIs beyond the basics, run unchanged by throng (about 2 seconds):
//   throng serve-demo &
//   throng run examples/k6-api-tour.js -e BASE=http://127.0.0.1:8080
// A local module signing a JWT with k6/crypto (the demo verifies it), a SharedArray read
// from a CSV (one copy for all VUs), http.batch, the cookie jar, randomSeed, and
// handleSummary with the k6-summary jslib (built into throng: nothing is fetched).
import http from 'k6/http';
import { check, group, randomSeed } from 'k6';
import { SharedArray } from 'k6/data';
import { textSummary } from 'https://jslib.k6.io/k6-summary/0.0.2/index.js';
import { hs256 } from './k6lib/jwt.js';

const BASE = __ENV.BASE || 'http://127.0.0.1:8080';
const SECRET = __ENV.JWT_SECRET || 'throng-demo-secret';

const users = new SharedArray('users', () =>
  open('./data/users.csv').trim().split('\n').slice(1).map((line) => line.split(',')),
);

export const options = {
  scenarios: { tour: { executor: 'per-vu-iterations', vus: 3, iterations: 4 } },
  thresholds: { checks: ['rate==1'], http_req_failed: ['rate==0'] },
  summaryTrendStats: ['avg', 'p(95)', 'p(99)', 'max'],
};

export default function () {
  randomSeed(__VU);
  const user = users[Math.floor(Math.random() * users.length)];
  const token = hs256({ sub: user[0], exp: Math.floor(Date.now() / 1000) + 3600 }, SECRET);
  const auth = { headers: { Authorization: `Bearer ${token}` } };
  group('verify a token', () => {
    const r = http.get(`${BASE}/api/v1/verify`, auth);
    check(r, { 'token accepted': (x) => x.status === 200 && x.json('valid') === true });
  });
  group('batch', () => {
    const [health, items] = http.batch([
      `${BASE}/health`,
      ['GET', `${BASE}/api/v1/items`, null, auth],
    ]);
    check(health, { 'health 200': (x) => x.status === 200 });
    check(items, { 'items 200': (x) => x.status === 200 });
  });
  const jar = http.cookieJar();
  jar.set(BASE, 'session', `vu${__VU}`);
  check(jar.cookiesForURL(BASE), { 'cookie kept': (c) => c.session[0] === `vu${__VU}` });
}

export function handleSummary(data) {
  return { stdout: textSummary(data, { indent: ' ', enableColors: false }) };
}
