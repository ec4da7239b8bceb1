// 50 VUs, http.get, no sleep (issue 14's CPU goal: >= 3x k6 per CPU-second)
import http from 'k6/http';
export const options = {
  scenarios: { s: { executor: 'shared-iterations', vus: 50, iterations: Number(__ENV.ITERS || 60000), maxDuration: '60s' } },
  discardResponseBodies: true,
};
export default function () { http.get(__ENV.URL); }
