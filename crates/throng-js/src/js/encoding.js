// k6/encoding: base64 (std, rawstd, url, rawurl)
const STD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
function bytesOf(input) {
  if (typeof input === 'string') {
    const bin = unescape(encodeURIComponent(input));
    const out = new Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  if (input instanceof ArrayBuffer) return Array.from(new Uint8Array(input));
  if (ArrayBuffer.isView(input)) return Array.from(new Uint8Array(input.buffer, input.byteOffset, input.byteLength));
  throw new TypeError('b64encode takes a string or an ArrayBuffer');
}
export function b64encode(input, encoding) {
  const enc = encoding || 'std';
  const abc = enc.indexOf('url') >= 0 ? URL : STD;
  const pad = !enc.startsWith('raw');
  const b = bytesOf(input);
  let s = '';
  for (let i = 0; i < b.length; i += 3) {
    const n = (b[i] << 16) | ((b[i + 1] || 0) << 8) | (b[i + 2] || 0);
    s += abc[(n >> 18) & 63] + abc[(n >> 12) & 63];
    s += i + 1 < b.length ? abc[(n >> 6) & 63] : (pad ? '=' : '');
    s += i + 2 < b.length ? abc[n & 63] : (pad ? '=' : '');
  }
  return s;
}
export function b64decode(input, encoding, format) {
  const enc = encoding || 'std';
  const abc = enc.indexOf('url') >= 0 ? URL : STD;
  const s = String(input).replace(/=+$/, '');
  const out = [];
  let bits = 0;
  let n = 0;
  for (const c of s) {
    const v = abc.indexOf(c);
    if (v < 0) throw new Error('b64decode: not base64 (' + enc + '): ' + c);
    n = (n << 6) | v;
    bits += 6;
    if (bits >= 8) { bits -= 8; out.push((n >> bits) & 255); }
  }
  if (format === 's') return decodeURIComponent(escape(String.fromCharCode(...out)));
  return new Uint8Array(out).buffer;
}
export default { b64encode, b64decode };
