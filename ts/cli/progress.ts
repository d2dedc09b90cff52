// Per-epoch progress display: a cli-progress bar (progress, ETA, running loss and accuracy,
// samples/s) while an epoch runs, then one summary line per epoch that stays.
//
// The bar is drawn on stderr and only when stderr is a terminal (cli-progress draws nothing
// otherwise), so piped or captured output holds just the summary lines on stdout.
import cliProgress from 'cli-progress';

export interface EpochSummary {
  epoch: number; epochs: number; loss: number; accuracy: number; seconds: number; samples: number;
}

const pct = (a: number): string => `${(100 * a).toFixed(2)}%`;
const rate = (samples: number, seconds: number): string =>
  seconds > 0 ? Math.round(samples / seconds).toLocaleString('en-US') : '–';

export function formatEpoch(s: EpochSummary): string {
  return `epoch ${s.epoch}/${s.epochs}  loss ${s.loss.toFixed(4)}  accuracy ${pct(s.accuracy)}  `
    + `${s.seconds.toFixed(2)} s  ${rate(s.samples, s.seconds)} samples/s`;
}

export class EpochProgress {
  private bar: cliProgress.SingleBar | null = null;
  private t0 = 0;

  constructor(private readonly enabled: boolean, private readonly epochs: number, private readonly samples: number) {}

  // cli-progress hides the cursor and turns off line wrapping while a bar is drawn; a Ctrl-C
  // mid-epoch must give the terminal back before exiting (130 = 128 + SIGINT, the shell's code).
  private readonly onSignal = (): void => {
    this.bar?.stop();
    process.stderr.write('\n');
    process.exit(130);
  };

  start(epoch: number): void {
    this.t0 = performance.now();
    if (!this.enabled) return;
    process.once('SIGINT', this.onSignal);
    this.bar = new cliProgress.SingleBar({
      format: 'epoch {epoch}/{epochs} {bar} {percentage}% | ETA {eta_formatted} | loss {loss} | acc {acc} | {speed} samples/s',
      barsize: 24,
      hideCursor: true,
      clearOnComplete: true, // the summary line replaces the finished bar
      etaBuffer: 200,
    }, cliProgress.Presets.shades_classic);
    this.bar.start(this.samples, 0, { epoch: epoch + 1, epochs: this.epochs, loss: '–', acc: '–', speed: '–' });
  }

  /** seen: samples done in this epoch; loss/accuracy: running means over them. */
  update(seen: number, loss: number, accuracy: number): void {
    if (!this.bar) return;
    const secs = (performance.now() - this.t0) / 1000;
    this.bar.update(seen, { loss: loss.toFixed(4), acc: pct(accuracy), speed: rate(seen, secs) });
  }

  /** Stops the bar; returns the epoch's wall-clock seconds. */
  finish(): number {
    if (this.bar) process.removeListener('SIGINT', this.onSignal);
    this.bar?.stop();
    this.bar = null;
    return (performance.now() - this.t0) / 1000;
  }
}
