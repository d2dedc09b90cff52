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
// workers on separate arrays lose nothing together.
//
// Second, what it costs to write memory the other core has just read: one pass of worker A
// over the whole arrays right after worker B loaded every cache line of p, against right after
// A did (bench/cross-core.mjs, writeAfterRead). A row-split training step does this to every
// weight: both cores read all of them in the forward pass, then each updates its part. On the
// same VMs (2026-11-29, four full runs): 2.3–4.3× (e.g. 159 µs against 55), 13–31 ns more per
// 64-byte line written. Never asserts on time.
//
//   node bench/interleave.mjs [--quick]
//
// --quick (CI's smoke run): two block sizes, one repetition, few passes; proves the script runs,
// and its figures mean nothing (20 passes are too short for the two workers to overlap surely).

import { adamPair } from './cross-core.mjs';
import { median } from './train-report.mjs';

const quick = process.argv.includes('--quick');
const N = 100352, REPS = quick ? 20 : 500, ROUNDS = quick ? 1 : 5;
const pair = adamPair(N, REPS);

console.log(`Adam update on alternating blocks of 4 × 100,352 f32 by two worker threads (µs per pass, median of ${ROUNDS})`);
console.log('block (f32)    bytes     A alone  B alone   A both   B both   both ÷ alone');
for (const blk of quick ? [N / 2, 64] : [N / 2, 16384, 4096, 1024, 256, 64]) {
  const rows = [];
  for (let r = 0; r < ROUNDS; r++) rows.push([...(await pair.blocks([0], blk)), ...(await pair.blocks([1], blk)), ...(await pair.blocks([0, 1], blk))]);
  const [a, b, ab, bb] = [0, 1, 2, 3].map((k) => median(rows.map((x) => x[k])));
  const bytes = blk * 4 >= 1024 ? `${blk * 4 / 1024} KB` : `${blk * 4} B`;
  console.log(String(blk).padEnd(12), bytes.padStart(8), ...[a, b, ab, bb].map((t) => t.toFixed(1).padStart(8)), ((ab + bb) / (a + b)).toFixed(2).padStart(12));
}

// Second: one pass of A over the whole arrays right after B read every line of p, against right
// after A itself did (see the header).
const PASSES = quick ? 5 : 200;
const after = { self: [], other: [] };
for (let r = 0; r < ROUNDS; r++) {
  const { self, other } = await pair.writeAfterRead(PASSES);
  after.self.push(self);
  after.other.push(other);
}
const [ts, to] = [median(after.self), median(after.other)];
console.log(`\nOne pass of A over the whole arrays (µs, median of ${ROUNDS} × ${PASSES}): after A read p ${ts.toFixed(1)}, after B read p ${to.toFixed(1)} (${(to / ts).toFixed(2)}×; ` +
  `${((to - ts) * 1000 / (N * 4 / 64)).toFixed(1)} ns more per 64-byte line of p written)`);
await pair.terminate();
