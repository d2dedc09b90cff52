// How much two cores slow each other when they write memory close together: the host fact
// behind how the kernel hands work to threads (crates/kernel/src/model.rs, Model::step_chunks;
// pool.rs, the two-ended board). Two worker threads run Adam's update (the kernel's flat loop:
// p, g, m, v of 100,352 f32 each, MNIST's first layer) on alternating blocks of the arrays —
// worker A the even blocks, worker B the odd ones — first each alone, then both at once, for
// block sizes from half the arrays down to 64 elements (256 bytes, a column block of a
// 128-wide weight row). Neither touches the other's bytes; only the distance between their
// writes changes. On the 2-core EPYC VMs this project runs on (2026-11-29, three runs):
//
//   block              half (196 KB)  64 KB  16 KB    4 KB     1 KB      256 B
//   both ÷ alone           1.0        1.1   1.2–1.4  1.7–2.4  3.4–3.6  5.5–6.3
//
// i.e. a split that gives each thread contiguous regions of ≥ 64 KB costs (almost) nothing,
// one that interleaves them at a weight row's column blocks costs 5.5–6.3×. Alone, a worker's
// half (50,176 elements) takes ~27 µs, as fast as a native SSE loop on the same VM; and two
// workers on separate arrays lose nothing together. Never asserts on time.
//
//   node bench/interleave.mjs [--quick]
//
// --quick (CI's smoke run): two block sizes, one repetition, few passes; proves the script runs,
// and its figures mean nothing (20 passes are too short for the two workers to overlap surely).
//
// The module, embedded below as bytes (wat2wasm --enable-threads of):
//   (module
//     (import "env" "memory" (memory 64 64 shared))
//     ;; Adam's update (as the kernel's flat loop: 4 streams p, g, m, v of n f32 each, from byte 0)
//     ;; on every second block of blk elements, starting at block `first`, reps times.
//     (func (export "run") (param $n i32) (param $blk i32) (param $first i32) (param $reps i32)
//       (local $k i32) (local $b i32) (local $o i32) (local $e i32) (local $n4 i32)
//       (local $g v128) (local $m v128) (local $v v128)
//       (local.set $n4 (i32.shl (local.get $n) (i32.const 2)))
//       (loop $rep
//         (local.set $b (local.get $first))
//         (block $done
//           (loop $blocks
//             (br_if $done (i32.ge_u (i32.mul (local.get $b) (local.get $blk)) (local.get $n)))
//             (local.set $o (i32.shl (i32.mul (local.get $b) (local.get $blk)) (i32.const 2)))
//             (local.set $e (i32.add (local.get $o) (i32.shl (local.get $blk) (i32.const 2))))
//             (if (i32.gt_u (local.get $e) (local.get $n4)) (then (local.set $e (local.get $n4))))
//             (loop $l
//               (local.set $g (v128.load (i32.add (local.get $o) (local.get $n4))))
//               (local.set $m (v128.load (i32.add (local.get $o) (i32.shl (local.get $n4) (i32.const 1)))))
//               (local.set $m (f32x4.add (local.get $m) (f32x4.mul (f32x4.sub (local.get $g) (local.get $m)) (f32x4.splat (f32.const 0.1)))))
//               (v128.store (i32.add (local.get $o) (i32.shl (local.get $n4) (i32.const 1))) (local.get $m))
//               (local.set $v (v128.load (i32.add (local.get $o) (i32.mul (local.get $n4) (i32.const 3)))))
//               (local.set $v (f32x4.add (local.get $v) (f32x4.mul (f32x4.sub (f32x4.mul (local.get $g) (local.get $g)) (local.get $v)) (f32x4.splat (f32.const 0.001)))))
//               (v128.store (i32.add (local.get $o) (i32.mul (local.get $n4) (i32.const 3))) (local.get $v))
//               (v128.store (local.get $o) (f32x4.sub (v128.load (local.get $o))
//                   (f32x4.div (f32x4.mul (local.get $m) (f32x4.splat (f32.const 0.001))) (f32x4.add (f32x4.sqrt (local.get $v)) (f32x4.splat (f32.const 1e-7))))))
//               (local.set $o (i32.add (local.get $o) (i32.const 16)))
//               (br_if $l (i32.lt_u (local.get $o) (local.get $e))))
//             (local.set $b (i32.add (local.get $b) (i32.const 2)))
//             (br $blocks)))
//         (local.set $reps (i32.sub (local.get $reps) (i32.const 1)))
//         (br_if $rep (local.get $reps))))
//   )
import { Worker } from 'node:worker_threads';

