// A self-contained HTML health report: per-layer gradient norms over steps (log scale), loss,
// dead/saturated fractions, update ratios, epoch loss/accuracy, the diagnoses marked on the
// timeline, and the repair actions. Charts are uPlot (MIT, ~50 KB, made for time series with
// log axes), inlined into the file so the report opens anywhere without a network.
//
//   const html = await renderHealthReport(history.health!, { history, title: 'MNIST' });
//   await writeHealthReport('report.html', history.health!, { history });
//
// renderHealthReport reads uPlot from node_modules in Node; in a browser pass `uplot: { js, css }`.

import type { Diagnosis } from './diagnoses.js';
import type { StatsSample } from './monitor.js';

export interface ReportData {
  samples: readonly StatsSample[];
  diagnoses: readonly Diagnosis[];
  actions?: ReadonlyArray<{ kind: string; diagnosis: string; step: number; note: string; before: Record<string, number>; after: Record<string, number | undefined> }>;
  policy?: string;
  every?: number;
  layerNames?: readonly string[];
}

export interface ReportOptions {
  title?: string;
  /** fit's History (its per-epoch logs are plotted). */
  history?: { history: Record<string, number[]> };
  layerNames?: readonly string[];
  /** uPlot's IIFE build and CSS; read from node_modules when omitted (Node only). */
  uplot?: { js: string; css: string };
}

/** uPlot's minified IIFE build and CSS, from the installed package (Node only). */
export async function loadUplotAssets(): Promise<{ js: string; css: string }> {
  const { createRequire } = await import('node:module');
  const { readFileSync } = await import('node:fs');
  const path = await import('node:path');
  let req: NodeRequire;
  try {
    req = createRequire(import.meta.url);
    req.resolve('uplot/package.json');
  } catch {
    // CommonJS builds have no import.meta.url; resolve from the working directory instead.
    req = createRequire(path.join(process.cwd(), 'index.js'));
  }
  const dir = path.dirname(req.resolve('uplot/package.json'));
  return {
    js: readFileSync(path.join(dir, 'dist', 'uPlot.iife.min.js'), 'utf8'),
    css: readFileSync(path.join(dir, 'dist', 'uPlot.min.css'), 'utf8'),
  };
}

/** One run abandoned at a repair restart: its diagnoses and the restart that ended it. */
export interface EarlierRun {
  /** This run ended with restart number `restart` (1 = the first restart); it is run restart − 1. */
  restart: number;
  diagnoses: Diagnosis[];
  /** The restart action that ended it (absent when the data has no actions). */
  action?: NonNullable<ReportData['actions']>[number];
}

/**
 * Splits the diagnoses by run (Diagnosis.run, set by fit's health record). The timeline (samples,
 * epochs) is the final run's, and step numbers start again at each restart, so only the final
 * run's diagnoses (and the untagged ones: checks of the data and loss, which hold for every run)
 * may be drawn on it; the earlier runs' are listed apart, by the restart that ended them (their
 * statistics were not kept, so they have no timeline of their own to be drawn on).
 */
