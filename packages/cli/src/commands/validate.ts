import { stat } from 'node:fs/promises';
import {
  type EpisodeAlert,
  type EpisodePhase,
  EventLogFold,
  type LogEpisode,
  ndjsonLines,
  type SafetySignal,
  statusAt,
} from '@kapkit/core';
import { CliError, type CliIO, inputName, openInput, parseNow, write } from '../io.js';
import { readProgress } from '../progress.js';

/** One refused or malformed line. */
export interface ValidateProblem {
  /** 1-based line number in the input. */
  readonly line: number;
  readonly episodeId: string | null;
  readonly eventId: string | null;
  /** A refusal code of the episode model, or `invalid-json` / `invalid-event` for lines it never saw. */
  readonly code: string;
  readonly message: string;
  /**
   * Safety signals the line carries (a positive PHQ-9 item 9, a serious adverse event, alarming vitals),
   * whatever the reason it was refused: act on them. Absent when there are none.
   */
  readonly safetyFlags?: readonly SafetySignal[];
}

/** One episode's summary after the whole file. */
export interface ValidateEpisode {
  readonly episodeId: string;
  readonly patientId: string | null;
  readonly phase: EpisodePhase;
  readonly accepted: number;
  readonly refused: number;
  /** The `at` of the last accepted event: the status below is as of then. */
  readonly lastEventAt: string | null;
  readonly dosesGiven: number;
  readonly plannedDosingSessions: number | null;
  /** Share of the span from the first dose to the last event covered by critical periods, 0–1. */
  readonly criticalPeriodCoverage: number | null;
  /** Doses in the longest chain of overlapping critical periods. */
  readonly longestChainDoses: number | null;
  readonly chains: number;
  readonly unreviewedSafetyFlags: number;
  readonly synthetic: boolean;
  /** Events of the episode that were voided (entered in error). */
  readonly voided: number;
  /** The alerts of the episode status at the report's `asOf` (none for an episode that was never opened). */
  readonly alerts: readonly Pick<EpisodeAlert, 'code' | 'severity' | 'message'>[];
}

/** The `--json` report. */
export interface ValidateReport {
  readonly ok: boolean;
  readonly lines: number;
  readonly events: number;
  readonly accepted: number;
  readonly refused: number;
  readonly malformed: number;
  readonly episodes: number;
  readonly phases: Readonly<Record<string, number>>;
  /** Excluded lines by code. */
  readonly problemsByCode: Readonly<Record<string, number>>;
  /** Accepted events that were later voided. */
  readonly voided: number;
  /** The instant every episode's status (and its alerts) is computed at. */
  readonly asOf: string | null;
  readonly problems: readonly ValidateProblem[];
  readonly episodeSummaries: readonly ValidateEpisode[];
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

function summarize(e: LogEpisode, phase: EpisodePhase, asOf: string | null): ValidateEpisode {
  const c = e.state.context;
  const base = {
    episodeId: e.episodeId,
    patientId: c.patientId,
    phase,
    accepted: e.accepted,
    refused: e.refused,
    lastEventAt: c.lastEventAt,
    synthetic: c.synthetic,
    voided: c.voidedEventIds.length,
  };
  if (c.lastEventAt === null) {
    return {
      ...base,
      dosesGiven: 0,
      plannedDosingSessions: null,
      criticalPeriodCoverage: null,
      longestChainDoses: null,
      chains: 0,
      unreviewedSafetyFlags: 0,
      alerts: [],
    };
  }
  // The critical-period summary is as of the episode's own last event; the alerts as of the report's instant.
  const s = statusAt(e.state, c.lastEventAt);
  const a = s.criticalPeriods.analysis;
  const alerts = asOf === null || asOf === c.lastEventAt ? s.alerts : statusAt(e.state, asOf).alerts;
  return {
    ...base,
    dosesGiven: s.dosesGiven,
    plannedDosingSessions: s.plannedDosingSessions,
    criticalPeriodCoverage: a.coverage?.fraction ?? null,
    longestChainDoses: a.longestChain?.doses.length ?? null,
    chains: a.chains.length,
    unreviewedSafetyFlags: s.unreviewedSafetyFlags.length,
    alerts: alerts.map(({ code, severity, message }) => ({ code, severity, message })),
  };
}

function episodeLine(s: ValidateEpisode): string {
  const coverage =
    s.criticalPeriodCoverage === null ? '-' : `${(s.criticalPeriodCoverage * 100).toFixed(1)}%`;
  const chain = s.longestChainDoses === null ? '-' : `${s.longestChainDoses} dose(s)`;
  const planned = s.plannedDosingSessions === null ? '' : ` of ${s.plannedDosingSessions} planned`;
  const flags = s.unreviewedSafetyFlags > 0 ? `; ${s.unreviewedSafetyFlags} unreviewed safety flag(s)` : '';
  const voided = s.voided > 0 ? `; ${s.voided} voided` : '';
  const head = `episode ${s.episodeId}: ${s.phase}; ${s.dosesGiven} dose(s) given${planned}; critical-period coverage ${coverage}, longest chain ${chain} (${s.chains} chain(s)); ${s.accepted} accepted, ${s.refused} refused${voided}${flags}`;
  return [head, ...s.alerts.map((a) => `  alert ${a.severity} ${a.code}: ${oneLine(a.message)}`)].join('\n');
}

/** A problem line: `line N: episode E: event ID: CODE: message`, the message ending in SAFETY: … when it carries a signal. */
function problemLine(p: ValidateProblem): string {
  const safety =
    p.safetyFlags?.some((f) => f.kind === 'positive') && !p.message.includes('SAFETY:')
      ? ` — SAFETY: ${p.safetyFlags
          .filter((f) => f.kind === 'positive')
          .map((f) => `${f.rule} (${f.value})`)
          .join(', ')}`
      : '';
  return `line ${p.line}: episode ${p.episodeId ?? '-'}: event ${p.eventId ?? '-'}: ${p.code}: ${oneLine(p.message)}${safety}`;
}

/** Parse `--as-of`: an ISO 8601 date-time with a UTC offset. */
function parseAsOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new CliError(
      `--as-of: expected an ISO 8601 date-time with a UTC offset, e.g. 2026-05-01T09:00:00-04:00, got "${value}"`,
    );
  }
  return value;
}

