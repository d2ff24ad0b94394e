import { type Command, Option } from 'commander';
import { nowOption, reportExit } from './command-parts.js';
import type { AnalyzeCommandOptions } from './commands/analyze.js';
import type { ExportCommandOptions } from './commands/export.js';
import type { ReportCommandOptions } from './commands/report.js';
import type { CliIO } from './io.js';
import { DEMO_START, EXPORT_FORMAT_CHOICES } from './option-values.js';

/*
 * The commands that read data (score, instruments, demo-data, validate, analyze) and write it (export, schema,
 * report). Each action loads its command's module when it runs, so that a command (or --help) does not load the
 * packages of the others (the export's Parquet writer, the charts, the demo generator…).
 */

/** Register score, instruments, demo-data, validate and analyze; each reports its exit code to `setExit`. */
export function registerReadingCommands(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('score')
    .description(
      'Score outcome-measure responses. Input: NDJSON, one {"id"?, "responses": [n|null, ...]} per line. Output: NDJSON, one result per input line, in order. Exit code 1 if any line was invalid.',
    )
    .requiredOption(
      '-i, --instrument <id>',
      'required: instrument id, case-insensitive, hyphens ignored (e.g. PHQ-9, gad7)',
    )
    .argument('[file]', 'input file, or - for standard input', '-')
    .action(
      reportExit(setExit, async (file: string, opts: { instrument: string }) =>
        (await import('./commands/score.js')).scoreCommand(file, { instrument: opts.instrument }, io),
      ),
    );

  program
    .command('instruments')
    .description('List the instruments kapkit can score.')
    .option('--json', 'print JSON')
    .action(
      reportExit(setExit, async (opts: { json?: boolean }) =>
        (await import('./commands/instruments.js')).instrumentsCommand(opts, io),
      ),
    );

  program
    .command('demo-data')
    .description(
      'Generate a deterministic synthetic KAP cohort as NDJSON episode events (every record synthetic: true; same options, same bytes). A file is written atomically; a one-line summary goes to stderr.',
    )
    .option(
      '-n, --patients <n>',
      'number of synthetic patients, one episode each (1 to 100000; interleaving holds the episodes under way in memory, about 17 MB per 1,000 patients)',
      '100',
    )
    .option('-s, --seed <seed>', 'seed of the generator (any text); the same seed gives the same output', '1')
    .option('-o, --out <file>', 'output NDJSON file, or - for standard output', '-')
    .option(
      '--start <date>',
      `first enrolment day, ISO 8601 date (patients are enrolled over the following 365 days)`,
      DEMO_START,
    )
    .addOption(
      new Option(
        '--interleave',
        'interleave the episodes in global time order, as an event store streams them (default)',
      ),
    )
    .addOption(
      new Option(
        '--no-interleave',
        'write the episodes one after another, each in time order (constant memory)',
      ),
    )
    .action(
      reportExit(
        setExit,
        async (opts: {
          patients: string;
          seed: string;
          out: string;
          start: string;
          interleave?: boolean;
        }) => {
          const { demoDataCommand, parsePatients, parseStart } = await import('./commands/demo-data.js');
          return demoDataCommand(
            {
              patients: parsePatients(opts.patients),
              seed: opts.seed,
              out: opts.out,
              start: parseStart(opts.start),
              interleave: opts.interleave !== false,
            },
            io,
          );
        },
      ),
    );

  program
    .command('validate')
    .description(
      'Check an NDJSON log of KAP episode events: fold each event into its episode (episodes may be interleaved) and print every refused or malformed line as "line N: episode E: event ID: CODE: message" (with SAFETY: … when the line carries a safety signal), then a summary per episode with the alerts of its status, and totals. Exit code 1 if anything was refused or malformed (alerts do not change it).',
    )
    .argument('[file]', 'input NDJSON file, or - for standard input', '-')
    .option('--json', 'print one JSON report (problems, per-episode summaries, totals) instead of text')
    .option(
      '--as-of <iso>',
      "compute each episode's status and alerts at this instant (ISO 8601 with a UTC offset; default: the latest event time in the log)",
    )
    .addOption(nowOption())
    .action(
      reportExit(setExit, async (file: string, opts: { json?: boolean; asOf?: string; now?: string }) =>
        (await import('./commands/validate.js')).validateCommand(file, opts, io),
      ),
    );

  program
    .command('analyze')
    .description(
      'Outcome analytics: response, remission, reliable change, effect sizes, time to response (Kaplan–Meier), trajectory, linear mixed model and critical-period views. Input: an event log (.ndjson, as from demo-data) or a tidy CSV with columns patient_id,instrument,day,score (or date instead of day; optional first_dose_day). Bad rows are reported with line numbers on stderr and excluded.',
    )
    .argument(
      '[file]',
      'event log (.ndjson) or tidy CSV (.csv), or - for standard input (an event log, or CSV with --csv)',
      '-',
    )
    .option('--csv', 'read standard input as a tidy CSV (a file is recognised by its .csv or .tsv extension)')
    .option('--instrument <ids>', 'instruments to analyse, comma-separated (default: all present)')
    .option(
      '--rci-reliability <pairs>',
      'reliability r per instrument for Jacobson–Truax, e.g. phq9=0.84,gad7=0.83',
    )
    .option('--rci-sd <sd>', 'SD of baseline scores: "sample" (default) or per instrument, e.g. phq9=5.7')
    .option('--bins <days>', 'edges of the trajectory bins in days since baseline, e.g. 0,14,28,56,84')
    .option('--json', 'print one JSON document instead of the summary table')
    .addOption(nowOption())
    .action(
      reportExit(setExit, async (file: string, opts: AnalyzeCommandOptions) =>
        (await import('./commands/analyze.js')).analyzeCommand(file, opts, io),
      ),
    );
}

