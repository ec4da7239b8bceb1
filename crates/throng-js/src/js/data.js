// k6/data: SharedArray — one copy of the rows for all VUs, kept by throng (Rust side);
// a VU reads a row through this proxy, which parses it when read
const N = globalThis.__n;
const INDEX = /^(0|[1-9][0-9]*)$/;
export class SharedArray {
  constructor(name, fn) {
    if (typeof fn !== 'function') throw new TypeError('SharedArray needs a function that returns an array');
    const id = String(name);
    const len = N.sharedArray(id, fn);
    // a frozen, empty array of the right length: Array.isArray, length and isFrozen hold
    const target = Object.freeze(new Array(len));
    const row = (i) => {
      const v = N.sharedRow(id, i);
      return v !== null && typeof v === 'object' ? Object.freeze(v) : v;
    };
    return new Proxy(target, {
      get(t, k, recv) {
        if (typeof k === 'string' && INDEX.test(k)) return Number(k) < len ? row(Number(k)) : undefined;
        if (k === Symbol.iterator) return function* () { for (let i = 0; i < len; i++) yield row(i); };
        return Reflect.get(t, k, recv);
      },
      has(t, k) { return (typeof k === 'string' && INDEX.test(k) && Number(k) < len) || Reflect.has(t, k); },
      set() { throw new TypeError('SharedArray is read-only'); },
    });
  }
}
export default { SharedArray };
