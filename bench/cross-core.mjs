// Two worker threads running Adam's update (the kernel's flat loop) on one shared wasm memory:
// the probe behind bench/interleave.mjs and the host check of bench/threads.mjs, which ask how
// these VMs' two cores treat memory they both touch.
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

export const MODULE = 'AGFzbQEAAAABCAFgBH9/f38AAhABA2VudgZtZW1vcnkCA0BAAwIBAAcHAQNydW4AAAqRAgGOAgIFfwN7IABBAnQhCANAIAIhBQJAA0AgBSABbCAATw0BIAUgAWxBAnQhBiAGIAFBAnRqIQcgByAISwRAIAghBwsDQCAGIAhq/QAEACEJIAYgCEEBdGr9AAQAIQogCiAJIAr95QFDzczMPf0T/eYB/eQBIQogBiAIQQF0aiAK/QsEACAGIAhBA2xq/QAEACELIAsgCSAJ/eYBIAv95QFDbxKDOv0T/eYB/eQBIQsgBiAIQQNsaiAL/QsEACAGIAb9AAQAIApDbxKDOv0T/eYBIAv94wFDlb/WM/0T/eQB/ecB/eUB/QsEACAGQRBqIQYgBiAHSQ0ACyAFQQJqIQUMAAsLIANBAWshAyADDQALCw==';

// A worker: `{ blk, first }` runs the update on every second block (after 20 warm-up passes) and
// answers µs per pass; `{ op: 'war' }` is one side of `writeAfterRead`.
const WORKER = `
const { parentPort, workerData: d } = require('node:worker_threads');
const run = new WebAssembly.Instance(d.module, { env: { memory: d.memory } }).exports.run;
const p = new Float32Array(d.memory.buffer, 0, d.n);
let sink = 0;
parentPort.on('message', ({ blk, first, op }) => {
  if (op === 'war') {
    // Write after read, as many times as passes: the reader (B for "other", A for "self") loads every
    // cache line of p (one load per 16 bytes), then A times one pass over the whole arrays.
    // Turns go through ctl[0]; both workers spin while it is not their turn, so that each keeps
    // its own core (two threads that took turns sleeping could share one, and then nothing crosses).
    const { reader, passes } = first;
    const me = d.id;
    const times = [];
    for (let k = 0; k < passes; k++) {
      const t = 2 * k;
      while (Atomics.load(d.ctl, 0) < t);
      if (me === reader) {
        let s = 0;
        for (let i = 0; i < d.n; i += 4) s += p[i];
        sink += s;
        Atomics.store(d.ctl, 0, t + 1);
      }
      while (Atomics.load(d.ctl, 0) < t + 1);
      if (me === 0) {
        const t0 = performance.now();
        run(d.n, d.n, 0, 1);
        times.push((performance.now() - t0) * 1000);
        Atomics.store(d.ctl, 0, t + 2);
      }
    }
    while (Atomics.load(d.ctl, 0) < 2 * passes);
    times.sort((a, b) => a - b);
    parentPort.postMessage(me === 0 ? times[times.length >> 1] : sink === 0.5 ? -1 : 0);
    return;
  }
  run(d.n, blk, first, 20);
  const t0 = performance.now();
  run(d.n, blk, first, d.reps);
  parentPort.postMessage((performance.now() - t0) / d.reps * 1000);
});`;

/**
 * Starts two workers on a fresh shared memory holding p, g, m, v of n f32 each (g non-zero).
 * `reps`: passes per timed `blocks` call.
 */
export function adamPair(n, reps) {
  const module = new WebAssembly.Module(Buffer.from(MODULE, 'base64'));
  const memory = new WebAssembly.Memory({ initial: 64, maximum: 64, shared: true });
  const f32 = new Float32Array(memory.buffer);
  for (let i = 0; i < n; i++) f32[n + i] = 1e-3 * (i % 7); // g
  const ctl = new Int32Array(new SharedArrayBuffer(4));
  const workers = [0, 1].map((id) => new Worker(WORKER, { eval: true, workerData: { module, memory, n, reps, id, ctl } }));
  const ask = (i, msg) => new Promise((resolve) => { workers[i].once('message', resolve); workers[i].postMessage(msg); });
  return {
    /** µs per pass of each worker in `which` (0 = A, 1 = B), run at once, on blocks of blk. */
    blocks: (which, blk) => Promise.all(which.map((i) => ask(i, { blk, first: i }))),
    /**
     * One pass of A over the whole arrays right after B read every line of p ("other"), and
     * right after A itself did ("self"): µs, medians of `passes` each. In a row-split training
     * step both cores read all the weights in the forward pass, then each updates its part.
     */
    async writeAfterRead(passes) {
      const out = {};
      for (const who of ['self', 'other']) {
        Atomics.store(ctl, 0, 0);
        const reader = who === 'self' ? 0 : 1;
        [out[who]] = await Promise.all([0, 1].map((i) => ask(i, { first: { reader, passes }, op: 'war' })));
      }
      return out;
    },
    terminate: () => Promise.all(workers.map((w) => w.terminate())),
  };
}
