// k6/http's less common parts, evaluated by `__n.httpExtra()` on first use:
// batch, multipart bodies, the cookie jar, params.cookies and params.auth
(function (N, Response, form) {
// k6's http.file(data, filename, contentType): a part of a multipart body
class FileData {
  constructor(data, filename, contentType) {
    this.data = data;
    this.filename = filename === undefined ? 'file' : String(filename);
    this.content_type = contentType === undefined ? 'application/octet-stream' : String(contentType);
  }
}
function parseSetCookie(text) {
  const parts = String(text).split(';');
  const eq = parts[0].indexOf('=');
  if (eq < 0) return null;
  const c = { name: parts[0].slice(0, eq).trim(), value: parts[0].slice(eq + 1).trim(), domain: '', path: '',
    http_only: false, secure: false, max_age: 0, expires: 0 };
  for (const p of parts.slice(1)) {
    const i = p.indexOf('=');
    const k = (i < 0 ? p : p.slice(0, i)).trim().toLowerCase();
    const v = i < 0 ? '' : p.slice(i + 1).trim();
    if (k === 'domain') c.domain = v;
    else if (k === 'path') c.path = v;
    else if (k === 'httponly') c.http_only = true;
    else if (k === 'secure') c.secure = true;
    else if (k === 'max-age') c.max_age = Number(v) || 0;
    else if (k === 'expires') c.expires = Date.parse(v) || 0;
  }
  return c;
}
// the response's Set-Cookie headers by name, from the natives' "Name: value" lines
function cookiesOf(text) {
  const out = {};
  if (!text) return out;
  for (const line of text.split('\n')) {
    const i = line.indexOf(': ');
    if (line.slice(0, i).toLowerCase() === 'set-cookie') {
      const c = parseSetCookie(line.slice(i + 2));
      if (c) (out[c.name] = out[c.name] || []).push(c);
    }
  }
  return out;
}
function jarGet(url, id) {
  const out = {};
  const h = N.jar('get', String(url), null, id || 0);
  if (h) {
    for (const kv of h.split('; ')) {
      const i = kv.indexOf('=');
      const k = kv.slice(0, i);
      (out[k] = out[k] || []).push(kv.slice(i + 1));
    }
  }
  return out;
}
// k6's CookieJar: http.cookieJar() is the VU's own jar (emptied at the start of every
// iteration, as k6 does), `new http.CookieJar()` one of its own (kept until the VU ends),
// which requests use with `params.jar`
class CookieJar {
  constructor(id) { this._id = id === undefined ? N.newJar() : id; }
  cookiesForURL(url) { return jarGet(url, this._id); }
  set(url, name, value, opts) {
    const o = opts || {};
    let c = String(name) + '=' + String(value);
    if (o.domain) c += '; Domain=' + o.domain;
    if (o.path) c += '; Path=' + o.path;
    if (o.expires) c += '; Expires=' + o.expires;
    if (o.max_age) c += '; Max-Age=' + o.max_age;
    if (o.secure) c += '; Secure';
    if (o.http_only) c += '; HttpOnly';
    N.jar('set', String(url), c, this._id);
  }
  clear(url) { N.jar('clear', String(url), null, this._id); }
  delete(url, name) { N.jar('clear', String(url), String(name), this._id); }
}
const JAR = new CookieJar(0);
// params.cookies: sent with the jar's, a cookie given `replace: true` instead of the jar's
function withCookies(p, url) {
  const mine = p.cookies;
  if (!mine || typeof mine !== 'object') return p;
  const jar = jarGet(url, p.jar && p.jar._id);
  for (const k of Object.keys(mine)) {
    const c = mine[k];
    const v = c !== null && typeof c === 'object' ? String(c.value) : String(c);
    if (c !== null && typeof c === 'object' && c.replace) jar[k] = [v];
    else (jar[k] = jar[k] || []).push(v);
  }
  const header = [];
  for (const k of Object.keys(jar)) for (const v of jar[k]) header.push(k + '=' + v);
  const headers = Object.assign({}, p.headers || {}, { Cookie: header.join('; ') });
  return Object.assign({}, p, { headers });
}
// binary data (an ArrayBuffer or a view of one): the natives send its bytes
function binary(v) {
  return typeof ArrayBuffer !== 'undefined' && (v instanceof ArrayBuffer || ArrayBuffer.isView(v));
}
// an object body with a file in it is multipart/form-data, else a form
function encodeBody(body) {
  if (body === null || body === undefined) return [null, null];
  if (typeof body !== 'object' || binary(body)) {
    return [binary(body) ? body : String(body), null];
  }
  const keys = Object.keys(body);
  if (!keys.some((k) => body[k] instanceof FileData)) return [form(body), 'application/x-www-form-urlencoded'];
  const boundary = '----throng' + Math.floor(Math.random() * 1e16).toString(16) + Date.now().toString(16);
  // text and binary parts: the natives join them into one body
  const parts = [];
  let out = '';
  for (const k of keys) {
    const v = body[k];
    out += '--' + boundary + '\r\n';
    if (v instanceof FileData) {
      out += `Content-Disposition: form-data; name="${k}"; filename="${v.filename}"\r\nContent-Type: ${v.content_type}\r\n\r\n`;
      if (binary(v.data)) {
        parts.push(out, v.data);
        out = '\r\n';
      } else {
        out += String(v.data) + '\r\n';
      }
    } else {
      out += `Content-Disposition: form-data; name="${k}"\r\n\r\n${String(v)}\r\n`;
    }
  }
  out += '--' + boundary + '--\r\n';
  parts.push(out);
  return [parts.length === 1 ? out : parts, 'multipart/form-data; boundary=' + boundary];
}
// k6's params.auth 'basic' (user:pass@ in the URL) as an Authorization header
function withAuth(p, u) {
  const m = /^(https?:\/\/)([^/@]*)@(.*)$/.exec(u);
  if (!m || (p.auth !== undefined && p.auth !== 'basic')) {
    if (p.auth !== undefined && p.auth !== 'basic') throw new Error(`params.auth: only 'basic' is supported by throng (not ${p.auth})`);
    return [p, u];
  }
  const headers = Object.assign({}, p.headers || {}, { Authorization: 'Basic ' + b64(decodeURIComponent(m[2])) });
  return [Object.assign({}, p, { headers }), m[1] + m[3]];
}
function b64(s) {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const b = unescape(encodeURIComponent(s));
  let o = '';
  for (let i = 0; i < b.length; i += 3) {
    const n = (b.charCodeAt(i) << 16) | ((b.charCodeAt(i + 1) || 0) << 8) | (b.charCodeAt(i + 2) || 0);
    o += abc[(n >> 18) & 63] + abc[(n >> 12) & 63] + (i + 1 < b.length ? abc[(n >> 6) & 63] : '=') + (i + 2 < b.length ? abc[n & 63] : '=');
  }
  return o;
}
// [method, url, body, contentType, params] as the natives take them
function args(method, url, body, params) {
  let p = params || {};
  const [b, ct] = encodeBody(body);
  const m = String(method).toUpperCase();
  let u = String(url);
  if (u.indexOf('@') > 0) [p, u] = withAuth(p, u);
  else if (p.auth !== undefined && p.auth !== 'basic') throw new Error(`params.auth: only 'basic' is supported by throng (not ${p.auth})`);
  return [m, u, b, ct, withCookies(p, u)];
}
// k6's http.batch: an array or object of requests (a URL, [method, url, body, params] or
// {method, url, body, params}), sent in parallel; the responses in the same shape
function batch(reqs) {
  const one = (r) => {
    if (typeof r === 'string') return args('GET', r, null, null);
    if (Array.isArray(r)) return args(r[0], r[1], r[2], r[3]);
    return args(r.method || 'GET', r.url, r.body, r.params);
  };
  const keys = Array.isArray(reqs) ? null : Object.keys(reqs);
  const list = keys ? keys.map((k) => one(reqs[k])) : reqs.map(one);
  const raw = N.batch(list);
  const rs = raw.map((a, i) => new Response(a, list[i][0], list[i][1]));
  if (!keys) return rs;
  const out = {};
  keys.forEach((k, i) => { out[k] = rs[i]; });
  return out;
}
  const file = (data, filename, contentType) => new FileData(data, filename, contentType);
  return { args, batch, cookiesOf, file, jar: JAR, CookieJar };
})
