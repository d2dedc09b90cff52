// GEMM benchmark: verify first, then time (the habit of llm.c dev/cpu/matmul_forward.c).
//
//   npm run build && node bench/gemm.mjs [--quick] [--only=simd,relaxed-simd,simd-threads,scalar,tfjs]
//
// Compares, per shape and transposition case (NN: C = A·B, TN: C = Aᵀ·B, NT: C = A·Bᵀ):
//   peak          the WebAssembly SIMD128 peak of one core (bench/gemm-peak.mjs: 12 independent
//                 f32x4 mul+add chains), the 100% for simd and scalar
//   relaxed peak  the same loop with one f32x4.relaxed_madd per chain, the 100% for relaxed-simd
//   simd          gradguard's wasm/gradguard-simd.wasm (gg_sgemm)
//   relaxed-simd  wasm/gradguard-relaxed-simd.wasm (its micro-kernel uses f32x4.relaxed_madd).
//                 Node 20 needs --experimental-wasm-relaxed-simd: this script re-runs itself with
//                 the flag (gemm-peak.mjs, reexecWithRelaxedSimd); an engine without relaxed SIMD
//                 gets "not supported" in its column instead of figures.
//   simd-threads:2  the simd-threads build on 2 threads (createWasmBackend from dist/, so it needs
//                 `npm run build`), only on the "big" shapes (128×784×128 and 256³+): the MNIST
//                 products stay on the calling thread by design (PAR_MIN_MACS in
//                 crates/kernel/src/gemm/mod.rs), so 2 threads would measure the simd-threads
//                 build's single-thread code. Its % of peak is against 2 × the one-core peak, and
//                 "×2 ÷ simd" is its thread scaling (median over rounds of simd time ÷ its time).
//   scalar        wasm/gradguard-scalar.wasm
//   tfjs          TensorFlow.js 4.22 wasm backend (XNNPACK), tf.matMul(a, b, transposeA, transposeB)
// GFLOP/s = 2·m·n·k / t, t the median of several samples. The machine is shared (2 cores,
// several agents), so samples of all implementations and of both peak loops are interleaved
// round by round and medians are taken: a burst of load then hits every column alike. % of peak
// is the median of per-round ratios (ours / its peak in the same round), the most load-robust
// number here. "best" is the fastest sample of ours and of the peak loop (the least disturbed
// ones). Absolute GFLOP/s still drift a lot between runs when the machine is busy; compare
// columns of one run, not runs.
//
// A variant whose wasm file is missing, whose engine feature is absent or whose backend fails to
// load is listed as unavailable (with the reason) and skipped: never a crash, never a failure.
// Writes bench/out/gemm.json. Never asserts on time; exits non-zero only if a result is wrong.
import { readFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { peakKernel, relaxedSimdSupported, reexecWithRelaxedSimd, RELAXED_FLAG } from './gemm-peak.mjs';

// Node 20: re-run this script with --experimental-wasm-relaxed-simd (returns when not needed).
reexecWithRelaxedSimd(import.meta.url);

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyArg = args.find((a) => a.startsWith('--only='));
const only = onlyArg ? onlyArg.slice(7).split(',') : null;
const want = (name) => !only || only.includes(name);
const THREADS = 2; // the simd-threads column's pool size (issue 4: scaling on 2 cores)
const THREADED = `simd-threads:${THREADS}`;

// Dense layer x(batch,in)·W(in,out): forward NN (batch,out,in), dW = xᵀ·dz TN (in,out,batch),
// dx = dz·Wᵀ NT (batch,in,out). Each entry: [case, m, n, k, label, big]; `big` shapes also get
// the simd-threads column.
const mnist = [];
for (const [bi, inp, out] of [[32, 784, 128], [32, 128, 128], [32, 128, 10]]) {
  mnist.push(['NN', bi, out, inp, `fwd ${bi}x${inp}x${out}`, false]);
  mnist.push(['TN', inp, out, bi, `dW  ${bi}x${inp}x${out}`, false]);
  mnist.push(['NT', bi, inp, out, `dx  ${bi}x${inp}x${out}`, false]);
}
const square = [];
for (const s of quick ? [256] : [256, 512, 1024]) for (const c of ['NN', 'TN', 'NT']) square.push([c, s, s, s, `${s}³`, true]);
const extra = quick ? [] : [['NN', 128, 128, 784, '128x784x128', true], ['TN', 784, 128, 128, '128x784x128', true], ['NT', 128, 784, 128, '128x784x128', true]];
const shapes = [...mnist, ...extra, ...square];

const ROUNDS = quick ? 3 : 7;       // samples per implementation and shape (median taken)
const SAMPLE_S = quick ? 0.004 : 0.03; // each sample repeats the call for at least this long

// ---- deterministic inputs -------------------------------------------------------------------
function fillRandom(f32, seed) {
  let s = seed >>> 0;
  for (let i = 0; i < f32.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    f32[i] = (s >>> 8) / 16777216 - 0.5;
  }
}

// ---- our kernels ------------------------------------------------------------------------------
async function loadOurs(variant) {
  const bytes = readFileSync(join(root, 'wasm', `gradguard-${variant}.wasm`));
  const { instance } = await WebAssembly.instantiate(bytes, {});
  const ex = instance.exports;
  return {
    name: variant,
    prepare(c, m, n, k) {
      const [ar, ac] = c[0] === 'N' ? [m, k] : [k, m];
      const [br, bc] = c[1] === 'N' ? [k, n] : [n, k];
      const bytesA = 4 * ar * ac, bytesB = 4 * br * bc, bytesC = 4 * m * n;
      const pa = ex.gg_alloc(bytesA), pb = ex.gg_alloc(bytesB), pc = ex.gg_alloc(bytesC);
      if (!pa || !pb || !pc) throw new Error(`${variant}: gg_alloc failed`);
      const view = (p, len) => new Float32Array(ex.memory.buffer, p, len);
      return {
        load(A, B) { view(pa, A.length).set(A); view(pb, B.length).set(B); },
        run() {
          ex.gg_sgemm(c[0] === 'T' ? 1 : 0, c[1] === 'T' ? 1 : 0, m, n, k, 1.0, pa, ac, pb, bc, 0.0, pc, n);
        },
        result() { return view(pc, m * n).slice(); },
        free() { ex.gg_free(pa, bytesA); ex.gg_free(pb, bytesB); ex.gg_free(pc, bytesC); },
      };
    },
  };
}

// The simd-threads build through the package (dist/index.js): its worker pool (worker_threads
// in Node) is set up by createWasmBackend, which a raw instantiate cannot do. The same gg_sgemm
// via backend.kernel; dispose() ends the pool so the process exits.
async function loadThreaded(threads) {
  const { createWasmBackend } = await import(pathToFileURL(join(root, 'dist', 'index.js')).href);
  const backend = await createWasmBackend({ variant: 'simd-threads', threads });
  // createWasmBackend falls back to 'simd' (with a notice) when threads are unavailable: a
  // fallback must not be reported as the threaded build.
  if (backend.variant !== 'simd-threads' || backend.threads !== threads) {
    await backend.dispose();
    throw new Error(`got the ${backend.variant} build on ${backend.threads} thread(s), not simd-threads on ${threads}`);
  }
  const K = backend.kernel;
  return {
    name: `simd-threads:${threads}`,
    dispose: () => backend.dispose(),
    prepare(c, m, n, k) {
      const [ar, ac] = c[0] === 'N' ? [m, k] : [k, m];
      const [br, bc] = c[1] === 'N' ? [k, n] : [n, k];
      const bytesA = 4 * ar * ac, bytesB = 4 * br * bc, bytesC = 4 * m * n;
      const pa = K.alloc(bytesA), pb = K.alloc(bytesB), pc = K.alloc(bytesC);
      if (!pa || !pb || !pc) throw new Error(`simd-threads: alloc failed`);
      // K.f32 re-creates its view when the (shared) memory has grown.
      return {
        load(A, B) { K.f32.set(A, pa >> 2); K.f32.set(B, pb >> 2); },
        run() { K.sgemm(c[0] === 'T', c[1] === 'T', m, n, k, 1.0, pa, ac, pb, bc, 0.0, pc, n); },
        result() { return K.f32.slice(pc >> 2, (pc >> 2) + m * n); },
        free() { K.free(pa, bytesA); K.free(pb, bytesB); K.free(pc, bytesC); },
      };
    },
  };
}

// ---- TensorFlow.js wasm backend -----------------------------------------------------------------
async function loadTfjs() {
  const require = createRequire(import.meta.url);
  const tf = require('@tensorflow/tfjs-core');
  const wasmBackend = require('@tensorflow/tfjs-backend-wasm');
  const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')) + '/dist/';
  wasmBackend.setWasmPaths(dist);
  await tf.setBackend('wasm');
  await tf.ready();
  return {
    name: 'tfjs',
    prepare(c, m, n, k) {
      let a, b;
      const [ta, tb] = [c[0] === 'T', c[1] === 'T'];
      let out = null;
      return {
        load(A, B) {
          a = tf.tensor2d(A, ta ? [k, m] : [m, k]);
          b = tf.tensor2d(B, tb ? [n, k] : [k, n]);
        },
        // The wasm backend runs the kernel synchronously inside matMul; dispose so memory stays flat.
        run() { if (out) out.dispose(); out = tf.matMul(a, b, ta, tb); },
        result() { return out.dataSync().slice(); },
        free() { a.dispose(); b.dispose(); if (out) out.dispose(); },
      };
    },
  };
}

// ---- verification ------------------------------------------------------------------------------
// Checks up to 2000 entries of C against an f64 reference. Inputs are in [-0.5, 0.5), so
// |C| ≤ k/4; tolerance k·2^-22 covers f32 accumulation error for any summation order
// (error ≤ k·ε·Σ|a·b| ≤ k·2^-24·k/4 is far looser; this is the observed-typical bound ×8).
function verify(name, c, m, n, k, A, B, C) {
  const [lda, ldb] = [c[0] === 'N' ? k : m, c[1] === 'N' ? n : k];
  const at = (i, p) => (c[0] === 'N' ? A[i * lda + p] : A[p * lda + i]);
  const bt = (p, j) => (c[1] === 'N' ? B[p * ldb + j] : B[j * ldb + p]);
  const total = m * n, step = Math.max(1, Math.floor(total / 2000));
  const tol = Math.max(1e-5, k * 2 ** -22);
  for (let idx = 0; idx < total; idx += step) {
    const i = Math.floor(idx / n), j = idx % n;
    let s = 0;
    for (let p = 0; p < k; p++) s += at(i, p) * bt(p, j);
    if (!(Math.abs(C[idx] - s) <= tol)) {
      throw new Error(`${name} ${c} ${m}x${n}x${k}: C[${i},${j}] = ${C[idx]}, want ${s} (tol ${tol})`);
    }
  }
}

// ---- timing ------------------------------------------------------------------------------------
const now = () => Number(process.hrtime.bigint()) * 1e-9;
function calibrate(run) {
  let reps = 1;
  for (;;) {
    const t0 = now();
    for (let r = 0; r < reps; r++) run();
    const t = now() - t0;
    if (t >= SAMPLE_S) return reps;
    reps = Math.ceil(reps * Math.min(10, Math.max(2, (SAMPLE_S * 1.2) / Math.max(t, 1e-6))));
  }
}
function sample(run, reps) {
  const t0 = now();
  for (let r = 0; r < reps; r++) run();
  return (now() - t0) / reps;
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };

// ---- main --------------------------------------------------------------------------------------
// Implementations in table order; `unavailable` names each one that was asked for but cannot run
// here, with the reason (shown in the tables instead of figures).
const impls = [];
const unavailable = {};
const relaxed = relaxedSimdSupported();
const wasmFile = (v) => join(root, 'wasm', `gradguard-${v}.wasm`);
for (const v of ['simd', 'relaxed-simd', THREADED, 'scalar', 'tfjs']) {
  if (!want(v) && !(v === THREADED && want('simd-threads'))) continue;
  const file = wasmFile(v === THREADED ? 'simd-threads' : v);
  try {
    if (v !== 'tfjs' && !existsSync(file)) { unavailable[v] = `no wasm/${file.split('/').pop()} (build it: bash scripts/build-wasm.sh)`; continue; }
    if (v === 'relaxed-simd' && !relaxed) { unavailable[v] = `not supported by this engine (Node ${process.version}; Node 20 needs ${RELAXED_FLAG}, Node 22+ has it)`; continue; }
    impls.push(v === 'tfjs' ? await loadTfjs() : v === THREADED ? await loadThreaded(THREADS) : await loadOurs(v));
  } catch (e) {
    unavailable[v] = `failed to load: ${String(e?.message ?? e).split('\n')[0]}`;
  }
}
for (const [v, why] of Object.entries(unavailable)) console.log(`${v}: ${why}`);

// Both peaks are sampled inside every round of every shape, next to the GEMM samples, so that
// "% of peak" compares numbers taken under the same machine load: % of peak is the median over
// rounds of (ours GFLOP/s in round r) / (its peak's GFLOP/s in round r). The relaxed peak is
// measured whenever the engine has relaxed SIMD (even with no relaxed-simd build to compare).
const peak = await peakKernel(12);
const peakR = relaxed ? await peakKernel(12, { fused: true }) : null;
// Warm-up: V8 first runs wasm in its baseline compiler (Liftoff) and swaps in optimised
// (TurboFan) code after a function has run hot, on a background thread; on a busy machine that
// takes a while. Without this the first shapes measured baseline code.
for (let i = 0; i < 20; i++) { peak.run(1e5); peakR?.run(1e5); }
for (const impl of impls) {
  for (const c of ['NN', 'TN', 'NT']) {
    const h = impl.prepare(c, 64, 64, 64);
    h.load(new Float32Array(64 * 64).fill(0.5), new Float32Array(64 * 64).fill(0.25));
    const t0 = now();
    while (now() - t0 < (quick ? 0.05 : 0.2)) h.run();
    h.free();
  }
}
const peakIters = Math.round((SAMPLE_S * 45e9) / peak.flopsPerIter); // ~SAMPLE_S at ~45 GFLOP/s
const peakSample = (p) => (p.flopsPerIter * peakIters) / p.run(peakIters) / 1e9;
const peakAll = [], peakRAll = [];
// After a sample of the threaded build its helper spins on the pool's board for SPIN_ROUNDS
// polls (~0.5–1 ms, crates/kernel/src/pool.rs) before it sleeps: on 2 cores that spinning
// would share a core with the next sample. Sleeping (not spinning) this long lets it go idle.
const settle = new Int32Array(new SharedArrayBuffer(4));
const SETTLE_MS = 3;

const results = [];
let failures = 0;
for (const [c, m, n, k, label, big] of shapes) {
  const [ar, ac] = c[0] === 'N' ? [m, k] : [k, m];
  const [br, bc] = c[1] === 'N' ? [k, n] : [n, k];
  const A = new Float32Array(ar * ac), B = new Float32Array(br * bc);
  fillRandom(A, m * 7 + k), fillRandom(B, n * 13 + k);
  const live = [];
  const failed = [];
  for (const impl of impls) {
    if (impl.name === THREADED && !big) continue; // small shapes run on one thread by design
    let h = null;
    try {
      h = impl.prepare(c, m, n, k); // throws if the kernel cannot allocate A, B and C
      h.load(A, B);
      h.run();
      verify(impl.name, c, m, n, k, A, B, h.result());
    } catch (e) {
      console.error(`${h ? 'VERIFY ' : ''}FAILED: ${impl.name} ${c} ${m}x${n}x${k}: ${e.message}`);
      failures++;
      failed.push(impl.name);
      h?.free();
      continue;
    }
    live.push({ impl, h, reps: calibrate(h.run), ts: [] });
  }
  const flop = 2 * m * n * k;
  const peaks = [], peaksR = [];
  for (let r = 0; r < ROUNDS; r++) {
    peaks.push(peakSample(peak));
    if (peakR) peaksR.push(peakSample(peakR));
    for (const x of live) {
      const threaded = x.impl.name === THREADED;
      // One untimed call wakes the helper from its sleep (the first pass after a sleep finds
      // no hot helper and runs every chunk on the caller), so the sample times back-to-back
      // calls, as calibrate() did and as a training loop makes them.
      if (threaded) x.h.run();
      x.ts.push(sample(x.h.run, x.reps));
      if (threaded) Atomics.wait(settle, 0, 0, SETTLE_MS);
    }
  }
  peakAll.push(...peaks);
  peakRAll.push(...peaksR);
  const row = {
    case: c, m, n, k, label, gflops: {}, bestGflops: {}, pct: {}, failed,
    peakGflops: median(peaks), peakBest: Math.max(...peaks),
    ...(peakR ? { relaxedPeakGflops: median(peaksR), relaxedPeakBest: Math.max(...peaksR) } : {}),
  };
  // Each of ours against its own 100%: relaxed-simd against the relaxed_madd loop, the threaded
  // build against two cores' worth of the mul+add loop, the rest against the mul+add loop.
  const peakOf = (name, r) => (name === 'relaxed-simd' ? peaksR[r] : name === THREADED ? THREADS * peaks[r] : peaks[r]);
  for (const x of live) {
    const name = x.impl.name;
    row.gflops[name] = flop / median(x.ts) / 1e9;
    row.bestGflops[name] = flop / Math.min(...x.ts) / 1e9;
    if (name !== 'tfjs' && (name !== 'relaxed-simd' || peakR)) row.pct[name] = 100 * median(x.ts.map((t, r) => flop / t / 1e9 / peakOf(name, r)));
    x.h.free();
  }
  if (row.pct.simd !== undefined) row.pctPeak = row.pct.simd; // the field's name before relaxed/threads existed
  // Thread scaling, paired by round (adjacent samples see the same load): median of t_simd / t_threaded.
  const simdTs = live.find((x) => x.impl.name === 'simd')?.ts;
  const thrTs = live.find((x) => x.impl.name === THREADED)?.ts;
  if (simdTs && thrTs) row.threadScaling = median(simdTs.map((t, r) => t / thrTs[r]));
  results.push(row);
}
const peakG = median(peakAll);
const peakRG = peakRAll.length ? median(peakRAll) : null;
for (const impl of impls) await impl.dispose?.();

// ---- report ------------------------------------------------------------------------------------
const names = impls.map((i) => i.name);
const ours = names.filter((x) => x !== 'tfjs');
const short = (x) => ({ 'relaxed-simd': 'relaxed', [THREADED]: `thr×${THREADS}` }[x] ?? x);
const pad = (s, w) => String(s).padStart(w);
const head = ['case', '   m', '   n', '   k', 'shape'.padEnd(16), ' peak', ...(peakR ? ['rpeak'] : []), ...names.map((x) => pad(short(x), 7)),
  ...ours.map((x) => pad(`%${short(x)}`, 8)),
  ...(names.includes('simd') ? ['best: simd/peak'] : []),
  ...(names.includes('simd') && names.includes(THREADED) ? [`thr×${THREADS}÷simd`] : []),
  ...(names.includes('simd') && names.includes('tfjs') ? ['simd÷tfjs'] : [])];
console.log(`SIMD128 peak (12 f32x4 mul+add chains): ${peakG.toFixed(1)} GFLOP/s (median of ${peakAll.length} samples taken between the GEMM samples)`);
console.log(peakRG != null
  ? `relaxed-SIMD peak (12 f32x4.relaxed_madd chains): ${peakRG.toFixed(1)} GFLOP/s (median of ${peakRAll.length} samples)`
  : 'relaxed-SIMD peak: not measured (this engine has no relaxed SIMD)');
console.log(`GFLOP/s, median of interleaved samples (shared machine: expect ±10–20% noise); %x = % of x's peak ` +
  `(relaxed: of the relaxed peak; thr×${THREADS}: of ${THREADS}× the one-core peak); — = not run on this shape`);
console.log(head.join('  '));
for (const r of results) {
  const g = r.gflops;
  const cell = (x) => (g[x] !== undefined ? g[x].toFixed(1) : r.failed.includes(x) ? 'FAIL' : '—');
  const cols = [pad(r.case, 4), pad(r.m, 4), pad(r.n, 4), pad(r.k, 4), r.label.padEnd(16),
    pad(r.peakGflops.toFixed(1), 5), ...(peakR ? [pad(r.relaxedPeakGflops.toFixed(1), 5)] : []), ...names.map((x) => pad(cell(x), 7)),
    ...ours.map((x) => pad(r.pct[x] !== undefined ? `${r.pct[x].toFixed(0)}%` : '—', 8))];
  if (names.includes('simd')) cols.push(pad(g.simd !== undefined ? `${r.bestGflops.simd.toFixed(1)}/${r.peakBest.toFixed(1)}` : '—', 15));
  if (names.includes('simd') && names.includes(THREADED)) cols.push(pad(r.threadScaling !== undefined ? `${r.threadScaling.toFixed(2)}×` : '—', 10));
  if (names.includes('simd') && names.includes('tfjs')) cols.push(pad(g.simd !== undefined && g.tfjs !== undefined ? `${(g.simd / g.tfjs).toFixed(1)}×` : '—', 9));
  console.log(cols.join('  '));
}
mkdirSync(join(here, 'out'), { recursive: true });
writeFileSync(join(here, 'out', 'gemm.json'), JSON.stringify({
  date: new Date().toISOString(), node: process.version, execArgv: process.execArgv, quick,
  peakGflops: peakG, peakSamples: peakAll, relaxedPeakGflops: peakRG, relaxedPeakSamples: peakRAll,
  threads: THREADS, implementations: names, unavailable, rounds: ROUNDS, results,
}, null, 2));
console.log(`wrote bench/out/gemm.json`);
if (failures) { console.error(`${failures} verification failure(s)`); process.exit(1); }
