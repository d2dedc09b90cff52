// Summaries and the markdown table for the training benchmark (used by bench/train.mjs for its
// printout and by bench/run.mjs for bench/RESULTS.md). Pure functions over the worker results.

/** Median of the finite numbers in `xs` (mean of the middle two for even counts); null if none. */
export function median(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

// A correct implementation of the seed model reaches about 95–96.5% test accuracy after one
// epoch of Adam 1e-3 (TF.js measured 95.0–96.5% at batch 128 / 32 here); below 90% something is wrong, however fast.
export const MIN_TEST_ACC_AFTER_EPOCH = 0.9;

export const BASELINE = 'tfjs-wasm';

const LABELS = {
  'tfjs-wasm': 'TF.js 4.22 wasm',
  'tfjs-cpu': 'TF.js 4.22 cpu',
};
// Contender ids of gradguard: gradguard-<variant>[:<threads>][+stats<N>] (see train-worker.mjs).
export const GG_ID = /^gradguard-([a-z0-9-]+?)(?::(\d+))?(?:\+stats(\d+))?$/;

export const label = (c) => {
  if (LABELS[c]) return LABELS[c];
  const m = GG_ID.exec(c);
  if (!m) return c;
  let s = `gradguard ${m[1]}`;
  if (m[2] !== undefined) s += ` (${m[2]} thread${m[2] === '1' ? '' : 's'})`;
  if (m[3] !== undefined) s += ` + health stats every ${m[3] === '1' ? 'step' : `${m[3]} steps`}`;
  return s;
};

/**
 * Median over repetitions of contender a's samples/s ÷ contender b's in the same repetition, at
 * one batch size; null if no repetition has both. Each repetition runs every contender back to
 * back, so a slow spell of this shared host that lasts a repetition (they last minutes: one
 * run's simd samples at batch 128 were 57k, 67k and 57k) slows both sides of a paired ratio,
 * where a ratio of two medians can set one side's slow sample against the other's fast one.
 * gemm.mjs and threads.mjs pair their rounds the same way.
 */
export function pairedRatio(runs, a, b, batch) {
  const of = (c) => new Map(runs.filter((r) => r.contender === c && r.batch === batch && !r.error && r.samplesPerSec > 0)
    .map((r) => [r.rep, r.samplesPerSec]));
  const [A, B] = [of(a), of(b)];
  return median([...A].filter(([rep]) => B.has(rep)).map(([rep, v]) => v / B.get(rep)));
}

/**
 * The cost of collecting gradient-health statistics: for each +stats<N> row, 1 − the paired
 * ratio of its samples/s to the same build's without statistics, at the same batch size. Still
 * noisy: a few percent either way is within this machine's noise.
 */
export function statsCost(summary, runs) {
  const out = [];
  for (const r of summary) {
    const m = GG_ID.exec(r.contender);
    if (!m || m[3] === undefined) continue;
    const baseId = r.contender.slice(0, r.contender.indexOf('+stats'));
    const ratio = pairedRatio(runs, r.contender, baseId, r.batch);
    if (ratio == null) continue;
    out.push({ contender: r.contender, base: baseId, every: Number(m[3]), batch: r.batch, cost: 1 - ratio });
  }
  return out;
}

/**
 * statsCost for runs that are not summarised (bench/stats-cost.mjs): one entry per +stats
 * contender and batch, with `min` and `max`, the range of the per-repetition costs.
 */
export function statsCostRounds(runs) {
  const keys = [...new Map(runs.map((r) => [`${r.contender} ${r.batch}`, { contender: r.contender, batch: r.batch }])).values()];
  return statsCost(keys, runs).map((c) => {
    const of = (id) => new Map(runs.filter((r) => r.contender === id && r.batch === c.batch && !r.error && r.samplesPerSec > 0)
      .map((r) => [r.rep, r.samplesPerSec]));
    const [w, wo] = [of(c.contender), of(c.base)];
    const per = [...w].filter(([rep]) => wo.has(rep)).map(([rep, v]) => 1 - v / wo.get(rep));
    return { ...c, min: Math.min(...per), max: Math.max(...per) };
  });
}

/**
 * One row per (contender, batch): medians over successful repetitions, the ratio of median
 * samples/s to TF.js wasm's median at the same batch size, and a verification verdict:
 * true/false for full-epoch runs with a test evaluation, null where nothing was checked beyond
 * a finite loss (quick mode, TF.js cpu's prefix), false whenever a loss was not finite.
 */
export function summarize(runs, contenders, batches) {
  const rows = [];
  for (const batch of batches) {
    for (const contender of contenders) {
      const all = runs.filter((r) => r.contender === contender && r.batch === batch);
      const ok = all.filter((r) => !r.error);
      const sps = ok.map((r) => r.samplesPerSec);
      const first = ok[0];
      const testAcc = median(ok.map((r) => r.testAcc));
      let verified = null;
      if (ok.some((r) => !Number.isFinite(r.trainLoss))) verified = false;
      else if (first?.fullEpoch && testAcc != null) verified = testAcc >= MIN_TEST_ACC_AFTER_EPOCH;
      rows.push({
        contender,
        batch,
        ok: ok.length,
        failed: all.length - ok.length,
        errors: all.filter((r) => r.error).map((r) => r.error),
        samplesPerSec: median(sps),
        samplesPerSecMin: sps.length ? Math.min(...sps) : null,
        samplesPerSecMax: sps.length ? Math.max(...sps) : null,
        fitMs: median(ok.map((r) => r.fitMs)),
        samples: first?.samples ?? null,
        steps: first?.steps ?? null,
        fullEpoch: first?.fullEpoch ?? null,
        trainAcc: median(ok.map((r) => r.trainAcc)),
        testAcc,
        maxRssMB: median(ok.map((r) => r.maxRssMB)),
        verified,
        info: first?.info ?? null,
      });
    }
  }
  for (const row of rows) {
    const base = rows.find((r) => r.contender === BASELINE && r.batch === row.batch);
    row.ratioVsTfjsWasm = pairedRatio(runs, row.contender, BASELINE, row.batch);
    row.ratioOfMediansVsTfjsWasm =
      base?.samplesPerSec && row.samplesPerSec != null ? row.samplesPerSec / base.samplesPerSec : null;
  }
  return rows;
}

const f = (x, d = 0) => (x == null || Number.isNaN(x) ? '—' : x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }));
const pct = (x, d = 1) => (x == null ? '—' : `${(x * 100).toFixed(d)}%`);

