import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import {
  type AnalysisReport,
  analyzeOutcomes,
  type OutcomeRecord,
  recordsFromEpisodes,
} from '@kapkit/analytics';
import { EventLogFold, ndjsonLines } from '@kapkit/core';
import { createInstrumentRegistry, normalizeInstrumentId } from '@kapkit/core/instruments';
import { DAY_MS } from '@kapkit/core/time';
import { parse } from 'csv-parse';
import { CliError, type CliIO, inputName, openInput, parseNow, write } from '../io.js';
import { readProgress } from '../progress.js';
import { VERSION } from '../version.js';

/** A row or line that was excluded, and why. */
interface InputProblem {
  readonly line: number;
  readonly message: string;
}

export interface AnalyzeCommandOptions {
  readonly instrument?: string;
  readonly rciReliability?: string;
  readonly rciSd?: string;
  readonly bins?: string;
  readonly json?: boolean;
  /** Read standard input as CSV (files are recognised by their extension). */
  readonly csv?: boolean;
  /** Check event times against this clock (`now` or an ISO time): later events are refused `future-event`. */
  readonly now?: string;
}

/** Parse `id=value,id=value` into a map of canonical instrument ids to numbers. */
function parsePairs(text: string, option: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of text.split(',')) {
    const [id, value] = part.split('=');
    const n = Number(value);
    if (!id || value === undefined || value.trim() === '' || !Number.isFinite(n)) {
      throw new CliError(`${option}: expected <instrument>=<number>[,...], got "${part}"`);
    }
    out[normalizeInstrumentId(id)] = n;
  }
  return out;
}

/**
 * Read an event log the way `validate` and `export` do (`EventLogFold`): every event decided by the episode
 * machine, so refused events (duplicates, events after closure, …) never count and voided ones are left out.
 * Each excluded line is reported; the fold is returned for the per-reason counts.
 */
async function readEvents(
  input: Readable,
  sizeBytes: number | null,
  problems: InputProblem[],
  now: number | undefined,
  io: CliIO,
): Promise<EventLogFold> {
  const fold = new EventLogFold(now === undefined ? {} : { now });
  const progress = readProgress('analyze', io.stderr, input, sizeBytes);
  try {
    for await (const l of ndjsonLines(input)) {
      const r = fold.add(l);
      progress.tick(fold.counts.records);
      if (!r.ok) problems.push({ line: r.problem.line, message: `${r.problem.code}: ${r.problem.message}` });
    }
  } finally {
    progress.stop();
  }
  return fold;
}

async function readCsv(input: Readable, name: string, problems: InputProblem[]): Promise<OutcomeRecord[]> {
  const registry = createInstrumentRegistry();
  const records: OutcomeRecord[] = [];
  const parser = input.pipe(
    parse({
      bom: true,
      columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()),
      skip_empty_lines: true,
      relax_column_count: true,
      info: true,
    }),
  );
  let checked = false;
  for await (const { record, info } of parser as AsyncIterable<{
    record: Record<string, string>;
    info: { lines: number };
  }>) {
    const line = info.lines;
    if (!checked) {
      checked = true;
      const cols = Object.keys(record);
      const missing = ['patient_id', 'instrument', 'score'].filter((c) => !cols.includes(c));
      if (!cols.includes('day') && !cols.includes('date')) missing.push('day (or date)');
      if (missing.length)
        throw new CliError(
          `${name}: missing column(s) ${missing.join(', ')}; expected header patient_id,instrument,day,score`,
        );
    }
    const fail = (message: string) => problems.push({ line, message });
    const patientId = record.patient_id?.trim();
    if (!patientId) {
      fail('patient_id is empty');
      continue;
    }
    const definition = registry.find(record.instrument ?? '');
    if (!definition) {
      fail(`unknown instrument "${record.instrument ?? ''}"`);
      continue;
    }
    const score = Number(record.score);
    if (record.score === undefined || record.score.trim() === '' || !Number.isFinite(score)) {
      fail(`score "${record.score ?? ''}" is not a number`);
      continue;
    }
    if (score < definition.range.min || score > definition.range.max) {
      fail(
        `score ${score} is outside the ${definition.name} range ${definition.range.min}–${definition.range.max}`,
      );
      continue;
    }
    let day: number;
    if (record.day !== undefined && record.day.trim() !== '') {
      day = Number(record.day);
    } else if (record.date !== undefined && record.date.trim() !== '') {
      day = Date.parse(record.date) / DAY_MS;
    } else {
      fail('day (or date) is empty');
      continue;
    }
    if (!Number.isFinite(day)) {
      fail(`day/date "${record.day ?? record.date}" is not a number or a date`);
      continue;
    }
    const fd = record.first_dose_day;
    const firstDoseDay =
      fd !== undefined && fd.trim() !== '' && Number.isFinite(Number(fd)) ? Number(fd) : null;
    records.push({ patientId, instrument: definition.id, day, score, firstDoseDay });
  }
  return records;
}

