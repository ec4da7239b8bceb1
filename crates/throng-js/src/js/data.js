// k6/data: SharedArray (for now each VU holds its own frozen copy)
export class SharedArray {
  constructor(name, fn) {
    if (typeof fn !== 'function') throw new TypeError('SharedArray needs a function that returns an array');
    const a = fn();
    if (!Array.isArray(a)) throw new TypeError('SharedArray: the function must return an array');
    this.name = name;
    return Object.freeze(a.map((x) => Object.freeze(x)));
  }
}
export default { SharedArray };