/** Register export, schema and report; each reports its exit code to `setExit`. */
export function registerWritingCommands(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('export')
    .description(
      'Research export of an event log (.ndjson, as from demo-data): tidy tables (assessments, dosing_sessions, episodes) as NDJSON, CSV or Parquet, or a FHIR R4 Bundle, with manifest.json (row counts, SHA-256 of every file) and codebook.md. Streams; files are written under temporary names and renamed only when complete. Excluded lines are reported on stderr with line numbers. Exit code 1 if any line was excluded (unless --allow-invalid), 2 on usage errors.',
    )
    .argument('[file]', 'input NDJSON event log, or - for standard input', '-')
    .addOption(
      new Option('-f, --format <format>', 'required: output format (unless --verify)').choices([
        ...EXPORT_FORMAT_CHOICES,
      ]),
    )
    .option(
      '-o, --out <dir>',
      'required: output directory, new or empty (created if needed; unless --verify)',
    )
    .option(
      '--force',
      'replace an earlier kapkit export in --out: removes only the files its manifest.json lists (refused if the folder holds any other file)',
    )
    .option(
      '--verify <dir>',
      'check an export folder instead: every file against manifest.json (size, SHA-256), and no file the manifest does not list; exit 1 on any problem',
    )
    .option(
      '--tables <names>',
      'tables to write, comma-separated (default: assessments,dosing_sessions,episodes)',
    )
    .option(
      '--deidentify',
      'HIPAA Safe Harbor-style de-identification: keyed pseudonymous ids, days since baseline instead of dates and times, no free text',
    )
    .option(
      '--key-env <var>',
      'with --deidentify: name of the environment variable holding the secret key (at least 32 characters; never written anywhere)',
    )
    .option(
      '--include-free-text',
      'also export notes, override reasons and adverse-event descriptions (identified exports only; refused with --deidentify)',
    )
    .option(
      '--include-voided',
      'also export assessments voided as entered in error, with voided = true (FHIR: status entered-in-error)',
    )
    .option('--allow-invalid', 'exit 0 even when lines were excluded (they are still reported and counted)')
    .addOption(nowOption())
    .action(
      reportExit(setExit, async (file: string, opts: ExportCommandOptions) =>
        (await import('./commands/export.js')).exportCommand(file, opts, io),
      ),
    );

  program
    .command('schema')
    .description(
      'Write the JSON Schemas of every public kapkit record (events, instrument responses, scored assessments, research tables, analytics report, export manifest) in draft 2020-12 and draft-07.',
    )
    .requiredOption('-o, --out <dir>', 'required: output directory (created if needed)')
    .action(
      reportExit(setExit, async (opts: { out: string }) =>
        (await import('./commands/schema.js')).schemaCommand(opts, io),
      ),
    );

  program
    .command('report')
    .description(
      "Render one patient's outcome chart (PHQ-9/GAD-7 over time with severity bands, dosing sessions, critical-period windows, response and remission lines, reliable-change and safety-flag points) to a PNG for sharing with the medical team. Exit code 1 if any of the patient's events were refused or malformed (the PNG is still written).",
    )
    .requiredOption(
      '--events <file>',
      'required: NDJSON event log (as from demo-data or an event store), or - for standard input',
    )
    .requiredOption('--patient <id>', 'required: the patient whose chart to draw')
    .requiredOption('-o, --out <file>', 'required: output PNG file, or - for standard output')
    .option('--instrument <ids>', 'instruments to chart, comma-separated (default: PHQ-9 and GAD-7)')
    .option('--as-of <iso>', 'chart the episode as of this instant (ISO 8601 with a UTC offset)')
    .action(
      reportExit(setExit, async (opts: ReportCommandOptions) =>
        (await import('./commands/report.js')).reportCommand(opts, io),
      ),
    );
}
