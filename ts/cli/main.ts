// The `gradguard` command (package.json bin → dist/cli.js, built by tsup from this file).
// Exit codes: 0 done; 1 a failure while running (missing wasm, bad data file: the message says
// what to do); 2 a usage error (unknown command or option, invalid option value).
import { Command, CommanderError } from 'commander';
import { GradguardError } from '../errors.js';
import { addTrainCommand } from './train.js';
import { addDoctorCommand } from './doctor.js';

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export function buildProgram(): Command {
  const program = new Command('gradguard')
    .description('Train neural networks on a Rust/WebAssembly SIMD kernel and keep their gradients healthy.')
    .showHelpAfterError('(run with --help for usage)')
    // Commander would exit(1) on usage errors; route them through main() to exit with 2.
    .exitOverride();
  addTrainCommand(program);
  addDoctorCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander has already printed the message (or the help / version text).
      return e.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    const msg = e instanceof GradguardError ? `${e.name}: ${e.message}` : (e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.stderr.write(`gradguard: ${msg}\n`);
    return EXIT_FAILURE;
  }
}

process.exitCode = await main(process.argv);
