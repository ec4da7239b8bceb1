// k6/http over throng's HTTP client (`__n.http` suspends the VU while the request runs)
const N = globalThis.__n;
// batch, multipart, cookies and auth: compiled on first use (a VU that needs none of them
// does not pay for their bytecode)
let extra;
function X() { return extra || (extra = N.httpExtra()(N, Response, form)); }
function path(v, sel) {
  for (const part of String(sel).split('.')) {
    if (v === null || v === undefined) return undefined;
    if (part === '#' && Array.isArray(v)) return v.length;
    v = v[part];
  }
  return v;
}
export class Response {
  // `a` is the natives' compact answer (no property names to hash per request); the
  // rest is read from it when first asked for (few properties made per response)
  constructor(a, method, url) {
    this.status = a[0];
    this.body = a[3];
    this._a = a;
    this._m = method;
    this._u = url;
  }
  get url() { return this._a[1]; }
  get proto() { return this._a[2]; }
  get error() { return this._a[4]; }
  get error_code() { return this._a[5]; }
  get timings() {
    const a = this._a;
    if (a[13] === undefined) {
      a[13] = {
        duration: a[9] + a[10] + a[11], blocked: a[6], connecting: a[7], tls_handshaking: a[8],
        sending: a[9], waiting: a[10], receiving: a[11],
      };
    }
    return a[13];
  }
  get request() { return { method: this._m, url: this._u }; }
  get headers() {
    const a = this._a;
    if (a[14] === undefined) {
      // "Name: value" lines
      const h = {};
      const text = a[12];
      if (text) {
        for (const line of text.split('\n')) {
          const i = line.indexOf(': ');
          h[line.slice(0, i)] = line.slice(i + 2);
        }
      }
      a[14] = h;
    }
    return a[14];
  }
  // k6's res.cookies: the response's Set-Cookie headers by name
  get cookies() { return this._cookies || (this._cookies = X().cookiesOf(this._a[12])); }
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
  const p = params || null;
  const m = String(method).toUpperCase();
  const u = String(url);
  // the common case allocates nothing more: a text body, no cookies, auth or user:pass@
  if ((body === null || body === undefined || typeof body === 'string')
    && (p === null || (p.cookies === undefined && p.auth === undefined)) && u.indexOf('@') < 0) {
    return new Response(N.http(m, u, body === undefined ? null : body, null, p), m, u);
  }
  const a = X().args(m, u, body, p || {});
  return new Response(N.http(a[0], a[1], a[2], a[3], a[4]), a[0], a[1]);
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
export function batch(reqs) { return X().batch(reqs); }
export function file(data, filename, contentType) { return X().file(data, filename, contentType); }
export function cookieJar() { return X().jar; }
// `new http.CookieJar()`: a jar of the VU's own, for requests given `{ jar }`
export function CookieJar() { return new (X().CookieJar)(); }
export default { request, batch, file, get, head, options, post, put, patch, del, expectedStatuses, setResponseCallback, cookieJar, CookieJar };
