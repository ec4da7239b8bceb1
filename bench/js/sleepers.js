// 1,000 VUs, http.get + sleep(1) for 10 s (goal: peak RSS <= 0.25x k6's)
import http from 'k6/http';
import { sleep } from 'k6';
export const options = {
  vus: Number(__ENV.VUS || 1000),
  duration: __ENV.DURATION || '10s',
  discardResponseBodies: true,
};
export default function () { http.get(__ENV.URL); sleep(1); }
