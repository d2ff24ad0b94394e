/**
 * kapkit: the command-line interface. `runCli` is exported so the CLI can be embedded and tested.
 * @packageDocumentation
 */
import { Command, CommanderError } from 'commander';
import { instrumentsCommand } from './commands/instruments.js';
import { scoreCommand } from './commands/score.js';
import { CliError, type CliIO } from './io.js';
import { VERSION } from './version.js';

export { type ScoreLine, type ScoreOptions, scoreCommand } from './commands/score.js';
export { CliError, type CliIO } from './io.js';

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
    .version(VERSION, '-v, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .showHelpAfterError('(run "kapkit --help" for usage)');

  program
    .command('score')
    .description(
      'Score outcome-measure responses. Input: NDJSON, one {"id"?, "responses": [n|null, ...]} per line. Output: NDJSON, one result per input line, in order. Exit code 1 if any line was invalid.',
    )
    .requiredOption(
      '-i, --instrument <id>',
      'instrument id, case-insensitive, hyphens ignored (e.g. PHQ-9, gad7)',
    )
    .argument('[file]', 'input file, or - for standard input', '-')
    .action(async (file: string, opts: { instrument: string }) => {
      exitCode = await scoreCommand(file, { instrument: opts.instrument }, io);
    });

  program
    .command('instruments')
    .description('List the instruments kapkit can score.')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      exitCode = await instrumentsCommand(opts, io);
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (e) {
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
