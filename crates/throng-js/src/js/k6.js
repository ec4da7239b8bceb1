// k6: check, group, sleep, fail, randomSeed (over throng's natives, `__n`)
const N = globalThis.__n;
export function check(val, sets, tags) {
  let all = true;
  for (const name of Object.keys(sets || {})) {
    const f = sets[name];
    let ok;
    if (typeof f === 'function') {
      // as k6: an exception in a check's function ends the iteration (the check is not counted)
      ok = !!f(val);
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
// Math.random from a seed (mulberry32, kept per VU by the natives): every VU seeded alike
// draws the same sequence
let seeded = false;
export function randomSeed(seed) {
  N.seed(Number(seed));
  if (!seeded) {
    seeded = true;
    Math.random = () => N.random();
  }
}
export default { check, group, sleep, fail, randomSeed };
