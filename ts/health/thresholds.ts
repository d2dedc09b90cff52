// Every diagnosis's rule and default thresholds, in one place, each with where it comes from.
//
// The monitor (monitor.ts) reads only this table; a user overrides any entry with
// `new HealthMonitor({ thresholds: { deadFraction: 0.9 } })`. A rule here is stated on the
// statistics the kernel computes inside the training step (docs/abi.md, "Gradient-health
// statistics"), so "layer l" is the l-th Dense layer, counted from the input (0) to the output (L-1).
//
// Sources:
// [AT]  AUTOTRAINER (Zhang et al., ICSE 2021), utils/monitor.py in shiningrain/AUTOTRAINER:
//       gra_rate = ‖dW_first‖ / ‖dW_last‖; vanishing if gra_rate < beta_1 = 1e-3 and ‖dW_first‖ <
//       beta_2 = 1e-4; exploding if gra_rate > beta_3 = 70; dying ReLU if the zero fraction ≥ gamma
//       = 0.7; oscillating if accuracy peak-to-trough ≥ zeta = 0.03 in ≥ eta = 20 % of epochs; slow
//       convergence if the largest epoch-to-epoch accuracy gain < delta = 0.01; "satisfied"
//       accuracy Theta = 0.7; large weights above 5 in absolute value.
// [DD]  DeepDiagnosis (Wardat et al., ICSE 2022): a ReLU unit is dead when ≥ 70 % of its outputs
//       are non-positive; a sigmoid/tanh unit is saturated when |z| ≥ 5.
// [LLMC] karpathy/llm.c llmc/outlier_detector.h: rolling z-score of loss and gradient norm over a
//       window (64 in the current file, 128 before); an outlier (z above the threshold) is not
//       pushed into the window, except on the 3rd consecutive outlier, so that bad values do not
//       make the detector "less picky".
// [CS231n] Karpathy, CS231n notes "Neural Networks 3" (babysitting the learning process): the
//       ratio ‖ΔW‖/‖W‖ "should be somewhere around 1e-3"; much lower suggests the learning rate is
//       too low, much higher too high.
// [EBP] LeCun, Bottou, Orr, Müller, "Efficient BackProp" (1998), §4.3: inputs should be centred
//       and scaled to comparable (unit-order) variance.
// [GB10] Glorot & Bengio, AISTATS 2010 and [HE15] He et al., ICCV 2015: weight standard deviation
//       sqrt(2/(fan_in+fan_out)) for tanh/sigmoid/linear, sqrt(2/fan_in) for ReLU.
// [KERAS] Keras's own checks: softmax over a single unit is constant 1; binary cross-entropy
//       expects one probability per output, categorical cross-entropy a distribution.

export interface HealthThresholds {
  // ---- debouncing (ours; the answer to DeepDiagnosis's 37/78 false alarms on healthy MNIST) ----
  /** Steps at the start of training on which no gradient/activation rule may fire (transients of
   * the first updates: Adam's bias correction, ReLU units flipping while weights settle). */
  warmupSteps: number;
  /** A rule must hold on this many statistics samples (the persistence window)... */
  persistWindow: number;
  /** ...with at least this fraction of them positive, before its diagnosis fires. */
  persistFraction: number;
  /** Sparse statistics or a short run (fewer than persistWindow samples past the warm-up): at an
   * epoch's end a rule may fire on at least this many samples (warm-up ones after the first
   * included, one past the warm-up, the latest positive, persistFraction of them positive). */
  persistMinSamples: number;

  // ---- vanishing / exploding [AT] ----
  /** ‖dW_0‖/‖dW_{L-1}‖ below this (with the next condition) is vanishing [AT beta_1]. */
  vanishingRatio: number;
  /** ...and ‖dW_0‖ below this [AT beta_2]. */
  vanishingFirstNorm: number;
  /** ‖dW_0‖/‖dW_{L-1}‖ above this is exploding [AT beta_3]. */
  explodingRatio: number;
  /** Loss below this counts as converged: small gradients are then expected, not vanishing. */
  convergedLoss: number;
  /** Blow-up, checked from the first step (no warm-up, no window): the global gradient norm
   * above this multiple of the first one is exploding; the loss above lossBlowup × the first
   * loss is diverging. Healthy MNIST runs stay within 2× (measured: ‖g‖ 0.2–2.6 vs 1.7 at step 0). */
  explodingGrowth: number;
  lossBlowup: number;

