// globals every k6 script sees: console, open, __VU, __ITER (bound to `__n`, which acts for
// the VU running now: the VUs of a context share these)
(function () {
  const N = globalThis.__n;
  const fmt = (args) => args.map((a) => (typeof a === 'string' ? a : (() => { try { return JSON.stringify(a); } catch (e) { return String(a); } })())).join(' ');
  globalThis.console = {
    log: (...a) => N.log('info', fmt(a)),
    info: (...a) => N.log('info', fmt(a)),
    debug: (...a) => N.log('debug', fmt(a)),
    warn: (...a) => N.log('warn', fmt(a)),
    error: (...a) => N.log('error', fmt(a)),
  };
  Object.defineProperty(globalThis, '__VU', { get: () => N.vu(), configurable: true });
  Object.defineProperty(globalThis, '__ITER', { get: () => N.iter(), configurable: true });
  globalThis.open = (file, mode) => N.open(String(file), mode === undefined ? null : String(mode));
})();
