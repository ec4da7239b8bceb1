// 50 VUs, http.post of a JSON payload, two checks, a custom Rate (goal: >= 2.5x k6)
import http from 'k6/http';
import { check } from 'k6';
import { Rate } from 'k6/metrics';
const errors = new Rate('errors');
export const options = {
  scenarios: { s: { executor: 'shared-iterations', vus: 50, iterations: Number(__ENV.ITERS || 30000), maxDuration: '60s' } },
};
export default function () {
  const payload = JSON.stringify({ vu: __VU, iter: __ITER, at: new Date().toISOString() });
  const r = http.post(__ENV.URL + 'json', payload, { headers: { 'Content-Type': 'application/json' } });
  const ok = check(r, {
    'status is 200': (res) => res.status === 200,
    'fast enough': (res) => res.timings.duration < 1000,
  });
  errors.add(!ok);
}
