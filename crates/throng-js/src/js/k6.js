// k6: check, group, sleep, fail, randomSeed (over throng's natives, `__n`)
const N = globalThis.__n;
export function check(val, sets, tags) {
  let all = true;
  for (const name of Object.keys(sets || {})) {
    const f = sets[name];
    let ok;
    if (typeof f === 'function') {
      try { ok = !!f(val); } catch (e) { N.log('error', 'check ' + name + ': ' + e); ok = false; }
    } else {
      ok = !!f;
    }
    N.check(name, ok, tags || null);
    if (!ok) all = false;
  }
  return all;
}
export function group(name, fn) {
  N.groupEnter(String(name));
  try { return fn(); } finally { N.groupExit(); }
}
export function sleep(s) { N.sleep(Number(s)); }
export function fail(msg) { throw new Error(msg === undefined ? 'fail' : String(msg)); }
// Math.random from a seed (mulberry32): the same seed gives the same sequence
export function randomSeed(seed) {
  let s = Number(seed) >>> 0;
  Math.random = function () {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
export default { check, group, sleep, fail, randomSeed };
