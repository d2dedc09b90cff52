#!/usr/bin/env node
// `npm run bench`: the whole benchmark in one command. Runs bench/gemm.mjs (GEMM GFLOP/s),
// bench/train.mjs (MNIST training samples/s), bench/stats-cost.mjs (what the gradient-health
// statistics cost fit()) and bench/threads.mjs (thread scaling of the simd-threads build), each
// in its own process, then writes bench/RESULTS.md with the date, the machine, the tables and
// the exact command.
//
//   node bench/run.mjs [--quick] [--skip-gemm] [--skip-train] [--skip-stats] [--skip-threads] [--out FILE] [--report-only]
//
// It builds nothing: `npm install` (its `prepare` script) already built the wasm files and
// dist/. Rebuild with `npm run build` after changing the kernel or the TypeScript.
//
// --quick is the smoke mode (seconds; CI may run it): every script gets --quick and the report
// goes to bench/out/RESULTS.quick.md, so a smoke run never overwrites the recorded results.
// --report-only re-writes the report from bench/out/{run,gemm,train,stats}.json without measuring.
// Nothing here asserts on time; the exit code is non-zero only if a script failed.

import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync, statSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { trainTableMarkdown, label, pairedRatio, BASELINE } from './train-report.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const outDir = join(here, 'out');

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'skip-gemm': { type: 'boolean', default: false },
    'skip-train': { type: 'boolean', default: false },
    'skip-stats': { type: 'boolean', default: false },
    'skip-threads': { type: 'boolean', default: false },
    out: { type: 'string' },
    'report-only': { type: 'boolean', default: false },
  },
});
const resultsPath = opts.out ?? (opts.quick ? join(outDir, 'RESULTS.quick.md') : join(here, 'RESULTS.md'));
// What the last run measured under (date, machine, load, exit codes), for --report-only.
const metaPath = join(outDir, opts.quick ? 'run.quick.json' : 'run.json');

/** The command as the user typed it (npm sets npm_lifecycle_event when run via `npm run`). */
function commandLine() {
  const args = process.argv.slice(2);
  if (process.env.npm_lifecycle_event === 'bench') return `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`;
  return `node ${relative(process.cwd(), fileURLToPath(import.meta.url)) || 'bench/run.mjs'}${args.length ? ` ${args.join(' ')}` : ''}`;
}

function cpuModel() {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1].trim();
  } catch {
    /* not Linux: fall back to what Node reports */
  }
  return os.cpus()[0]?.model ?? 'unknown CPU';
}

// Busy fraction of all cores over `ms`, from /proc/stat (Linux only; null elsewhere). Taken
// before anything runs, it tells whether other processes were competing for the machine.
async function cpuBusy(ms) {
  const read = () => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + (f[4] ?? 0); // idle + iowait
    return { idle, total: f.reduce((a, b) => a + b, 0) };
  };
  try {
    const a = read();
    await new Promise((r) => setTimeout(r, ms));
    const b = read();
    return 1 - (b.idle - a.idle) / Math.max(1, b.total - a.total);
  } catch {
    return null;
  }
}

