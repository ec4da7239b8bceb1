// k6/crypto: hashes, HMACs and random bytes (natives over RustCrypto)
const N = globalThis.__n;
class Hasher {
  constructor(alg, key) { this.alg = String(alg); this.key = key; this.parts = []; }
  update(data) { this.parts.push(data); return this; }
  digest(enc) { return N.digest(this.alg, this.key, this.parts, enc === undefined ? 'binary' : String(enc)); }
}
export function createHash(alg) { return new Hasher(alg, null); }
export function createHMAC(alg, key) { return new Hasher(alg, key); }
export function hmac(alg, key, data, enc) { return N.digest(String(alg), key, [data], String(enc)); }
const one = (alg) => (data, enc) => N.digest(alg, null, [data], String(enc));
export const md4 = one('md4');
export const md5 = one('md5');
export const ripemd160 = one('ripemd160');
export const sha1 = one('sha1');
export const sha256 = one('sha256');
export const sha384 = one('sha384');
export const sha512 = one('sha512');
export const sha512_224 = one('sha512_224');
export const sha512_256 = one('sha512_256');
export function randomBytes(n) { return N.randomBytes(Number(n)); }
export default { createHash, createHMAC, hmac, md4, md5, ripemd160, sha1, sha256, sha384, sha512, sha512_224, sha512_256, randomBytes };
