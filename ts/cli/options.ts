// Option parsers for commander: each turns the raw string into a checked value or throws
// InvalidArgumentError, which commander reports as `error: option '--x <n>' argument 'v' is
// invalid. <our reason>` and main.ts turns into exit code 2 (a usage error).
import { InvalidArgumentError } from 'commander';

/** An integer in [min, max], written in plain decimal (so '1e3', '2.5', '0x10' are refused). */
export function integerIn(min: number, max: number): (raw: string) => number {
  return (raw) => {
    const v = /^[+-]?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(v) || v < min || v > max) {
      throw new InvalidArgumentError(`Expected an integer from ${min} to ${max}.`);
    }
    return v;
  };
}

/** A finite number > 0 (decimal or exponent notation: 0.001, 1e-3). */
export function positiveNumber(raw: string): number {
  const v = raw.trim() === '' ? NaN : Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new InvalidArgumentError('Expected a number greater than 0, such as 0.001 or 1e-3.');
  return v;
}