function git(args) {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** Runs a script with inherited output; with `capture`, its stdout is also kept (returned as `out`). */
function runScript(script, args, capture = false) {
  return new Promise((resolve) => {
    console.log(`\n$ node ${script} ${args.join(' ')}`.trimEnd());
    const child = spawn(process.execPath, [join(root, script), ...args], {
      cwd: root, stdio: capture ? ['ignore', 'pipe', 'inherit'] : 'inherit',
    });
    let out = '';
    if (capture) child.stdout.on('data', (d) => { out += d; process.stdout.write(d); });
    child.on('close', (code, signal) => resolve({ code, signal, ...(capture ? { out } : {}) }));
  });
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

/** The JSON at `path` if it was written after `since`, else null. */
function readFresh(path, since) {
  try {
    if (statSync(path).mtimeMs < since.getTime()) return null;
  } catch {
    return null;
  }
  return readJson(path);
}

// bench/out/gemm.json is written by bench/gemm.mjs (its own format):
//   { peakGflops, peakSamples[], relaxedPeakGflops|null, relaxedPeakSamples[], threads,
//     implementations[], unavailable: { <impl>: reason }, rounds,
//     results: [{ case, m, n, k, label, gflops: { <impl>: GFLOP/s }, pct: { <impl>: % of its peak },
//                 failed: [<impl>], threadScaling, peakGflops, relaxedPeakGflops }] }
// with impl names simd, relaxed-simd, simd-threads:<n>, scalar, tfjs (TF.js wasm). Rendered as
// one row per shape, a column per implementation (unavailable ones say "n/a" and why below the
// table), % of its own peak for each of ours (relaxed-simd: of the relaxed_madd peak;
// simd-threads: of n × the one-core peak), the threaded build's scaling over simd, and our simd
// build's ratio to TF.js. Files from before relaxed/threads (no `pct`) get their simd `pctPeak`
// and, for the other columns, % of the run's median peak. Any other shape of JSON falls back to a generic rendering.
function gemmSectionMarkdown(gemm) {
  if (typeof gemm.markdown === 'string') return gemm.markdown.trim();
  if (Array.isArray(gemm.results) && gemm.results.every((r) => r.gflops && typeof r.gflops === 'object')) {
    const order = ['simd', 'relaxed-simd', 'simd-threads', 'scalar', 'tfjs'];
    const rank = (i) => { const j = order.indexOf(i.split(':')[0]); return j < 0 ? order.length : j; };
    const unavailable = gemm.unavailable ?? {};
    const impls = [...new Set([...(gemm.implementations ?? []), ...gemm.results.flatMap((r) => Object.keys(r.gflops)), ...Object.keys(unavailable)])]
      .sort((a, b) => rank(a) - rank(b));
    const ours = impls.filter((i) => i !== 'tfjs' && !(i in unavailable));
    const threaded = impls.find((i) => /^simd-threads:\d+$/.test(i) && !(i in unavailable));
    const peak = gemm.peakGflops;
    const rpeak = gemm.relaxedPeakGflops;
    const name = (i) => (i === 'tfjs' ? 'TF.js wasm' : /^simd-threads:\d+$/.test(i) ? `simd-threads ×${i.split(':')[1]}` : i);
    const pctName = (i) => (i === 'relaxed-simd' ? 'relaxed-simd % of relaxed peak'
      : /^simd-threads:\d+$/.test(i) ? `${name(i)} % of ${i.split(':')[1]}× peak` : `${i} % of peak`);
    // % of its peak: gemm.mjs's median of per-round ratios when recorded, else GFLOP/s over the median peak.
    const pctOf = (r, i) => (r.pct ? r.pct[i] : i === 'simd' && r.pctPeak != null ? r.pctPeak
      : r.gflops[i] != null && peak ? (100 * r.gflops[i]) / peak : undefined);
    const hasPct = ours.filter((i) => gemm.results.some((r) => pctOf(r, i) != null));
    const g = (r, i) => (i in unavailable ? 'n/a' : r.gflops[i] != null ? r.gflops[i].toFixed(1)
      : (r.failed ? r.failed.includes(i) : true) ? 'failed' : '—');
    const cases = { NN: 'A·B', TN: 'Aᵀ·B', NT: 'A·Bᵀ' };
    const vsTfjs = impls.includes('simd') && impls.includes('tfjs') && !('tfjs' in unavailable);
    const lines = [];
    if (peak) {
      lines.push(
        `Measured WebAssembly SIMD128 peak on one core (12 independent f32x4 mul+add chains): **${peak.toFixed(1)} GFLOP/s** ` +
          `(median of ${gemm.peakSamples?.length ?? '?'} samples taken between the shapes).` +
          (rpeak ? ` Relaxed-SIMD peak (12 independent f32x4.relaxed_madd chains, fused multiply-add): **${rpeak.toFixed(1)} GFLOP/s** ` +
            `(${(rpeak / peak).toFixed(2)}× the mul+add peak).` : gemm.relaxedPeakGflops === null ? ' Relaxed-SIMD peak: not measured (this engine has no relaxed SIMD).' : ''),
        '',
      );
    }
    lines.push(
      `| product | m×n×k | shape | ${impls.map(name).join(' | ')} |${hasPct.map((i) => ` ${pctName(i)} |`).join('')}` +
        `${threaded ? ` ${name(threaded)} ÷ simd |` : ''}${vsTfjs ? ' simd ÷ TF.js |' : ''}`,
      `|---|---|---|${impls.map(() => '---:').join('|')}|${hasPct.map(() => '---:|').join('')}${threaded ? '---:|' : ''}${vsTfjs ? '---:|' : ''}`,
    );
    for (const r of gemm.results) {
      let row = `| ${cases[r.case] ?? r.case} | ${r.m}×${r.n}×${r.k} | ${String(r.label).replace(/\s+/g, ' ')} | ${impls.map((i) => g(r, i)).join(' | ')} |`;
      row += hasPct.map((i) => ` ${pctOf(r, i) == null ? '—' : `${pctOf(r, i).toFixed(0)}%`} |`).join('');
      if (threaded) row += ` ${r.threadScaling != null ? `${r.threadScaling.toFixed(2)}×` : '—'} |`;
      if (vsTfjs) row += ` ${r.gflops.simd != null && r.gflops.tfjs ? `${(r.gflops.simd / r.gflops.tfjs).toFixed(1)}×` : '—'} |`;
      lines.push(row);
    }
    for (const [i, why] of Object.entries(unavailable)) lines.push('', `n/a — ${name(i)}: ${why}.`);
    if (threaded) {
      const n = threaded.split(':')[1];
      lines.push(
        '',
        `${name(threaded)} is the simd-threads build on a pool of ${n} threads, measured on the products of 128×784×128 and ` +
          `256³ and larger only (— elsewhere): smaller products, such as the MNIST batch-32 ones, stay on the calling thread by ` +
          `design (PAR_MIN_MACS in crates/kernel/src/gemm/mod.rs). Its % is of ${n}× the one-core mul+add peak; ` +
          `"÷ simd" is its thread scaling, the median over rounds of the simd time ÷ its time in the same round (issue 4: ≥ 1.7× on 2 cores).`,
      );
    }
    const over = gemm.results.some((r) => ours.some((i) => pctOf(r, i) > 100));
    if (over) {
      lines.push(
        '',
        `Some shapes reach or exceed 100% of their measured peak: there the GEMM runs at the peak loop's rate, and what is ` +
          `above 100% is noise (the per-round ratios move by a few % with the machine's load; min–max of the peak samples: ` +
          `${Math.min(...gemm.peakSamples).toFixed(1)}–${Math.max(...gemm.peakSamples).toFixed(1)} GFLOP/s; issue 4 measured ` +
          'about 40 on a quiet core), not a product faster than the instructions allow.',
      );
    }
    lines.push(
      '',
      `GFLOP/s = 2·m·n·k / t, median of ${gemm.rounds ?? '?'} interleaved samples per implementation and shape, ` +
        'each implementation verified against a reference product before it is timed' +
        (gemm.results.some((r) => r.pct) ? '; % of peak is the median over rounds of (GFLOP/s ÷ its peak loop\'s GFLOP/s in the same round). ' : '. ') +
        'C (m×n) = op(A) (m×k) · op(B) (k×n); Aᵀ·B and A·Bᵀ are the products a Dense backward pass needs (dW and dx).',
    );
    return lines.join('\n');
  }
  const cell = (v) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : String(v ?? ''));
  const out = [];
  const scalars = Object.entries(gemm).filter(([, v]) => v !== null && typeof v !== 'object');
  for (const [k, v] of scalars) out.push(`- ${k}: ${cell(v)}`);
  for (const [k, v] of Object.entries(gemm)) {
    if (!Array.isArray(v) || !v.length || typeof v[0] !== 'object') continue;
    const cols = [...new Set(v.flatMap((row) => Object.keys(row).filter((c) => row[c] === null || typeof row[c] !== 'object')))];
    out.push('', `${k}:`, '', `| ${cols.join(' | ')} |`, `|${cols.map(() => '---').join('|')}|`);
    for (const row of v) out.push(`| ${cols.map((c) => cell(row[c])).join(' | ')} |`);
  }
  return out.join('\n').trim();
}

async function main() {
  if (opts['report-only']) {
    // Re-render from the JSON of the last run (e.g. after improving the report's wording):
    // nothing is measured, so the figures, date and load are those the files recorded.
    const meta = readJson(metaPath);
    if (!meta) throw new Error(`--report-only: ${relative(process.cwd(), metaPath)} is missing; run the benchmark first`);
    // gemm.json / train.json are shared by full and quick runs: use them only if they are
    // still of the same kind as the run the metadata describes.
    const same = (j) => (j && Boolean(j.quick) === Boolean(meta.quick) ? j : null);
    const gemm = meta.gemmFresh ? same(readJson(join(outDir, 'gemm.json'))) : null;
    const train = meta.trainFresh ? same(readJson(join(outDir, 'train.json'))) : null;
    const stats = meta.statsFresh ? same(readJson(join(outDir, 'stats.json'))) : null;
    writeReport(meta.quick ? join(outDir, 'RESULTS.quick.md') : resultsPath, meta, gemm, train, stats);
    return;
  }
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  const busyBefore = await cpuBusy(2000);
  const loadBefore = os.loadavg();
  const started = new Date();
  const passArgs = opts.quick ? ['--quick'] : [];
  mkdirSync(outDir, { recursive: true });

  const status = {};
  if (!opts['skip-gemm']) status.gemm = await runScript('bench/gemm.mjs', passArgs);
  if (!opts['skip-train']) status.train = await runScript('bench/train.mjs', passArgs);
  if (!opts['skip-stats']) status.stats = await runScript('bench/stats-cost.mjs', passArgs);
  // bench/threads.mjs prints its own tables (no JSON): kept verbatim for the report.
  if (!opts['skip-threads']) {
    const r = await runScript('bench/threads.mjs', passArgs, true);
    writeFileSync(join(outDir, opts.quick ? 'threads.quick.txt' : 'threads.txt'), r.out);
    status.threads = { code: r.code, signal: r.signal };
  }
  const finished = new Date();

  // Only read outputs written by this run: a stale file from an earlier run must not be
  // reported as today's figures.
  const gemm = readFresh(join(outDir, 'gemm.json'), started);
  const train = readFresh(join(outDir, 'train.json'), started);
  const stats = readFresh(join(outDir, 'stats.json'), started);

  const meta = {
    quick: opts.quick,
    skipGemm: opts['skip-gemm'],
    skipTrain: opts['skip-train'],
    skipStats: opts['skip-stats'],
    skipThreads: opts['skip-threads'],
    started: started.toISOString(),
    finished: finished.toISOString(),
    command: commandLine(),
    cpu: cpuModel(),
    cores,
    memGiB: os.totalmem() / 2 ** 30,
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    v8: process.versions.v8,
    tfjs: readJson(join(root, 'node_modules/@tensorflow/tfjs-core/package.json'))?.version ?? '?',
    commit: git(['rev-parse', '--short', 'HEAD']),
    dirty: Boolean(git(['status', '--porcelain', '--untracked-files=no'])),
    busyBefore,
    loadBefore,
    loadAfter: os.loadavg(),
    status,
    gemmFresh: Boolean(gemm),
    trainFresh: Boolean(train),
    statsFresh: Boolean(stats),
  };
  writeFileSync(metaPath, JSON.stringify(meta, null, 2) + '\n');
  writeReport(resultsPath, meta, gemm, train, stats);

  const failed = Object.entries(status).filter(([, s]) => s.code !== 0);
  if (failed.length) {
    console.error(`error: ${failed.map(([k, s]) => `bench/${k}.mjs exited ${exitOf(s)}`).join(', ')}`);
    process.exit(1);
  }
}

/** bench/RESULTS.md from the run's metadata and the scripts' JSON (null = none this run). */
function writeReport(path, meta, gemm, train, stats) {
  const { status } = meta;
  const busyNote =
    meta.busyBefore == null
      ? `load average ${meta.loadBefore[0].toFixed(2)} (1 min) on ${meta.cores} cores when the run started`
      : `${(meta.busyBefore * 100).toFixed(0)}% of the ${meta.cores} cores were busy in the 2 s before the run started ` +
        `(load average ${meta.loadBefore[0].toFixed(2)} at start, ${meta.loadAfter[0].toFixed(2)} at the end)`;
  const othersRunning = (meta.busyBefore ?? 0) > 0.15 || meta.loadBefore[0] > 0.5;
  const minutes = (Date.parse(meta.finished) - Date.parse(meta.started)) / 60000;

  const md = [];
  md.push('# gradguard benchmark results', '');
  md.push(
    meta.quick
      ? '**Smoke run (`--quick`): a few steps per contender. The figures below are not measurements; they only show that every script and contender runs.**'
      : 'This file holds the **latest full run** of `npm run bench`; bench/run.mjs overwrites it (earlier runs are in git history). ' +
          'How each figure is measured: [bench/README.md](README.md).',
    '',
  );
  md.push(`- Date: ${meta.started.replace('T', ' ').slice(0, 19)} UTC (took ${minutes.toFixed(1)} min)`);
  md.push(`- Machine: ${meta.cpu}, ${meta.cores} cores, ${meta.memGiB.toFixed(1)} GiB RAM, ${meta.os}`);
  md.push(`- Node ${meta.node}, V8 ${meta.v8}; TensorFlow.js ${meta.tfjs}`);
  md.push(`- gradguard commit ${meta.commit ?? 'unknown'}${meta.dirty ? ' (with uncommitted changes)' : ''}`);
  md.push(
    `- Load: ${busyNote}.` +
      (othersRunning ? ' **Other processes were running during this benchmark; absolute figures are noisy, ratios from the same run are the figures to trust.**' : ''),
  );
  md.push(`- Command: \`${meta.command}\``, '');

  md.push('## GEMM (GFLOP/s = 2·m·n·k / t)', '');
  if (meta.skipGemm) md.push('(skipped with --skip-gemm)');
  else if (!gemm) md.push(`bench/gemm.mjs wrote no (fresh) bench/out/gemm.json (it exited ${exitOf(status.gemm)}); no GEMM figures.`);
  else {
    md.push(gemmSectionMarkdown(gemm));
    if (status.gemm.code !== 0) md.push('', `bench/gemm.mjs exited ${exitOf(status.gemm)}: figures may be incomplete.`);
  }
  md.push('');

  md.push('## MNIST training throughput (samples/s)', '');
  md.push(
    'Seed model 784-128(relu)-128(relu)-10(softmax), glorot-uniform, Adam(lr 1e-3), sparse categorical cross-entropy, ' +
      'real MNIST (60,000 training images), same data for every contender.',
    '',
  );
  if (meta.skipTrain) md.push('(skipped with --skip-train)');
  else if (!train) md.push(`bench/train.mjs wrote no (fresh) bench/out/train.json (it exited ${exitOf(status.train)}); no training figures.`);
  else {
    md.push(trainTableMarkdown(train));
    const head = meta.quick ? null : headline(train);
    if (head) md.push('', head);
  }
  md.push('');

  md.push('## Cost of the gradient-health statistics in fit()', '');
  if (meta.skipStats) md.push('(skipped with --skip-stats)');
  else if (!stats) md.push(`bench/stats-cost.mjs wrote no (fresh) bench/out/stats.json (it exited ${exitOf(status.stats ?? { code: '?' })}); no figures.`);
  else {
    md.push(statsSectionMarkdown(stats));
    if (status.stats && status.stats.code !== 0) md.push('', `bench/stats-cost.mjs exited ${exitOf(status.stats)}: figures may be incomplete.`);
  }
  md.push('');

  md.push('## Thread scaling (simd-threads build)', '');
  const threadsOut = meta.skipThreads === false || meta.skipThreads === undefined
    ? (() => { try { return readFileSync(join(outDir, meta.quick ? 'threads.quick.txt' : 'threads.txt'), 'utf8'); } catch { return null; } })()
    : null;
  if (meta.skipThreads) md.push('(skipped with --skip-threads)');
  else if (!threadsOut) md.push(`bench/threads.mjs printed nothing (it exited ${exitOf(status.threads ?? { code: '?' })}).`);
  else {
    md.push('Output of `node bench/threads.mjs` (medians of interleaved rounds: simd, simd-threads on 1 and 2 threads):', '', '```', threadsOut.trim(), '```');
    if (status.threads && status.threads.code !== 0) md.push('', `bench/threads.mjs exited ${exitOf(status.threads)}: figures may be incomplete.`);
  }
  md.push('');

  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, md.join('\n'));
  console.log(`\nwrote ${relative(process.cwd(), path)}`);
}

