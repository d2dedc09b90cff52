// Thread scaling of the simd-threads kernel (issue 4, item 3): GEMM 256³ / 1024³ (NN, TN, NT)
// and MNIST-shaped training steps (784-128-128-10, Adam) at batch 32, 128 and 256 (quick: 32, 128), each on 1 and 2
// worker threads, against the single-threaded simd build. Samples are interleaved round by
// round (simd, 1 thread, 2 threads) so a burst of load on the shared machine hits all alike;
// medians are printed. Last, a host check: how much two independent single-thread processes gain
// over one on this machine at that moment, the ceiling for any 2-thread figure above, and what two
// threads keep of it when they also wait for each other after every step (see the
// hostCheck comment). Never asserts on time.
//
//   bash scripts/build-wasm.sh simd simd-threads && npx tsup && node bench/threads.mjs [--quick]
import os from 'node:os';
import { spawn } from 'node:child_process';
import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { createWasmBackend } from '../dist/index.js';
import { adamPair } from './cross-core.mjs';

const quick = process.argv.includes('--quick');
// --child=SECONDS: the host check's worker process (see hostCheck below): one simd trainStep
// loop at batch 128 for SECONDS after a warm-up; prints its samples/s and exits.
const childArg = process.argv.find((a) => a.startsWith('--child='));
const ROUNDS = quick ? 3 : 11;
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
// ×2/×1 is the ratio of the two medians; "paired" is the median over rounds of (1-thread time ÷
// 2-thread time) of the same round, whose samples are adjacent in time: on this shared machine
// the host's load drifts over seconds, which the pairing cancels and the medians do not.
const paired = (t1, t2) => median(t1.map((t, i) => t / t2[i]));

function fill(f32, seed) {
  let s = seed >>> 0;
  for (let i = 0; i < f32.length; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; f32[i] = (s >>> 8) / 16777216 - 0.5; }
}

function mnistStep(b, batch, stats) {
  const m = b.createModel(spec);
  m.layout.forEach((l, i) => m.initTensor(l.wOffset, l.wLength, 'glorot_uniform', spec.layers[i].inputSize, spec.layers[i].units, 0, i));
  m.setOptimizer(adam);
  m.setCollectStats(stats);
  const x = new Float32Array(batch * 784); fill(x, 3);
  const y = Int32Array.from({ length: batch }, (_, i) => i % 10);
  return { m, batch, call: () => m.trainStep(x, y, batch) };
}

const spec = {
  layers: [
    { kind: 'dense', inputSize: 784, units: 128, activation: 'relu', activationParam: 0, useBias: true },
    { kind: 'dense', inputSize: 128, units: 128, activation: 'relu', activationParam: 0, useBias: true },
    { kind: 'dense', inputSize: 128, units: 10, activation: 'softmax', activationParam: 0, useBias: true },
  ],
  loss: 'sparse_categorical_crossentropy', fromLogits: false,
};
const adam = { kind: 'adam', learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, momentum: 0, nesterov: false,
  weightDecay: 0, rho: 0.9, initialAccumulatorValue: 0.1, clipValue: 0, clipNorm: 0, globalClipNorm: 0 };

// --lockstep=SECONDS: the host check's other child: two worker threads, each its own simd step
// loop at batch 128 on its own model (no shared data), meeting at a spin barrier after every
// step; prints the pair's samples/s together. Each worker runs the branch just below.
const lockstepArg = process.argv.find((a) => a.startsWith('--lockstep='));
if (!isMainThread && workerData?.lockstep) {
  const { id, ctl, seconds } = workerData;
  const backend = await createWasmBackend({ variant: 'simd' });
  const { call, batch } = mnistStep(backend, 128, false);
  for (let i = 0; i < 30; i++) call();
  // ctl: [0] arrivals at the barrier, [1] workers ready, [2] stop (set by worker 0 before it
  // arrives, so both read the same value once the barrier opens)
  Atomics.add(ctl, 1, 1);
  while (Atomics.load(ctl, 1) < 2);
  let steps = 0;
  const t0 = performance.now();
  for (;;) {
    call();
    steps++;
    if (id === 0 && performance.now() - t0 >= seconds * 1000) Atomics.store(ctl, 2, 1);
    Atomics.add(ctl, 0, 1);
    while (Atomics.load(ctl, 0) < 2 * steps);
    if (Atomics.load(ctl, 2)) break;
  }
  parentPort.postMessage(steps * batch / ((performance.now() - t0) / 1000));
  await backend.dispose();
  await new Promise(() => {}); // the parent terminates this worker; the script's main part must not run here
} else if (lockstepArg) {
  const ctl = new Int32Array(new SharedArrayBuffer(16));
  const seconds = Number(lockstepArg.slice(11));
  const workers = [0, 1].map((id) => new Worker(new URL(import.meta.url), { workerData: { lockstep: true, id, ctl, seconds } }));
  const rates = await Promise.all(workers.map((w) => new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); })));
  await Promise.all(workers.map((w) => w.terminate()));
  console.log(String(rates[0] + rates[1]));
  process.exit(0);
}