  // ---- outlier detector [LLMC] ----
  /** Samples in the rolling window of the z-score detectors (llm.c: 64). */
  zWindow: number;
  /** z above this is an outlier (and is kept out of the window) [LLMC]. */
  zThreshold: number;
  /** Exploding also fires when this many of the last persistWindow gradient-norm samples were
   * outliers (llm.c lets the 3rd consecutive outlier in: three in a row is a level shift);
   * diverging when this many of the last persistWindow steps' losses were (every step, past the
   * warm-up, against the last zWindow losses). */
  zOutliersToFire: number;

  // ---- dead / saturated units [DD] ----
  /** Fraction of a relu-family layer's units dead on the whole batch [DD 70 %, AT gamma]. */
  deadFraction: number;
  /** Fraction of a sigmoid/tanh layer's pre-activations with |z| ≥ 5 [DD bound, kernel side]. */
  saturatedFraction: number;

  // ---- learning rate via update ratio [CS231n] ----
  /** Median ‖ΔW‖/‖W‖ above this in every layer (over the window): learning rate too high.
   * CS231n centres the healthy ratio at 1e-3; Adam's steps are about lr per element, which on
   * Glorot-initialised MNIST layers (weight std ≈ 0.05) gives ratios near 1e-2, so the band is
   * two decades either side of 1e-3 to keep healthy Adam runs quiet. */
  updateRatioHigh: number;
  /** Median ‖ΔW‖/‖W‖ below this in every layer: learning rate too low. */
  updateRatioLow: number;

  // ---- loss curve ----
  /** Exponential smoothing factor of the step loss, fed every step (0.1 = about a 10-step memory;
   * the smoothed-loss rules persist over persistWindow / lossEmaAlpha steps). */
  lossEmaAlpha: number;
  /** Diverging: smoothed loss above this multiple of the best smoothed loss so far. */
  divergeFactor: number;
  /** Plateau (early): after this many steps the smoothed loss is still above plateauFraction ×
   * its value plateauMinSteps/2 steps earlier, and above half the first smoothed loss (so a
   * converged run that stops improving is not a plateau). */
  plateauMinSteps: number;
  plateauFraction: number;
  /** Epoch-level slow convergence [AT delta]: best epoch-to-epoch accuracy gain below this over
   * the last plateauEpochs epochs, while accuracy is under satisfiedAccuracy [AT Theta]. */
  plateauAccDelta: number;
  plateauEpochs: number;
  satisfiedAccuracy: number;
  /** Epoch-level plateau without accuracy: relative epoch-loss improvement below this. */
  plateauLossRelDelta: number;
  /** Oscillation [AT zeta, eta]: accuracy peak-to-trough at least this... */
  oscillationAmplitude: number;
  /** ...in at least this fraction of epochs (minimum oscillationMinEpochs epochs seen). */
  oscillationRate: number;
  oscillationMinEpochs: number;
  /** Epoch accuracy below this × 1/classes (classifiers with ≥ 3 classes), the epoch loss above
   * half the first, is "learnt nothing" (ours; healthy MNIST runs reach 0.37 (SGD 0.01) to 0.8
   * (Adam) after one epoch of 3000 samples, against 0.15 here). */
  chanceAccuracyFactor: number;

  // ---- before training ----
  /** Inputs with max |x| above this look unnormalized (raw pixels reach 255) [EBP]. */
  inputMaxAbs: number;
  /** Inputs whose overall std or |mean| exceed this look unnormalized [EBP]. */
  inputStd: number;
  /** First-step weight RMS outside [1/f, f] × the Glorot/He std is a poor initialization [GB10, HE15]. */
  initScaleFactor: number;
  /** First-step hidden activation std above this (exploding forward signal) [GB10]. */
  initActStdHigh: number;
  /** First-step hidden activation std below this (collapsed forward signal) [GB10]. */
  initActStdLow: number;
}

