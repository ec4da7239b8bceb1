// k6/http over throng's HTTP client (`__n.http` suspends the VU while the request runs)
const N = globalThis.__n;
function path(v, sel) {
  for (const part of String(sel).split('.')) {
    if (v === null || v === undefined) return undefined;
    if (part === '#' && Array.isArray(v)) return v.length;
    v = v[part];
  }
  return v;
}
export class Response {
  constructor(r) { Object.assign(this, r); }
  json(selector) {
    if (this.body === null || this.body === undefined) throw new Error('the response has no body');
    const v = JSON.parse(this.body);
    return selector === undefined ? v : path(v, selector);
  }
}
function form(o) {
  return Object.keys(o).map((k) => encodeURIComponent(k) + '=' + encodeURIComponent(o[k])).join('&');
}
export function request(method, url, body, params) {
  const p = params || {};
  let b = null;
  let ct = null;
  if (body !== null && body !== undefined) {
    if (typeof body === 'object') { b = form(body); ct = 'application/x-www-form-urlencoded'; }
    else b = String(body);
  }
  return new Response(N.http(String(method).toUpperCase(), String(url), b, ct, p));
}
export function get(url, params) { return request('GET', url, null, params); }
export function head(url, params) { return request('HEAD', url, null, params); }
export function options(url, body, params) { return request('OPTIONS', url, body, params); }
export function post(url, body, params) { return request('POST', url, body, params); }
export function put(url, body, params) { return request('PUT', url, body, params); }
export function patch(url, body, params) { return request('PATCH', url, body, params); }
export function del(url, body, params) { return request('DELETE', url, body, params); }
export function expectedStatuses(...args) {
  const r = [];
  for (const a of args) {
    if (typeof a === 'number') r.push([a, a]);
    else if (a && typeof a.min === 'number' && typeof a.max === 'number') r.push([a.min, a.max]);
    else throw new TypeError('expectedStatuses takes status numbers or {min, max}');
  }
  return { __statuses: r };
}
export function setResponseCallback(cb) {
  N.expected(cb && cb.__statuses ? cb.__statuses : null);
}
export default { request, get, head, options, post, put, patch, del, expectedStatuses, setResponseCallback };