if (childArg) {
  const backend = await createWasmBackend({ variant: 'simd' });
  const { call, batch } = mnistStep(backend, 128, false);
  for (let i = 0; i < 30; i++) call();
  console.log(String(batch / sample(call, Number(childArg.slice(8)))));
  await backend.dispose();
  process.exit(0);
}

const contenders = [
  ['simd', await createWasmBackend({ variant: 'simd' })],
  ['threads×1', await createWasmBackend({ variant: 'simd-threads', threads: 1 })],
  ['threads×2', await createWasmBackend({ variant: 'simd-threads', threads: 2 })],
];

function gemmSetup(b, [ta, tb, m, n, k]) {
  const K = b.kernel;
  const pa = K.alloc(m * k * 4), pb = K.alloc(k * n * 4), pc = K.alloc(m * n * 4);
  fill(K.f32.subarray(pa >> 2, (pa >> 2) + m * k), 1);
  fill(K.f32.subarray(pb >> 2, (pb >> 2) + k * n), 2);
  const lda = ta ? m : k, ldb = tb ? k : n;
  const call = () => K.sgemm(ta, tb, m, n, k, 1, pa, lda, pb, ldb, 0, pc, n);
  return { call, free: () => { K.free(pa, m * k * 4); K.free(pb, k * n * 4); K.free(pc, m * n * 4); } };
}

function sample(call, minS) {
  let reps = 0; const t0 = performance.now();
  do { call(); reps++; } while (performance.now() - t0 < minS * 1000);
  return (performance.now() - t0) / 1000 / reps;
}