/** The training table (markdown) plus its footnotes, from a bench/out/train.json object. */
export function trainTableMarkdown(result) {
  const lines = [
    '| contender | batch | samples/s (median) | min–max | × TF.js wasm | timed | train acc | test acc | peak RSS (MB) |',
    '|---|---:|---:|---:|---:|---|---:|---:|---:|',
  ];
  for (const r of result.summary) {
    const name = label(r.contender);
    if (r.ok === 0) {
      lines.push(`| ${name} | ${r.batch} | failed | | | | | | |`);
      continue;
    }
    const timed = r.fullEpoch
      ? `1 epoch (${f(r.samples)})`
      : `${r.steps} steps (${f(r.samples)}), extrapolated`;
    const flag = r.verified === false ? ' ⚠ not verified' : '';
    lines.push(
      `| ${name}${flag} | ${r.batch} | ${f(r.samplesPerSec)} | ${f(r.samplesPerSecMin)}–${f(r.samplesPerSecMax)} | ` +
        `${r.ratioVsTfjsWasm == null ? '—' : `${r.ratioVsTfjsWasm.toFixed(2)}×`} | ${timed} | ` +
        `${pct(r.trainAcc)} | ${pct(r.testAcc, 2)} | ${f(r.maxRssMB)} |`,
    );
  }
  const notes = [
    '',
    `Medians of ${result.reps} interleaved repetition(s), each in a fresh Node process; min–max over the repetitions. ` +
      '× TF.js wasm: the median over repetitions of the ratio within each repetition (paired: a slow spell of this shared host ' +
      'slows both sides of a ratio), not the ratio of the two medians.',
    `Timed: one \`fit()\` call of one epoch, shuffled, after an untimed warm-up \`fit()\` of ${result.warmupBatches ?? 'a few'} batches on the same model (TF.js cpu: 3); ` +
      '"extrapolated" rows time a prefix of the training set and report its rate.',
    'train acc: the timed epoch\'s running accuracy as the library reports it; test acc: evaluation on the 10,000 test images ' +
      `after that one epoch (rows below ${pct(MIN_TEST_ACC_AFTER_EPOCH, 0)} are flagged "not verified").`,
    'Peak RSS: `process.resourceUsage().maxRSS` of the child process, including the dataset it loaded ' +
      '(60,000 × 784 float32 = 188 MB in JS, plus any copy the library makes).',
  ];
  const costs = result.quick ? [] : statsCost(result.summary, result.runs);
  if (costs.length) {
    notes.push(
      'Cost of the gradient-health statistics (1 − samples/s with ÷ without, paired by repetition; issue 3 goal: ≤ 5% every step, negligible every 16): ' +
        costs.map((c) => `every ${c.every === 1 ? 'step' : `${c.every} steps`} at batch ${c.batch}: ${(c.cost * 100).toFixed(1)}%`).join(', ') +
        ' (noisy: ± a few % is noise).',
    );
  }
  for (const [c, why] of Object.entries(result.skipped ?? {})) notes.push(`${label(c)}: not run (${why}).`);
  for (const c of result.notRunByDefault ?? []) {
    notes.push(`${label(c)}: built but not in the default training run (a fallback, not a speed contender; see the GEMM table). Add it with \`node bench/train.mjs --contenders …,${c}\`.`);
  }
  const failures = result.summary.filter((r) => r.failed > 0);
  for (const r of failures) notes.push(`${label(r.contender)} batch ${r.batch}: ${r.failed} failed run(s): ${r.errors[0]}`);
  return lines.concat(notes).join('\n');
}