function fmt(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined ? '–' : x.toFixed(digits);
}

function pct(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? '–' : `${(rate * 100).toFixed(1)}%`;
}

/** The readable summary table (like the outcome tables of Dore et al. 2019 and Hull et al. 2022). */
function formatReport(report: AnalysisReport, problems: readonly InputProblem[]): string {
  const lines: string[] = [];
  lines.push('kapkit outcome summary');
  lines.push('');
  const header = [
    'measure',
    'n',
    'baseline M (SD)',
    'latest M (SD)',
    'change [95% CI]',
    'd_z',
    'g_av',
    'response',
    'remission',
    'reliable impr.',
    'median days to resp.',
  ];
  const rows = Object.values(report.instruments).map((r) => [
    r.name,
    `${r.evaluable}/${r.patients}`,
    `${fmt(r.baseline.mean)} (${fmt(r.baseline.sd)})`,
    `${fmt(r.latest.mean)} (${fmt(r.latest.sd)})`,
    `${fmt(r.change.mean)} [${fmt(r.change.lower)}, ${fmt(r.change.upper)}]`,
    fmt(r.effectSize.dz, 2),
    fmt(r.effectSize.gav, 2),
    pct(r.responseRate.rate),
    pct(r.remissionRate?.rate),
    pct(r.reliableChange.improvedRate.rate),
    r.timeToResponse.median === null ? 'not reached' : fmt(r.timeToResponse.median, 0),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const render = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  lines.push(render(header));
  lines.push(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) lines.push(render(row));
  lines.push('');
  lines.push(
    'n = evaluable/all patients (evaluable: a follow-up after baseline). Change = latest − baseline.',
  );
  lines.push(
    'Effect sizes on improvement (positive = better): d_z = mean(diff)/sd(diff); g_av = d_av·J (Lakens 2013).',
  );
  for (const r of Object.values(report.instruments)) {
    lines.push(`${r.name}: response = ${r.responseRate.definition}`);
    if (r.remissionRate) lines.push(`${r.name}: remission = ${r.remissionRate.definition}`);
    lines.push(
      `${r.name}: reliable change = Jacobson–Truax, r = ${fmt(r.reliableChange.reliability, 2)}, s1 = ${fmt(r.reliableChange.sd, 2)} (${r.reliableChange.sdSource}), |RCI| > ${r.reliableChange.critical}, ${fmt(r.reliableChange.pointsNeeded, 2)} points needed${r.reliableChange.fixedPoint ? `; fixed-point (${r.reliableChange.fixedPoint.points} points): ${r.reliableChange.fixedPoint.improved} improved` : ''}`,
    );
    if (r.mixedModel) {
      lines.push(
        `${r.name}: mixed model score ~ day + (day | patient): ${fmt(r.mixedModel.intercept, 2)} ${r.mixedModel.slope < 0 ? '−' : '+'} ${fmt(Math.abs(r.mixedModel.slope * 7), 3)} points/week`,
      );
    } else if (r.mixedModelNote) lines.push(`${r.name}: ${r.mixedModelNote}`);
    const byClass = r.byMedicationClass;
    if (byClass) {
      for (const c of byClass.classes) {
        if (c.with.patients === 0 || c.without.patients === 0) continue;
        const d = c.changeDifference;
        lines.push(
          `${r.name}: with ${c.class} (n = ${c.with.patients}) change ${fmt(c.with.change.mean, 1)}, response ${pct(c.with.responseRate.rate)}; without (n = ${c.without.patients}) ${fmt(c.without.change.mean, 1)}, ${pct(c.without.responseRate.rate)}; difference ${fmt(d.estimate, 1)} [${fmt(d.lower, 1)}, ${fmt(d.upper, 1)}] (Welch; observational)`,
        );
      }
    }
  }
  if (Object.values(report.instruments).some((r) => r.byMedicationClass)) {
    lines.push(
      'Note: by medication class: observational associations (patients were not randomised to their medications), not effects of the medication.',
    );
  }
  for (const n of report.notes) lines.push(`Note: ${n}`);
  if (problems.length) lines.push(`Excluded ${problems.length} input row(s)/line(s); see stderr.`);
  return `${lines.join('\n')}\n`;
}

/**
 * `kapkit analyze <file>`: outcome analytics from an event log (.ndjson) or a tidy CSV
 * (`patient_id,instrument,day,score`). Bad rows are reported with line numbers and excluded.
 * Returns 0, or 1 when the input had no analysable records.
 */
export async function analyzeCommand(
  file: string,
  options: AnalyzeCommandOptions,
  io: CliIO,
): Promise<number> {
  const stdin = file === '-';
  const problems: InputProblem[] = [];
  const lower = file.toLowerCase();
  const isCsv = stdin ? options.csv === true : lower.endsWith('.csv') || lower.endsWith('.tsv');
  const input = await openInput(file, io);
  let records: OutcomeRecord[];
  let courses: ReturnType<typeof recordsFromEpisodes>['courses'] | undefined;
  let fold: EventLogFold | null = null;
  if (isCsv) {
    records = await readCsv(input, stdin ? 'standard input' : file, problems);
    if (records.length === 0 && problems.length === 0)
      throw new CliError(`no records in ${inputName(file)}`, 1);
  } else {
    const size = stdin ? null : (await stat(file)).size;
    fold = await readEvents(input, size, problems, parseNow(options.now), io);
    if (fold.counts.records === 0) throw new CliError(`no events in ${inputName(file)}`, 1);
    const fromEvents = recordsFromEpisodes([...fold.episodes.values()].map((e) => e.state.context));
    records = fromEvents.records;
    courses = fromEvents.courses;
  }
  const bins = options.bins?.split(',').map((b) => Number(b));
  if (bins && (bins.length === 0 || bins.some((b) => !Number.isFinite(b)))) {
    throw new CliError(`--bins: expected comma-separated numbers of days, got "${options.bins}"`);
  }
  let rciSd: 'sample' | Record<string, number> = 'sample';
  if (options.rciSd && options.rciSd !== 'sample') rciSd = parsePairs(options.rciSd, '--rci-sd');
  const report = analyzeOutcomes(records, {
    ...(options.instrument ? { instruments: options.instrument.split(',') } : {}),
    ...(options.rciReliability
      ? { rciReliability: parsePairs(options.rciReliability, '--rci-reliability') }
      : {}),
    rciSd,
    ...(bins ? { bins } : {}),
    ...(courses ? { courses } : {}),
  });
  for (const p of problems.slice(0, 1000)) await write(io.stderr, `line ${p.line}: ${p.message}\n`);
  if (problems.length > 1000) await write(io.stderr, `… and ${problems.length - 1000} more\n`);
  if (options.json) {
    const doc = {
      kapkitVersion: VERSION,
      input: {
        file,
        format: isCsv ? 'csv' : 'events-ndjson',
        records: records.length,
        excluded: problems.length,
        ...(fold
          ? {
              lines: fold.counts.records,
              events: fold.counts.events,
              accepted: fold.counts.accepted,
              refused: fold.counts.refused,
              malformed: fold.counts.malformed,
              voided: fold.voided,
              excludedByReason: { ...fold.byCode, ...(fold.voided ? { voided: fold.voided } : {}) },
              episodes: fold.episodes.size,
            }
          : {}),
      },
      ...report,
    };
    await write(io.stdout, `${JSON.stringify(doc, null, 2)}\n`);
  } else {
    await write(io.stdout, formatReport(report, problems));
  }
  return records.length === 0 ? 1 : 0;
}
