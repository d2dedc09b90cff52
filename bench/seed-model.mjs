// The seed model, identical for every contender and script: 784-128(relu)-128(relu)-10(softmax),
// Dense kernels glorot-uniform, biases zero (both libraries' defaults), Adam(lr 1e-3), sparse
// categorical cross-entropy, accuracy metric. bench/train-worker.mjs builds it in each library;
// bench/stats-cost.mjs builds gradguard's through the same function, so its cost figures are
// for the model the training table times.
export const HIDDEN = 128;
export const CLASSES = 10;
export const LEARNING_RATE = 1e-3;

/** The seed model in gradguard (`gg`: the package's exports), compiled, with this init seed. */
export function gradguardSeedModel(gg, seed) {
  const model = gg.sequential({
    seed,
    layers: [
      gg.layers.dense({ inputShape: [784], units: HIDDEN, activation: 'relu' }),
      gg.layers.dense({ units: HIDDEN, activation: 'relu' }),
      gg.layers.dense({ units: CLASSES, activation: 'softmax' }),
    ],
  });
  model.compile({
    optimizer: gg.optimizers.adam({ learningRate: LEARNING_RATE }),
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['accuracy'],
  });
  return model;
}
