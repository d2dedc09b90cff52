// bench/train-report.mjs's paired ratio: the statistic behind the training table's "× TF.js wasm"
// column, the stats-cost note and run.mjs's thread-scaling sentence.
import { describe, expect, test } from 'vitest';
// @ts-expect-error: a plain .mjs module of the benchmark, without type declarations
import { pairedRatio, statsCost, statsCostRounds } from '../bench/train-report.mjs';

const run = (contender: string, rep: number, samplesPerSec: number, extra: Record<string, unknown> = {}) =>
  ({ contender, batch: 128, rep, samplesPerSec, ...extra });

describe('pairedRatio', () => {
  test('is the median of the per-repetition ratios, not the ratio of the medians', () => {
    // a: 57k, 67k, 57k (two slow spells); b: 5.0k, 6.2k, 5.3k in the same repetitions
    const runs = [run('a', 0, 57000), run('a', 1, 67000), run('a', 2, 57000), run('b', 0, 5000), run('b', 1, 6200), run('b', 2, 5300)];
    // per repetition: 11.4, 10.806…, 10.754…; median 10.806…; ratio of medians 57000 / 5300 = 10.75
    expect(pairedRatio(runs, 'a', 'b', 128)).toBeCloseTo(67000 / 6200, 12);
    expect(pairedRatio(runs, 'b', 'a', 128)).toBeCloseTo(6200 / 67000, 12);
  });

  test('pairs only repetitions both sides have; failed runs, other batches and zero rates are left out', () => {
    const runs = [
      run('a', 0, 100), run('a', 1, 300), run('a', 2, 900, { error: 'crashed' }), run('a', 3, 50, { batch: 32 }),
      run('b', 0, 50), run('b', 2, 100), run('b', 1, 0),
    ];
    expect(pairedRatio(runs, 'a', 'b', 128)).toBe(2); // rep 0 only: rep 1's b is 0, rep 2's a failed
    expect(pairedRatio(runs, 'a', 'c', 128)).toBeNull();
    expect(pairedRatio(runs, 'a', 'b', 32)).toBeNull();
  });
});

test('statsCost is 1 − the paired ratio of the +stats row to its base build', () => {
  const runs = [run('gradguard-simd', 0, 100), run('gradguard-simd', 1, 50), run('gradguard-simd+stats1', 0, 95), run('gradguard-simd+stats1', 1, 45)];
  const summary = [{ contender: 'gradguard-simd', batch: 128 }, { contender: 'gradguard-simd+stats1', batch: 128 }];
  const [c] = statsCost(summary, runs);
  // per repetition 0.95 and 0.9: median 0.925, cost 0.075 (the ratio of medians would say 1 − 70/75)
  expect(c).toMatchObject({ contender: 'gradguard-simd+stats1', base: 'gradguard-simd', every: 1, batch: 128 });
  expect(c.cost).toBeCloseTo(0.075, 12);
});

test('statsCostRounds gives every +stats contender and batch its median cost and the range over rounds', () => {
  // bench/stats-cost.mjs's runs: rounds 0–2 at batch 32, round 0 at batch 128; one failed run
  const runs = [
    run('gradguard-simd', 0, 100, { batch: 32 }), run('gradguard-simd', 1, 200, { batch: 32 }), run('gradguard-simd', 2, 50, { batch: 32 }),
    run('gradguard-simd+stats1', 0, 98, { batch: 32 }), run('gradguard-simd+stats1', 1, 180, { batch: 32 }), run('gradguard-simd+stats1', 2, 51, { batch: 32 }),
    run('gradguard-simd+stats16', 0, 70, { batch: 32, error: 'crashed' }), run('gradguard-simd+stats16', 1, 196, { batch: 32 }),
    run('gradguard-simd', 0, 400), run('gradguard-simd+stats1', 0, 380),
  ];
  const costs = statsCostRounds(runs);
  const of = (every: number, batch: number) => costs.find((c: { every: number; batch: number }) => c.every === every && c.batch === batch);
  expect(costs).toHaveLength(3);
  // per round 0.02, 0.1, −0.02: median 0.02, range −0.02 … 0.1
  expect(of(1, 32).cost).toBeCloseTo(0.02, 12);
  expect(of(1, 32).min).toBeCloseTo(-0.02, 12);
  expect(of(1, 32).max).toBeCloseTo(0.1, 12);
  // the failed round is left out: round 1 alone
  expect(of(16, 32).cost).toBeCloseTo(0.02, 12);
  expect([of(16, 32).min, of(16, 32).max].map((x: number) => +x.toFixed(12))).toEqual([0.02, 0.02]);
  expect(of(1, 128)).toMatchObject({ base: 'gradguard-simd', batch: 128 });
  expect(of(1, 128).cost).toBeCloseTo(0.05, 12);
});
