// k6/execution: what this VU, iteration and scenario are
const N = globalThis.__n;
const exec = {
  get vu() {
    const i = N.info();
    return { idInTest: i.vu, idInInstance: i.vu, iterationInScenario: i.iter, iterationInInstance: i.iter };
  },
  get scenario() {
    const i = N.info();
    return { name: i.scenario, iterationInTest: i.scenarioIter, iterationInInstance: i.scenarioIter, executor: i.executor };
  },
  test: { abort(msg) { N.abort(msg === undefined ? null : String(msg)); } },
};
export default exec;
