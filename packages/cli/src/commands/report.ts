import type { OutcomeChartData } from '@kapkit/charts';
import { decide, type EpisodeState, initialEpisodeState, ndjsonLines } from '@kapkit/core';
import { createInstrumentRegistry } from '@kapkit/core/instruments';
import { InvalidTimestampError, offsetOf } from '@kapkit/core/time';
import { writeFileAtomically } from '../atomic-write.js';
import { CliError, type CliIO, openInput, write } from '../io.js';

/** Options of `kapkit report`. */
export interface ReportCommandOptions {
  /** NDJSON event log (as written by `kapkit demo-data` or an event store), or `-` for standard input. */
  readonly events: string;
  /** The patient whose outcome chart to draw (`patientId` of the events). */
  readonly patient: string;
  /** Output PNG file, or `-` for standard output. */
  readonly out: string;
  /** Instruments to chart, comma-separated (default: PHQ-9 and GAD-7, those the episode has). */
  readonly instrument?: string;
  /** Chart the episode as of this instant (ISO 8601 with a UTC offset); later events are left out. */
  readonly asOf?: string;
}

/** Size of the PNG: CSS pixels × pixel ratio = 2400 × 1440 pixels, legible when shared or printed. */
const PNG = { width: 1200, height: 720, devicePixelRatio: 2 } as const;

interface Entry {
  readonly episodeId: string;
  state: EpisodeState;
  accepted: number;
  refused: number;
  /** Order in which the episode was first seen. */
  readonly seen: number;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

function parseInstruments(text: string | undefined): string[] | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const registry = createInstrumentRegistry();
  const ids: string[] = [];
  for (const part of text.split(',').map((p) => p.trim())) {
    if (part === '') continue;
    const found = registry.find(part);
    if (!found) {
      throw new CliError(`--instrument: unknown instrument "${part}" (known: ${registry.ids().join(', ')})`);
    }
    if (!ids.includes(found.id)) ids.push(found.id);
  }
  if (ids.length === 0)
    throw new CliError(`--instrument: expected instrument ids such as phq9,gad7, got "${text}"`);
  return ids;
}

function parseAsOf(text: string | undefined): { iso: string; ms: number } | undefined {
  if (text === undefined) return undefined;
  try {
    offsetOf(text);
  } catch (e) {
    if (e instanceof InvalidTimestampError) {
      throw new CliError(
        `--as-of: expected an ISO 8601 date-time with a UTC offset, e.g. 2026-05-01T09:00:00-04:00, got "${text}"`,
      );
    }
    throw e;
  }
  return { iso: text, ms: Date.parse(text) };
}

function summary(data: OutcomeChartData): string {
  const counts = data.instruments.map(
    (i) =>
      `${i.name} ${data.rows.filter((r) => r.instrument === i.id && r.total !== null && r.charted).length}`,
  );
  const flags = data.rows.filter((r) => r.safetyFlag !== null);
  const unreviewed = flags.filter((r) => !r.safetyFlag!.reviewed).length;
  return `${counts.join(', ')} assessment(s), ${data.doses.length} dose(s), ${flags.length} safety flag(s)${
    unreviewed > 0 ? ` (${unreviewed} not reviewed)` : ''
  }`;
}

/**
 * `kapkit report --events <file> --patient <id> --out report.png [--instrument phq9,gad7] [--as-of <iso>]`:
 * draw one patient's outcome chart (severity bands, dosing sessions, critical periods, response and
 * remission lines, reliable change and safety flags; see `@kapkit/charts`) as a PNG to share with the medical
 * team. The event log is read line by line; only that patient's events are replayed, with `decide`, one
 * state per episode. Refused or malformed lines are reported on stderr as `line N: episode E: event ID:
 * CODE: message` and left out. When the patient has several episodes, the one opened last is charted (the
 * others are named on stderr). The PNG is written atomically (temporary file, then rename); a one-line
 * summary goes to stderr. Returns 0, or 1 when lines were refused or malformed (as `kapkit validate` does);
 * the chart is then still written, from the accepted events.
 *
 * @throws {CliError} for an unknown instrument or a bad `--as-of`, an unreadable file, a patient with no
 *   events (or none accepted), a patient without scored assessments to chart, no font to draw text with, or
 *   an output that cannot be written.
 */