console.log(`node ${process.version}, ${os.availableParallelism()} cores, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log('\nGEMM GFLOP/s (median of', ROUNDS, 'interleaved rounds)');
console.log('shape          simd   thr×1   thr×2   ×2/×1  paired');
for (const s of quick ? [256] : [256, 1024]) {
  for (const [name, ta, tb] of [['NN', false, false], ['TN', true, false], ['NT', false, true]]) {
    const shape = [ta, tb, s, s, s];
    const setups = contenders.map(([, b]) => gemmSetup(b, shape));
    setups.forEach((x) => { for (let i = 0; i < 3; i++) x.call(); });
    const times = setups.map(() => []);
    for (let r = 0; r < ROUNDS; r++) setups.forEach((x, i) => times[i].push(sample(x.call, s >= 1024 ? 0.3 : 0.05)));
    const g = times.map((t) => 2 * s * s * s / median(t) / 1e9);
    console.log(`${name} ${s}³`.padEnd(12), g.map((x) => x.toFixed(1).padStart(7)).join(' '), (g[2] / g[1]).toFixed(2).padStart(7), paired(times[1], times[2]).toFixed(2).padStart(7));
    setups.forEach((x) => x.free());
  }
}

console.log('\nMNIST-shaped training samples/s (784-128-128-10, Adam, random data; median of', ROUNDS, 'rounds)');
// "worker": the share of the ×2 run's parallel passes that its worker thread took part in
// (WasmBackend.poolActivity); a pass without it runs at one thread's speed, so a low share
// explains a low ×2 figure (a worker descheduled by the host, or asleep and late).
console.log('batch  stats   simd    thr×1   thr×2   ×2/×1  paired  worker');
for (const batch of quick ? [32, 128] : [32, 128, 256]) {
  for (const stats of [false, true]) {
    const runs = contenders.map(([, b]) => mnistStep(b, batch, stats));
    runs.forEach((r) => { for (let i = 0; i < 20; i++) r.call(); });
    const times = runs.map(() => []);
    const a0 = contenders[2][1].poolActivity;
    for (let r = 0; r < ROUNDS; r++) runs.forEach((x, i) => times[i].push(sample(x.call, 0.25)));
    const a1 = contenders[2][1].poolActivity, passes = a1.passes - a0.passes;
    const worker = passes > 0 ? `${(100 * (1 - (a1.passesWithoutWorker - a0.passesWithoutWorker) / passes)).toFixed(1)}%` : '–';
    const sps = times.map((t) => batch / median(t));
    console.log(String(batch).padEnd(6), String(stats).padEnd(6), sps.map((x) => x.toFixed(0).padStart(7)).join(' '), (sps[2] / sps[1]).toFixed(2).padStart(7), paired(times[1], times[2]).toFixed(2).padStart(7), worker.padStart(7));
    runs.forEach((r) => r.m.dispose());
  }
}
// hostCheck. What this machine gives two cores' worth of independent work right now. These VMs'
// two cores do not always run at the same speed (one process alone has measured 85k and 55k
// samples/s within minutes), so a thread-scaling figure means little without it. Each round:
// one child process running the simd step alone, then two at once (no shared memory, no
// synchronisation: the best any data-parallel split could do), then our simd and simd-threads
// ×2 steps in this process; the children run while this process waits, and nothing else runs.
// "host" = (sum of the pair's samples/s) ÷ the lone one's; "equal halves" = twice the slower of
// the pair ÷ the lone one: a step split into two equal halves waits for its slower half, so when
// one core runs slower (measured: a pair at 71k and 55k against 75k alone) this, not "host",
// bounds our split; "lockstep" = two step loops in two threads of one process, each on its own
// model, meeting at a barrier after every step (child --lockstep), ÷ the lone one: what it costs
// two threads to wait for each other once per step on this host (vCPUs are descheduled and slowed
// independently), which any split that joins its halves every step pays too. The rest of the gap
// between "lockstep" and "ours" is data crossing between the cores (crates/kernel/src/model.rs,
// Model::step_chunks); "ours" = threads×2 ÷ simd.
// Floats per array of the write-after-read probe: MNIST's first layer (bench/cross-core.mjs).
const N_PROBE = 100352;
async function child(seconds, mode = 'child') {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [fileURLToPath(import.meta.url), `--${mode}=${seconds}`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(Number(out.trim())) : reject(new Error(`host check child exited with code ${code}`))));
  });
}
{
  const R = quick ? 2 : 7, secs = quick ? 0.3 : 0.8;
  const ours = [contenders[0][1], contenders[2][1]].map((b) => mnistStep(b, 128, false));
  ours.forEach((r) => { for (let i = 0; i < 20; i++) r.call(); });
  const host = [], halves = [], locked = [], crossing = [], mine = [];
  const probe = adamPair(N_PROBE, 1);
  for (let r = 0; r < R; r++) {
    const alone = await child(secs);
    const pair = await Promise.all([child(secs), child(secs)]);
    const lockstep = await child(secs, 'lockstep');
    const war = await probe.writeAfterRead(quick ? 5 : 40);
    crossing.push((war.other - war.self) * 1000 / (N_PROBE * 4 / 64));
    const [t1, t2] = ours.map((x) => sample(x.call, secs));
    host.push((pair[0] + pair[1]) / alone);
    halves.push(2 * Math.min(...pair) / alone);
    locked.push(lockstep / alone);
    mine.push(t1 / t2);
  }
  ours.forEach((r) => r.m.dispose());
  await probe.terminate();
  console.log(`\nHost check (batch 128, ${R} rounds): two independent simd processes at once run ${median(host).toFixed(2)}× one alone ` +
    `(rounds: ${host.map((x) => x.toFixed(2)).join(' ')}); twice the slower of the two: ${median(halves).toFixed(2)}× ` +
    `(${halves.map((x) => x.toFixed(2)).join(' ')}); two step loops in one process meeting at a barrier after every step: ` +
    `${median(locked).toFixed(2)}× (${locked.map((x) => x.toFixed(2)).join(' ')}); simd-threads ×2 ÷ simd in the same rounds: ${median(mine).toFixed(2)} ` +
    `(${mine.map((x) => x.toFixed(2)).join(' ')}). The first is the ceiling this host offered to any 2-thread split during the run; ` +
    'the second, to one that splits each step into two equal halves, as ours does at batch 128; the third, to one whose halves ' +
    'also wait for each other every step, as ours do. ' +
    `Writing memory the other core has just read cost ${median(crossing).toFixed(1)} ns more per 64-byte line than memory ` +
    `this core read (rounds: ${crossing.map((x) => x.toFixed(1)).join(' ')}; bench/cross-core.mjs): a row-split step's update ` +
    'writes every weight both cores read in its forward pass: 7,393 lines at MNIST\'s 118,282 parameters, half on each core.');
}
console.log(`load average after: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
await Promise.all(contenders.map(([, b]) => b.dispose()));
