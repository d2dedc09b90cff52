// What collecting the gradient-health statistics costs `fit()` (issue 3: ≤ 5% of step time
// when collected every step, negligible every 16), measured inside one process: three models
// built alike (same seed) train one MNIST epoch each with the simd build — without statistics,
// with them every 16 steps and every step — in an order that rotates every round, so that a slow
// spell of this shared host (seconds to minutes) hits the three alike (6 rounds by default: each
// model twice in each position). The cost is 1 − (samples/s with ÷ without) within a round; the
// median and range over rounds are reported.
//
// Why not train.mjs's rows: there every measurement is a fresh process of its own, seconds
// apart from the one it is paired with, and on these VMs a process's position alone is worth
// ~2% while a slow spell can take 30% off one sample: one run reported 10.8% at batch 32 where
// this script, minutes later, measured 0–2%.
//
//   node bench/stats-cost.mjs [--quick] [--rounds N] [--out FILE]
//
// --quick (CI's smoke run, through run.mjs): one round on 2,048 images; its figures mean nothing.
// Writes bench/out/stats.json (runs in train.mjs's shape, see train-report.mjs). Never asserts
// on time.
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadMnistIdx } from './train-mnist.mjs';
import { statsCostRounds } from './train-report.mjs';
import { gradguardSeedModel } from './seed-model.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    out: { type: 'string', default: join(here, 'out', 'stats.json') },
  },
});
const rounds = values.rounds === undefined ? (values.quick ? 1 : 6) : Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds: expected an integer ≥ 1, got '${values.rounds}'`);
const BATCHES = [32, 128];
const EVERY = [0, 16, 1]; // 0: no statistics
const SEED = 1;

const gg = await import(pathToFileURL(join(here, '..', 'dist', 'index.js')).href);
await gg.ready({ variant: 'simd' });
const { train } = loadMnistIdx({ withTest: false, ...(values.quick ? { trainLimit: 2048 } : {}) });

const id = (every) => `gradguard-simd${every ? `+stats${every}` : ''}`;
const runs = [];
for (const batch of BATCHES) {
  const models = EVERY.map((every) => ({ every, m: gradguardSeedModel(gg, SEED) }));
  const fit = ({ every, m }, x, y) => m.fit(x, y, { epochs: 1, batchSize: batch, shuffle: true, ...(every ? { statsEvery: every } : {}) });
  // warm-up: 50 batches each (V8 tiers the kernel up; the statistics path compiles too)
  const wn = Math.min(train.n, 50 * batch);
  for (const c of models) await fit(c, train.x.subarray(0, wn * 784), train.y.subarray(0, wn));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < models.length; k++) {
      const c = models[(r + k) % models.length];
      const t0 = performance.now();
      await fit(c, train.x, train.y);
      runs.push({ contender: id(c.every), batch, rep: r, samplesPerSec: train.n / ((performance.now() - t0) / 1000) });
    }
  }
  models.forEach(({ m }) => m.dispose());
}
await gg.shutdown?.();

const costs = statsCostRounds(runs);
console.log(`Cost of the gradient-health statistics in fit() (simd build, ${train.n} images per epoch, ${rounds} round(s), paired within each round)`);
console.log('batch  collected        cost   range over rounds');
for (const c of costs) {
  console.log(String(c.batch).padEnd(6), `every ${c.every === 1 ? 'step' : `${c.every} steps`}`.padEnd(15),
    `${(c.cost * 100).toFixed(1)}%`.padStart(6), `  ${(c.min * 100).toFixed(1)}% … ${(c.max * 100).toFixed(1)}%`);
}
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, JSON.stringify({ quick: values.quick, rounds, images: train.n, runs, costs }, null, 2) + '\n');