/**
 * `kapkit validate [file|-] [--json] [--as-of <iso>]`: fold every event of an NDJSON log into its episode
 * with the episode machine (episodes may be interleaved; the same reading as `analyze` and `export`). Prints
 * each refused or malformed line as `line N: episode E: event ID: CODE: message` (ending in `SAFETY: …` when
 * the line carries a safety signal), then one summary line per episode with the alerts of its status at
 * `--as-of` (default: the latest event time in the log), then totals. An event dated later than its own
 * `recordedAt` (plus the policy tolerance) is refused as `future-event`; with `--now` (a time, or `now` for the
 * system clock) so is one dated or recorded later than that clock. Without it the log is not compared with any
 * clock (logs may be synthetic cohorts dated ahead, or replayed later). Returns 1 if anything
 * was refused or malformed, else 0 (alerts do not change the exit code).
 */
export async function validateCommand(
  file: string | undefined,
  options: { json?: boolean; asOf?: string; now?: string },
  io: CliIO,
): Promise<number> {
  const asOfOption = parseAsOf(options.asOf);
  const now = parseNow(options.now);
  const input = await openInput(file, io);
  const size = file === undefined || file === '-' ? null : (await stat(file)).size;
  const progress = readProgress('validate', io.stderr, input, size);
  const fold = new EventLogFold(now === undefined ? {} : { now });
  const problems: ValidateProblem[] = [];

  try {
    for await (const l of ndjsonLines(input)) {
      const r = fold.add(l);
      progress.tick(fold.counts.records);
      if (r.ok) continue;
      const { line, episodeId, eventId, code, message, safetyFlags } = r.problem;
      const p: ValidateProblem = {
        line,
        episodeId,
        eventId,
        code,
        message,
        ...(safetyFlags ? { safetyFlags } : {}),
      };
      if (options.json) problems.push(p);
      else await write(io.stdout, `${problemLine(p)}\n`);
    }
  } finally {
    progress.stop();
  }
  // The status instant: as given, else the latest event time in the whole log.
  let latest: { ms: number; at: string } | null = null;
  for (const e of fold.episodes.values()) {
    const ms = e.state.context.lastEventMs;
    if (ms !== null && (latest === null || ms > latest.ms)) latest = { ms, at: e.state.context.lastEventAt! };
  }
  const asOf = asOfOption ?? latest?.at ?? null;

  const phases: Record<string, number> = {};
  const summaries: ValidateEpisode[] = [];
  for (const e of fold.episodes.values()) {
    const s = summarize(e, fold.model.phaseOf(e.state), asOf);
    phases[s.phase] = (phases[s.phase] ?? 0) + 1;
    if (options.json) summaries.push(s);
    else await write(io.stdout, `${episodeLine(s)}\n`);
  }
  const totals = fold.counts;
  if (totals.records === 0) throw new CliError(`no events in ${inputName(file)}`, 1);
  const ok = totals.refused === 0 && totals.malformed === 0;
  if (options.json) {
    const out: ValidateReport = {
      ok,
      lines: totals.records,
      events: totals.events,
      accepted: totals.accepted,
      refused: totals.refused,
      malformed: totals.malformed,
      episodes: fold.episodes.size,
      phases,
      problemsByCode: fold.byCode,
      voided: fold.voided,
      asOf,
      problems,
      episodeSummaries: summaries,
    };
    await write(io.stdout, `${JSON.stringify(out, null, 2)}\n`);
  } else {
    const phaseText = Object.entries(phases)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    await write(
      io.stdout,
      `total: ${totals.records} lines, ${totals.events} events in ${fold.episodes.size} episodes: ${totals.accepted} accepted, ${totals.refused} refused, ${totals.malformed} malformed${fold.voided ? `, ${fold.voided} voided` : ''}${phaseText ? `; phases: ${phaseText}` : ''}${asOf ? `; status as of ${asOf}` : ''}\n`,
    );
  }
  return ok ? 0 : 1;
}