export const DEFAULT_THRESHOLDS: Readonly<HealthThresholds> = Object.freeze({
  warmupSteps: 50,
  persistWindow: 8,
  persistFraction: 0.75,
  persistMinSamples: 3,

  vanishingRatio: 1e-3,
  vanishingFirstNorm: 1e-4,
  explodingRatio: 70,
  convergedLoss: 1e-3,
  explodingGrowth: 1e3,
  lossBlowup: 100,

  zWindow: 64,
  zThreshold: 5,
  zOutliersToFire: 3,

  deadFraction: 0.7,
  saturatedFraction: 0.7,

  updateRatioHigh: 1e-1,
  updateRatioLow: 1e-5,

  lossEmaAlpha: 0.1,
  divergeFactor: 2,
  plateauMinSteps: 300,
  plateauFraction: 0.97,
  plateauAccDelta: 0.01,
  plateauEpochs: 3,
  satisfiedAccuracy: 0.7,
  plateauLossRelDelta: 0.01,
  oscillationAmplitude: 0.03,
  oscillationRate: 0.2,
  oscillationMinEpochs: 5,
  chanceAccuracyFactor: 1.5,

  inputMaxAbs: 10,
  inputStd: 5,
  initScaleFactor: 4,
  initActStdHigh: 10,
  initActStdLow: 1e-3,
});

/** Where each diagnosis's rule comes from (shown in explanations and the report). */
export const RULE_SOURCES = {
  vanishing_gradients: 'AUTOTRAINER (ICSE 2021): ‖dW_first‖/‖dW_last‖ < 1e-3 and ‖dW_first‖ < 1e-4',
  exploding_gradients: 'AUTOTRAINER (ICSE 2021): ‖dW_first‖/‖dW_last‖ > 70; llm.c outlier detector: gradient-norm z-score',
  non_finite: 'NaN/Inf counts from the kernel (loss, activations, gradients, weights); Keras TerminateOnNaN',
  dying_relu: 'DeepDiagnosis (ICSE 2022) / AUTOTRAINER: ≥ 70 % of a ReLU layer\'s units dead',
  saturated_units: 'DeepDiagnosis (ICSE 2022): sigmoid/tanh pre-activations with |z| ≥ 5',
  learning_rate_too_high: 'CS231n (Karpathy): update-to-weight ratio ‖ΔW‖/‖W‖ should be near 1e-3',
  learning_rate_too_low: 'CS231n (Karpathy): update-to-weight ratio ‖ΔW‖/‖W‖ should be near 1e-3',
  loss_diverging: 'every step\'s loss: above 100× the first; smoothed loss above 2× its best value; llm.c loss z-score; epoch mean above 100× the first',
  loss_oscillating: 'AUTOTRAINER (ICSE 2021): accuracy peak-to-trough ≥ 0.03 in ≥ 20 % of epochs',
  loss_plateau: 'AUTOTRAINER (ICSE 2021): best accuracy gain per epoch < 0.01 below 0.7 accuracy; loss not moving from its initial value; epoch accuracy at chance level',
  unnormalized_inputs: 'LeCun et al., Efficient BackProp (1998): centre inputs and scale to unit-order variance',
  poor_initialization: 'Glorot & Bengio (2010), He et al. (2015): weight std sqrt(2/(fan_in+fan_out)) or sqrt(2/fan_in)',
  loss_activation_mismatch: 'Keras: softmax pairs with categorical CE, sigmoid with binary CE, from_logits with a linear output',
} as const;

/** Merges user overrides over the defaults, rejecting unknown names and non-finite values. */
export function resolveThresholds(overrides: Partial<HealthThresholds> = {}): HealthThresholds {
  const out: HealthThresholds = { ...DEFAULT_THRESHOLDS };
  for (const [k, v] of Object.entries(overrides)) {
    if (!(k in DEFAULT_THRESHOLDS)) {
      throw new TypeError(`health thresholds: unknown threshold '${k}'; expected one of ${Object.keys(DEFAULT_THRESHOLDS).join(', ')}`);
    }
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new TypeError(`health thresholds: '${k}' must be a finite number ≥ 0, got ${String(v)}`);
    }
    (out as unknown as Record<string, number>)[k] = v;
  }
  if (out.persistWindow < 1 || !Number.isInteger(out.persistWindow)) {
    throw new TypeError(`health thresholds: 'persistWindow' must be an integer ≥ 1, got ${out.persistWindow}`);
  }
  if (out.zWindow < 2 || !Number.isInteger(out.zWindow)) {
    throw new TypeError(`health thresholds: 'zWindow' must be an integer ≥ 2, got ${out.zWindow}`);
  }
  return out;
}