const quick = process.argv.includes('--quick');
const MODULE = 'AGFzbQEAAAABCAFgBH9/f38AAhABA2VudgZtZW1vcnkCA0BAAwIBAAcHAQNydW4AAAqRAgGOAgIFfwN7IABBAnQhCANAIAIhBQJAA0AgBSABbCAATw0BIAUgAWxBAnQhBiAGIAFBAnRqIQcgByAISwRAIAghBwsDQCAGIAhq/QAEACEJIAYgCEEBdGr9AAQAIQogCiAJIAr95QFDzczMPf0T/eYB/eQBIQogBiAIQQF0aiAK/QsEACAGIAhBA2xq/QAEACELIAsgCSAJ/eYBIAv95QFDbxKDOv0T/eYB/eQBIQsgBiAIQQNsaiAL/QsEACAGIAb9AAQAIApDbxKDOv0T/eYBIAv94wFDlb/WM/0T/eQB/ecB/eUB/QsEACAGQRBqIQYgBiAHSQ0ACyAFQQJqIQUMAAsLIANBAWshAyADDQALCw==';
const N = 100352, REPS = quick ? 20 : 500, ROUNDS = quick ? 1 : 5;
const module = new WebAssembly.Module(Buffer.from(MODULE, 'base64'));
const memory = new WebAssembly.Memory({ initial: 64, maximum: 64, shared: true });
const f32 = new Float32Array(memory.buffer);
for (let i = 0; i < N; i++) f32[N + i] = 1e-3 * (i % 7); // g

const src = `
const { parentPort, workerData: d } = require('node:worker_threads');
const run = new WebAssembly.Instance(d.module, { env: { memory: d.memory } }).exports.run;
parentPort.on('message', ({ blk, first }) => {
  run(d.n, blk, first, 20);
  const t0 = performance.now();
  run(d.n, blk, first, d.reps);
  parentPort.postMessage((performance.now() - t0) / d.reps * 1000);
});`;
const workers = [0, 1].map(() => new Worker(src, { eval: true, workerData: { module, memory, n: N, reps: REPS } }));
const time = (which, blk) => Promise.all(which.map((i) => new Promise((resolve) => {
  workers[i].once('message', resolve);
  workers[i].postMessage({ blk, first: i });
})));
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

console.log(`Adam update on alternating blocks of 4 × 100,352 f32 by two worker threads (µs per pass, median of ${ROUNDS})`);
console.log('block (f32)    bytes     A alone  B alone   A both   B both   both ÷ alone');
for (const blk of quick ? [N / 2, 64] : [N / 2, 16384, 4096, 1024, 256, 64]) {
  const rows = [];
  for (let r = 0; r < ROUNDS; r++) rows.push([...(await time([0], blk)), ...(await time([1], blk)), ...(await time([0, 1], blk))]);
  const [a, b, ab, bb] = [0, 1, 2, 3].map((k) => median(rows.map((x) => x[k])));
  const bytes = blk * 4 >= 1024 ? `${blk * 4 / 1024} KB` : `${blk * 4} B`;
  console.log(String(blk).padEnd(12), bytes.padStart(8), ...[a, b, ab, bb].map((t) => t.toFixed(1).padStart(8)), ((ab + bb) / (a + b)).toFixed(2).padStart(12));
}
await Promise.all(workers.map((w) => w.terminate()));