export function splitRuns(data: Pick<ReportData, 'diagnoses' | 'actions'>): { finalRun: number; final: Diagnosis[]; earlier: EarlierRun[] } {
  const restarts = (data.actions ?? []).filter((a) => a.kind === 'restart');
  const tagged = data.diagnoses.map((d) => d.run ?? -1);
  const finalRun = Math.max(restarts.length, ...tagged, 0);
  const isFinal = (d: Diagnosis) => d.run === undefined || d.run === finalRun;
  const earlier: EarlierRun[] = Array.from({ length: finalRun }, (_, r) => {
    const e: EarlierRun = { restart: r + 1, diagnoses: data.diagnoses.filter((d) => d.run === r) };
    if (restarts[r]) e.action = restarts[r];
    return e;
  });
  return { finalRun, final: data.diagnoses.filter(isFinal), earlier };
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
/** JSON safe inside <script>: no "</script>" can close the element early. */
const scriptJson = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c');
/** Non-finite → null (a gap in uPlot); values ≤ 0 are gaps too on log axes. */
const fin = (x: number, log = false): number | null => (Number.isFinite(x) && (!log || x > 0) ? x : null);

/** Builds the series the page plots (column arrays, uPlot's data layout). */
export function reportSeries(data: ReportData, layerNames?: readonly string[]) {
  const s = data.samples;
  const L = s.length ? s[0]!.stats.layers.length : 0;
  const names = Array.from({ length: L }, (_, l) => layerNames?.[l] ?? data.layerNames?.[l] ?? `dense_${l}`);
  const steps = s.map((q) => q.step);
  const per = (f: (ls: StatsSample['stats']['layers'][number]) => number, log: boolean) =>
    names.map((_, l) => s.map((q) => fin(f(q.stats.layers[l]!), log)));
  return {
    names,
    steps,
    loss: s.map((q) => fin(q.stats.loss)),
    globalGradNorm: s.map((q) => fin(q.stats.globalGradNorm, true)),
    gradNorm: per((l) => l.gradWNorm, true),
    updateRatio: per((l) => l.updateRatio, true),
    dead: per((l) => l.deadFraction, false),
    saturated: per((l) => l.saturatedFraction, false),
    // The final run's only: an abandoned run's step numbers would land on the wrong weights.
    markers: splitRuns(data).final.filter((d) => d.step >= 0).map((d) => ({ step: d.step, kind: d.kind, severity: d.severity })),
  };
}

export async function renderHealthReport(data: ReportData, opts: ReportOptions = {}): Promise<string> {
  const uplot = opts.uplot ?? (await loadUplotAssets());
  const title = opts.title ?? 'gradguard health report';
  const series = reportSeries(data, opts.layerNames);
  const epochs = opts.history?.history ?? {};
  const sevColor = { info: '#3b82f6', warning: '#d97706', critical: '#dc2626' } as const;
  const runs = splitRuns(data);
  const diagList = (ds: readonly Diagnosis[]) => ds.map((d) => `
      <div class="diag ${d.severity}">
        <div><span class="badge" style="background:${sevColor[d.severity]}">${esc(d.severity)}</span>
        <b>${esc(d.kind.replace(/_/g, ' '))}</b>${d.layerNames.length ? ` in ${esc(d.layerNames.join(', '))}` : ''}
        ${d.step >= 0 ? `from step ${d.step} (epoch ${d.epoch + 1})` : 'before training'}</div>
        <p>${esc(d.explanation)}</p>
        <p class="ev">Evidence: ${esc(Object.entries(d.evidence).map(([k, v]) => `${k} = ${typeof v === 'number' ? (Number.isFinite(v) && Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(2) : String(+v.toPrecision(4))) : v}`).join(', '))}</p>
        <ol class="rem">${d.remedies.map((r) => `<li>${esc(r.action)} <code>${esc(`${r.setting} = ${String(r.value)}`)}</code></li>`).join('')}</ol>
        <p class="src">Rule: ${esc(d.source)}</p>
      </div>`).join('');
  const diagHtml = (runs.final.length === 0
    ? `<p class="ok">No diagnoses${runs.finalRun > 0 ? ' in the final run' : ''}: training looked healthy.</p>`
    : diagList(runs.final))
    + (runs.earlier.length === 0 ? '' : `
    <h2>Earlier runs, abandoned at a restart</h2>
    <p>Repair restarted training from a fresh initialization ${runs.finalRun} time(s); the charts and the diagnoses above are the final run's. Step numbers start again at each restart.</p>
    ${runs.earlier.map((e) => `
    <h3>Before restart ${e.restart}${e.action ? `: ${esc(e.action.diagnosis.replace(/_/g, ' '))} at step ${e.action.step}` : ''}</h3>
    ${e.action ? `<p>${esc(e.action.note)}</p>` : ''}
    ${e.diagnoses.length ? diagList(e.diagnoses) : '<p>No diagnoses recorded in this run.</p>'}`).join('')}`);
  const actionsHtml = !data.actions?.length ? '' : `
    <h2>Repair actions</h2><table class="actions"><tr><th>step</th><th>action</th><th>diagnosis</th><th>before</th><th>after</th><th>note</th></tr>
    ${data.actions.map((a) => `<tr><td>${a.step}</td><td>${esc(a.kind)}</td><td>${esc(a.diagnosis)}</td><td>${esc(JSON.stringify(a.before))}</td><td>${esc(JSON.stringify(a.after))}</td><td>${esc(a.note)}</td></tr>`).join('')}</table>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${uplot.css}
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#111;max-width:1100px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}h3{font-size:15px;margin-top:18px}
.diag{border-left:4px solid #999;padding:6px 12px;margin:10px 0;background:#fafafa}
.diag.warning{border-color:#d97706}.diag.critical{border-color:#dc2626}.diag.info{border-color:#3b82f6}
.badge{color:#fff;border-radius:3px;padding:1px 6px;font-size:12px;margin-right:6px}
.ev,.src{color:#555;font-size:12.5px}.ok{color:#15803d}
table.actions{border-collapse:collapse;font-size:12.5px}table.actions td,table.actions th{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top;word-break:break-word}table.actions td:last-child{min-width:260px}
.chart{margin:8px 0 20px}
</style></head><body>
<h1>${esc(title)}</h1>
<p>${series.steps.length} statistics samples${data.every ? ` (every ${data.every} steps)` : ''}${data.policy ? `, policy <b>${esc(data.policy)}</b>` : ''}; ${runs.final.length} diagnoses${runs.finalRun > 0 ? ` in the final run (after restart ${runs.finalRun}), ${data.diagnoses.length - runs.final.length} in earlier runs` : ''}. Vertical lines mark where each of ${runs.finalRun > 0 ? 'the final run\'s' : 'the'} diagnoses started.</p>
<h2>Diagnoses${runs.finalRun > 0 ? ` (final run, after restart ${runs.finalRun})` : ''}</h2>${diagHtml}${actionsHtml}
<h2>Per-layer gradient norm ‖dW‖ (log scale)</h2><div class="chart" id="c-grad"></div>
<h2>Loss per sampled step</h2><div class="chart" id="c-loss"></div>
<h2>Update-to-weight ratio ‖ΔW‖/‖W‖ (log scale; about 1e-3 is healthy)</h2><div class="chart" id="c-ur"></div>
<h2>Dead (ReLU) and saturated (sigmoid/tanh) fractions</h2><div class="chart" id="c-units"></div>
<h2>Per epoch</h2><div class="chart" id="c-epoch"></div>
<script>${uplot.js}</script>
<script>
const S = ${scriptJson(series)};
const E = ${scriptJson(epochs)};
const COLORS = ['#2563eb','#dc2626','#16a34a','#9333ea','#ea580c','#0891b2','#be185d','#4d7c0f'];
const SEV = { info: '#3b82f6', warning: '#d97706', critical: '#dc2626' };
const width = () => Math.min(1050, document.body.clientWidth - 10);
// Draws a dashed vertical line and a short label for each diagnosis (uPlot draw hook).
const markers = { hooks: { draw: [(u) => {
  const ctx = u.ctx; ctx.save();
  for (const m of S.markers) {
    const x = u.valToPos(m.step, 'x', true);
    if (!(x >= u.bbox.left && x <= u.bbox.left + u.bbox.width)) continue;
    ctx.strokeStyle = SEV[m.severity]; ctx.setLineDash([5, 4]); ctx.lineWidth = 1.5;
    ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
    ctx.fillStyle = SEV[m.severity]; ctx.font = (11 * devicePixelRatio) + 'px sans-serif';
    ctx.fillText(m.kind.replace(/_/g, ' '), x + 4, u.bbox.top + 12 * devicePixelRatio);
  }
  ctx.restore();
}] } };
function chart(id, xs, ys, labels, opts) {
  const el = document.getElementById(id);
  if (!xs.length) { el.textContent = 'no data'; return null; }
  // Log charts plot log10(y) on a linear axis labelled 1e<k>: uPlot's own log scale builds one
  // tick array per decade and fails on blow-ups spanning ~80 decades (1e-40 … 1e38).
  const data = opts.log ? ys.map((c) => c.map((v) => (v !== null && v > 0 ? Math.log10(v) : null))) : ys;
  const series = [{ label: opts.xLabel || 'step' }, ...labels.map((l, i) => ({ label: l, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: false,
    value: opts.log ? (u, v) => (v == null ? '--' : Math.pow(10, v).toExponential(2)) : undefined }))];
  const yAxis = { label: opts.yLabel || '' };
  if (opts.log) { yAxis.values = (u, ticks) => ticks.map((t) => (Number.isInteger(t) ? '1e' + t : '')); yAxis.incrs = [1, 2, 5, 10, 20, 50]; }
  return new uPlot({ width: width(), height: 260, series, plugins: opts.markers === false ? [] : [markers],
    scales: { x: { time: false }, y: opts.range ? { range: opts.range } : {} },
    axes: [{ label: opts.xLabel || 'step' }, yAxis] }, [xs, ...data], el);
}
window.__charts = [
  chart('c-grad', S.steps, [...S.gradNorm, S.globalGradNorm], [...S.names, 'global'], { log: true, yLabel: '‖dW‖' }),
  // Log scale when the loss spans decades (a blow-up would flatten a linear plot).
  chart('c-loss', S.steps, [S.loss], ['loss'], { yLabel: 'loss', log: (() => { const v = S.loss.filter((x) => x > 0); return v.length > 0 && Math.max(...v) / Math.min(...v) > 1e3; })() }),
  chart('c-ur', S.steps, S.updateRatio, S.names, { log: true, yLabel: 'ratio' }),
  chart('c-units', S.steps, [...S.dead, ...S.saturated], [...S.names.map((n) => n + ' dead'), ...S.names.map((n) => n + ' saturated')], { range: [0, 1], yLabel: 'fraction' }),
  (() => { const keys = Object.keys(E).filter((k) => /loss|acc/.test(k));
    const n = keys.length ? E[keys[0]].length : 0;
    if (!n) { document.getElementById('c-epoch').textContent = 'no epochs recorded'; return null; }
    // Losses on the left axis, accuracies (0..1) on the right.
    const series = [{ label: 'epoch' }, ...keys.map((k, i) => ({ label: k, stroke: COLORS[i % COLORS.length], width: 1.5, scale: /acc/.test(k) ? 'acc' : 'y', points: { show: true } }))];
    return new uPlot({ width: width(), height: 240, series,
      scales: { x: { time: false }, acc: { range: [0, 1] } },
      axes: [{ label: 'epoch' }, { label: 'loss' }, { scale: 'acc', side: 1, label: 'accuracy', grid: { show: false } }] },
      [Array.from({ length: n }, (_, i) => i + 1), ...keys.map((k) => E[k].map((v) => (Number.isFinite(v) ? v : null)))], document.getElementById('c-epoch')); })(),
].filter(Boolean).length;
</script></body></html>
`;
}

/** Writes the report to `path` (Node only). */
export async function writeHealthReport(path: string, data: ReportData, opts: ReportOptions = {}): Promise<void> {
  const { writeFile } = await import('node:fs/promises');
  await writeFile(path, await renderHealthReport(data, opts), 'utf8');
}
