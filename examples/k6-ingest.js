// A k6 script, run unchanged by throng (about 4 seconds):
//   throng serve-demo &
//   throng run examples/k6-ingest.js -e BASE=http://127.0.0.1:8080
// Ramping stages posting JSON built from __VU/__ITER and the time, two checks, a custom
// Rate added on failed checks, thresholds on the built-in metrics and on the Rate.
import http from 'k6/http';
import { check, sleep } from 'k6';
import { Rate } from 'k6/metrics';

const BASE = __ENV.BASE || 'http://127.0.0.1:8080';
export const errors = new Rate('errors');

export const options = {
  stages: [
    { duration: '1s', target: 5 },
    { duration: '2s', target: 5 },
    { duration: '1s', target: 0 },
  ],
  thresholds: {
    http_req_duration: ['p(95)<500'],
    http_req_failed: ['rate<0.01'],
    errors: ['rate<0.01'],
  },
};

export default function () {
  const payload = JSON.stringify({
    source: 'k6-script',
    message: `event ${__VU}-${__ITER}`,
    at: new Date().toISOString(),
  });
  const res = http.post(`${BASE}/api/v1/ingest`, payload, {
    headers: { 'Content-Type': 'application/json', 'X-API-KEY': 'test-api-key' },
    tags: { name: 'ingest' },
  });
  const ok = check(res, {
    'status is 200': (r) => r.status === 200,
    'under 500ms': (r) => r.timings.duration < 500,
  });
  errors.add(!ok);
  sleep(0.1);
}