/** The statistics' cost table (bench/stats-cost.mjs's JSON). */
function statsSectionMarkdown(stats) {
  const lines = [
    `The simd build's \`fit()\` on ${stats.images.toLocaleString('en-US')} MNIST images per epoch, three models built alike (same seed) in one process, ` +
      `one epoch each per round in an order that rotates every round; cost = 1 − samples/s with statistics ÷ without, within a round: ` +
      `median and range over ${stats.rounds} round(s). Issue 3's goal: ≤ 5% collected every step, negligible every 16 steps.`,
    '',
    '| batch | statistics collected | cost (median) | range over rounds |',
    '|---:|---|---:|---|',
  ];
  const pct = (x) => `${(x * 100).toFixed(1)}%`;
  for (const c of stats.costs) {
    lines.push(`| ${c.batch} | every ${c.every === 1 ? 'step' : `${c.every} steps`} | ${pct(c.cost)} | ${pct(c.min)} … ${pct(c.max)} |`);
  }
  return lines.join('\n');
}

const exitOf = (s) => (s.signal ? `by ${s.signal}` : `with code ${s.code}`);

/** One sentence per gradguard variant: its ratio to TF.js wasm against issue 4's 10× goal. */
function headline(train) {
  const rows = train.summary.filter((r) => /^gradguard-[a-z0-9-]+(:\d+)?$/.test(r.contender) && r.ratioVsTfjsWasm != null);
  if (!rows.length) return null;
  const byVariant = new Map();
  for (const r of rows) byVariant.set(r.contender, [...(byVariant.get(r.contender) ?? []), r]);
  const both = (paired, ofMedians, d) => `${paired.toFixed(d)}×${ofMedians == null ? '' : ` (ratio of medians ${ofMedians.toFixed(d)}×)`}`;
  const parts = [...byVariant].map(
    ([c, rs]) => `${label(c)}: ${rs.map((r) => `${both(r.ratioVsTfjsWasm, r.ratioOfMediansVsTfjsWasm, 1)} at batch ${r.batch}`).join(', ')}`,
  );
  let text = `Ratio to ${label(BASELINE)}, paired by repetition (goal of issue 4: ≥ 10× on one thread) — ${parts.join('; ')}.`;
  // Thread scaling: each simd-threads:<n> row over the single-threaded simd row, paired.
  const scaling = [];
  for (const r of rows) {
    if (!/^gradguard-simd-threads:\d+$/.test(r.contender)) continue;
    const one = train.summary.find((b) => b.contender === 'gradguard-simd' && b.batch === r.batch);
    const paired = pairedRatio(train.runs, r.contender, 'gradguard-simd', r.batch);
    if (paired != null) scaling.push(`${label(r.contender)} ÷ simd at batch ${r.batch}: ${both(paired, one?.samplesPerSec && r.samplesPerSec ? r.samplesPerSec / one.samplesPerSec : null, 2)}`);
  }
  if (scaling.length) text += ` Thread scaling, paired (goal ≥ 1.7× on 2 cores at batch ≥ 128): ${scaling.join(', ')}.`;
  return text;
}

main().catch((err) => {
  console.error(`bench/run.mjs: ${err?.stack ?? err}`);
  process.exit(2);
});
