// k6 scenarios with `exec`, setup() data handed to every VU, and teardown (about 3 s):
//   throng serve-demo &
//   throng run examples/k6-scenarios.js -e BASE=http://127.0.0.1:8080
import http from 'k6/http';
import { check, group } from 'k6';
import exec from 'k6/execution';
import { Counter } from 'k6/metrics';

const BASE = __ENV.BASE || 'http://127.0.0.1:8080';
const pages = new Counter('pages');

export const options = {
  scenarios: {
    readers: {
      executor: 'constant-arrival-rate',
      exec: 'read',
      rate: 20,
      timeUnit: '1s',
      duration: '2s',
      preAllocatedVUs: 2,
      maxVUs: 10,
    },
    writers: {
      executor: 'per-vu-iterations',
      exec: 'write',
      vus: 2,
      iterations: 5,
    },
  },
  thresholds: {
    'checks{scenario:readers}': ['rate>0.99'],
    'http_reqs{scenario:writers}': ['count==10'],
  },
};

export function setup() {
  const res = http.post(`${BASE}/api/v1/login`, JSON.stringify({ username: 'reader', password: 'secret' }), {
    headers: { 'Content-Type': 'application/json' },
  });
  return { token: res.json('token') };
}

export function read(data) {
  group('browse', () => {
    const res = http.get(`${BASE}/api/v1/items/${(exec.scenario.iterationInTest % 500) + 1}`, {
      headers: { Authorization: `Bearer ${data.token}` },
      tags: { name: 'item' },
    });
    check(res, { 'item is 200': (r) => r.status === 200 });
    pages.add(1);
  });
}

export function write() {
  http.post(`${BASE}/api/v1/ingest`, JSON.stringify({ source: 'writer', message: `vu ${exec.vu.idInTest}` }), {
    headers: { 'Content-Type': 'application/json', 'X-API-KEY': 'test-api-key' },
    tags: { name: 'ingest' },
  });
}

export function teardown(data) {
  console.log(`done; token was ${data.token ? 'set' : 'missing'}`);
}