export async function reportCommand(options: ReportCommandOptions, io: CliIO): Promise<number> {
  const patient = options.patient;
  if (typeof patient !== 'string' || patient.trim() === '')
    throw new CliError('--patient: expected a patient id');
  const instruments = parseInstruments(options.instrument);
  const asOf = parseAsOf(options.asOf);
  const input = await openInput(options.events, io);
  const source = options.events === '-' ? 'standard input' : `"${options.events}"`;

  const episodes = new Map<string, Entry>();
  let refused = 0;
  let malformed = 0;
  let later = 0;
  const report = (
    line: number,
    episodeId: string | null,
    eventId: string | null,
    code: string,
    message: string,
  ) =>
    write(
      io.stderr,
      `line ${line}: episode ${episodeId ?? '-'}: event ${eventId ?? '-'}: ${code}: ${oneLine(message)}\n`,
    );

  for await (const entry of ndjsonLines(input)) {
    if (!entry.ok) {
      // It may be one of this patient's events: say so rather than drop it silently.
      malformed++;
      await report(entry.line, null, null, 'invalid-json', entry.message);
      continue;
    }
    const value = entry.value;
    if (!isRecord(value) || value.patientId !== patient) continue;
    const eventId = typeof value.id === 'string' ? value.id : null;
    const episodeId = typeof value.episodeId === 'string' && value.episodeId !== '' ? value.episodeId : null;
    if (episodeId === null) {
      malformed++;
      await report(
        entry.line,
        null,
        eventId,
        'invalid-event',
        'the event has no episodeId, so it belongs to no episode',
      );
      continue;
    }
    if (asOf !== undefined && typeof value.at === 'string' && Date.parse(value.at) > asOf.ms) {
      later++;
      continue;
    }
    let episode = episodes.get(episodeId);
    if (episode === undefined) {
      episode = { episodeId, state: initialEpisodeState, accepted: 0, refused: 0, seen: episodes.size };
      episodes.set(episodeId, episode);
    }
    const d = decide(episode.state, value);
    if (d.ok) {
      episode.state = d.state;
      episode.accepted++;
    } else {
      episode.refused++;
      refused++;
      await report(entry.line, episodeId, eventId, d.refusal.code, d.refusal.message);
    }
  }

  const opened = [...episodes.values()].filter((e) => e.state.context.openedAt !== null);
  if (opened.length === 0) {
    throw new CliError(
      episodes.size === 0
        ? `unknown patient "${patient}": no events for this patient in ${source}${asOf ? ` up to ${asOf.iso}` : ''}${later > 0 ? ` (${later} later event(s) left out by --as-of)` : ''}`
        : `patient "${patient}": none of their events was accepted (see the refusals above), so there is no episode to chart`,
    );
  }
  opened.sort(
    (a, b) =>
      Date.parse(a.state.context.openedAt!) - Date.parse(b.state.context.openedAt!) || a.seen - b.seen,
  );
  const chosen = opened[opened.length - 1]!;
  if (opened.length > 1) {
    await write(
      io.stderr,
      `kapkit report: patient "${patient}" has ${opened.length} episodes; charting the one opened last (${chosen.episodeId}); others: ${opened
        .slice(0, -1)
        .map((e) => e.episodeId)
        .join(', ')}\n`,
    );
  }

  // Loaded here, not at start-up: chart.js and the canvas are only needed by this command.
  const { outcomeChart } = await import('@kapkit/charts');
  const { ChartFontError, renderChartPng } = await import('@kapkit/charts/render');
  const { config, data } = outcomeChart({
    context: chosen.state.context,
    ...(instruments ? { instruments } : {}),
    ...(asOf ? { asOf: asOf.iso } : {}),
  });
  if (!data.rows.some((r) => r.total !== null && r.charted)) {
    const names = data.instruments.map((i) => i.name).join(' or ');
    throw new CliError(
      `patient "${patient}" (episode ${chosen.episodeId}) has no scored ${names} assessments${asOf ? ` up to ${asOf.iso}` : ''}: nothing to chart`,
    );
  }
  let png: Buffer;
  try {
    png = await renderChartPng(config, PNG);
  } catch (e) {
    if (e instanceof ChartFontError) throw new CliError(e.message);
    throw e;
  }
  if (options.out === '-') {
    await new Promise<void>((resolve, reject) =>
      io.stdout.write(png, (e) =>
        e ? reject(new CliError(`cannot write to stdout: ${e.message}`)) : resolve(),
      ),
    );
  } else await writeFileAtomically(options.out, [png]);

  const pixels = `${PNG.width * PNG.devicePixelRatio}×${PNG.height * PNG.devicePixelRatio}`;
  await write(
    io.stderr,
    `kapkit report: patient ${patient}, episode ${chosen.episodeId}${data.synthetic ? ' (synthetic)' : ''}${
      asOf ? ` as of ${asOf.iso}` : ''
    }: ${summary(data)}${refused + malformed > 0 ? `; ${refused} refused and ${malformed} malformed line(s) left out` : ''} -> ${
      options.out === '-' ? 'stdout' : options.out
    } (${pixels} PNG)\n`,
  );
  return refused + malformed > 0 ? 1 : 0;
}
