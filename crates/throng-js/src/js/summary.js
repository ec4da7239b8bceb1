// https://jslib.k6.io/k6-summary/*: textSummary, jUnit and humanizeValue, built into throng
// (the script's import of the URL resolves here; nothing is fetched)
function fmtTime(ms) {
  if (ms >= 60000) return (ms / 60000).toFixed(2) + 'm';
  if (ms >= 1000) return (ms / 1000).toFixed(2) + 's';
  if (ms >= 1) return ms.toFixed(2) + 'ms';
  return (ms * 1000).toFixed(2) + 'µs';
}
export function humanizeValue(val, metric, timeUnit) {
  if (metric.type === 'rate') return (Math.trunc(val * 100 * 100) / 100).toFixed(2) + '%';
  if (metric.contains === 'time') return fmtTime(val);
  if (metric.contains === 'data') {
    const u = ['B', 'kB', 'MB', 'GB', 'TB'];
    let i = 0;
    let v = val;
    while (v >= 1000 && i < u.length - 1) { v /= 1000; i++; }
    return (i === 0 ? String(v) : v.toFixed(1)) + ' ' + u[i];
  }
  return String(Math.round(val * 1e6) / 1e6);
}
function line(name, metric, stats) {
  const v = metric.values;
  let parts;
  switch (metric.type) {
    case 'counter':
      parts = [humanizeValue(v.count, metric),
        (metric.contains === 'data' ? humanizeValue(v.rate, metric) : (Math.round(v.rate * 100) / 100).toFixed(2)) + '/s'];
      break;
    case 'gauge':
      parts = [humanizeValue(v.value, metric), 'min=' + humanizeValue(v.min, metric), 'max=' + humanizeValue(v.max, metric)];
      break;
    case 'rate':
      parts = [humanizeValue(v.rate, metric), v.passes + ' out of ' + (v.passes + v.fails)];
      break;
    default:
      parts = stats.filter((s) => v[s] !== undefined).map((s) => s + '=' + humanizeValue(v[s], metric));
  }
  const mark = metric.thresholds ? (Object.values(metric.thresholds).every((t) => t.ok) ? '✓ ' : '✗ ') : '  ';
  return mark + name + '.'.repeat(Math.max(1, 30 - name.length)) + ': ' + parts.join(' ');
}
function checks(group, indent, out) {
  for (const c of group.checks || []) {
    const mark = c.fails === 0 ? '✓' : '✗';
    out.push(indent + mark + ' ' + c.name + (c.fails ? ` (${c.passes} passes, ${c.fails} fails)` : ''));
  }
  for (const g of group.groups || []) {
    out.push(indent + '█ ' + g.name);
    checks(g, indent + '  ', out);
  }
}
export function textSummary(data, options) {
  const o = options || {};
  const indent = o.indent === undefined ? ' ' : String(o.indent);
  const stats = (data.options && data.options.summaryTrendStats) || ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'];
  const out = [];
  checks(data.root_group || {}, indent, out);
  if (out.length) out.push('');
  for (const name of Object.keys(data.metrics).sort()) out.push(indent + line(name, data.metrics[name], stats));
  return '\n' + out.join('\n') + '\n';
}
function esc(s) { return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;'); }
export function jUnit(data, options) {
  const o = options || {};
  const cases = [];
  let failures = 0;
  for (const name of Object.keys(data.metrics)) {
    const m = data.metrics[name];
    for (const t of Object.keys(m.thresholds || {})) {
      if (m.thresholds[t].ok) cases.push(`<testcase name="${esc(name + ' - ' + t)}" />`);
      else { failures++; cases.push(`<testcase name="${esc(name + ' - ' + t)}"><failure message="failed" /></testcase>`); }
    }
  }
  const suite = esc(o.name || 'k6 thresholds');
  return `<?xml version="1.0"?>\n<testsuites tests="${cases.length}" failures="${failures}">\n<testsuite name="${suite}" tests="${cases.length}" failures="${failures}">${cases.join('\n')}\n</testsuite>\n</testsuites>`;
}
export default { textSummary, jUnit, humanizeValue };
