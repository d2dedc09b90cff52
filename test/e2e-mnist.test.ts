// End to end: the seed example (Keras's classic MNIST MLP) on the real MNIST with the wasm
// backend: Dense 784→128 relu, 128→128 relu, 128→10 softmax, Adam 1e-3, sparse categorical
// cross-entropy, 5 epochs, batch 32, fixed seed. Keras reaches about 97.5–98% test accuracy;
// the bar is ≥ 0.975 on the 10,000 test images.
//
// The test reads almost line for line as the README's example. It logs the epoch times (never
// asserted: tests do not assert on time).

import { describe, expect, test } from 'vitest';
import * as gg from '../ts/index.js';

describe('MNIST end to end (wasm backend)', () => {
  test('seed model: 5 epochs, batch 32, seed 42 → test accuracy ≥ 0.975', async () => {
    await gg.ready();
    const { train, test: testSet } = await gg.data.loadMnist();
    expect(train.count).toBe(60000);
    expect(testSet.count).toBe(10000);

    const model = gg.sequential({ seed: 42, layers: [
      gg.layers.dense({ inputShape: [784], units: 128, activation: 'relu', kernelInitializer: 'glorotUniform' }),
      gg.layers.dense({ units: 128, activation: 'relu' }),
      gg.layers.dense({ units: 10, activation: 'softmax' }),
    ] });
    model.compile({ optimizer: gg.optimizers.adam({ learningRate: 1e-3 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });

    const epochLines: string[] = [];
    const history = await model.fit(train.x, train.y, {
      epochs: 5, batchSize: 32, shuffle: true,
      callbacks: [{ onEpochEnd: (e, logs) => { epochLines.push(`epoch ${e + 1}: loss ${logs.loss.toFixed(4)} acc ${logs.accuracy.toFixed(4)}`); } }],
    });
    const { loss, accuracy } = model.evaluate(testSet.x, testSet.y);
    const probs = model.predict(testSet.x.subarray(0, 784 * 3));

    console.log([
      ...epochLines.map((l, i) => `${l} (${history.epochSeconds[i].toFixed(2)} s)`),
      `test: loss ${loss.toFixed(4)} accuracy ${accuracy!.toFixed(4)}`,
      `mean epoch time ${(history.epochSeconds.reduce((a, b) => a + b, 0) / history.epochSeconds.length).toFixed(2)} s`,
    ].join('\n'));

    expect(history.history.loss).toHaveLength(5);
    // Training loss falls epoch over epoch on this well-conditioned problem.
    expect(history.history.loss[4]).toBeLessThan(history.history.loss[0]);
    expect(accuracy).toBeGreaterThanOrEqual(0.975);
    // predict gives (3, 10) probabilities: each row sums to 1 within f32 rounding of 10 terms.
    expect(probs.length).toBe(30);
    for (let r = 0; r < 3; r++) {
      const s = probs.subarray(r * 10, r * 10 + 10).reduce((a, b) => a + b, 0);
      expect(Math.abs(s - 1)).toBeLessThan(1e-5);
    }
    model.dispose();
  }, 600_000);
});
