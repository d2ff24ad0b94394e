import { Command, CommanderError } from 'commander';
import { CliError, type CliIO, isClosedPipe } from './io.js';
import { registerReadingCommands, registerWritingCommands } from './program.js';
import { registerAccountCommands, registerStoreCommand } from './program-admin.js';
import { VERSION } from './version.js';

/**
 * Run the kapkit CLI with the given arguments (without `node` and the script name) and streams.
 * Resolves to the process exit code; never calls `process.exit`.
 *
 * @example
 * ```ts
 * const code = await runCli(['score', '--instrument', 'phq9', 'answers.ndjson'], { stdin, stdout, stderr });
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  let exitCode = 0;
  const program = new Command('kapkit')
    .description('Outcome tracking for ketamine-assisted psychotherapy: score, validate, analyse and export.')
    .version(VERSION, '-V, --version', 'print the version (also -v)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .showHelpAfterError('(run "kapkit --help" for usage)');

  const setExit = (code: number) => {
    exitCode = code;
  };
  registerReadingCommands(program, io, setExit);
  registerWritingCommands(program, io, setExit);
  registerStoreCommand(program, io, setExit);
  registerAccountCommands(program, io, setExit);
  try {
    // -v is kept as a synonym of -V (--version) at the top level.
    const args = argv[0] === '-v' ? ['--version', ...argv.slice(1)] : [...argv];
    await program.parseAsync(args, { from: 'user' });
    return exitCode;
  } catch (e) {
    if (isClosedPipe(e)) return 0;
    if (e instanceof CommanderError) {
      // Help and version exit with 0; usage errors were already printed by commander.
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof CliError) {
      io.stderr.write(`kapkit: ${e.message}\n`);
      return e.exitCode;
    }
    io.stderr.write(`kapkit: unexpected error: ${(e as Error).message}\n`);
    return 70;
  }
}
