// k6 on the same workload: N VUs in a tight loop, bodies discarded.
import http from 'k6/http';
import { sleep } from 'k6';

export const options = {
  vus: Number(__ENV.VUS || 50),
  duration: __ENV.DURATION || '8s',
  discardResponseBodies: true,
  summaryTrendStats: ['med', 'p(99)'],
};

export default function () {
  http.get(__ENV.URL);
  if (__ENV.SLEEP) sleep(Number(__ENV.SLEEP));
}
