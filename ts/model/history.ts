// What fit() returns, shaped like Keras's History: `history.history.loss[e]` is epoch e's mean
// training loss; `history.epoch` lists the epoch indices run (they start at initialEpoch).

import type { Logs } from './callbacks.js';

export interface FitParams {
  epochs: number;
  /** Optimizer steps per epoch (the last batch may be partial). */
  steps: number;
  /** Training samples per epoch (after the validation split). */
  samples: number;
  batchSize: number;
  validationSamples: number;
}

export class History {
  readonly epoch: number[] = [];
  /** Keyed by log name: 'loss', 'accuracy', 'val_loss', 'val_accuracy' (and any a callback adds). */
  readonly history: Record<string, number[]> = {};
  /** Wall-clock seconds per epoch, training plus validation. */
  readonly epochSeconds: number[] = [];

  constructor(readonly params: FitParams) {}

  /** @internal */
  _record(epoch: number, logs: Logs, seconds: number): void {
    this.epoch.push(epoch);
    this.epochSeconds.push(seconds);
    for (const [k, v] of Object.entries(logs)) (this.history[k] ??= []).push(v);
  }
}
