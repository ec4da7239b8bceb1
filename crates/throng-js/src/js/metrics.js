// k6/metrics: custom metrics recorded in throng's registry
const N = globalThis.__n;
class Metric {
  constructor(kind, name, isTime) {
    this.name = String(name);
    this._id = N.metric(this.name, kind, !!isTime);
  }
  add(value, tags) { N.add(this._id, Number(value), tags || null); }
}
export class Counter extends Metric { constructor(name, isTime) { super('counter', name, isTime); } }
export class Gauge extends Metric { constructor(name, isTime) { super('gauge', name, isTime); } }
export class Rate extends Metric { constructor(name) { super('rate', name, false); } }
export class Trend extends Metric { constructor(name, isTime) { super('trend', name, isTime); } }
export default { Counter, Gauge, Rate, Trend };
