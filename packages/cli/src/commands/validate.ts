import {
  decide,
  type EpisodePhase,
  type EpisodeState,
  initialEpisodeState,
  phaseOf,
  statusAt,
} from '@kapkit/core';
import { type CliIO, openInput, readNdjson, write } from '../io.js';

/** One refused or malformed line. */
export interface ValidateProblem {
  /** 1-based line number in the input. */
  readonly line: number;
  readonly episodeId: string | null;
  readonly eventId: string | null;
  /** A refusal code of the episode model, or `invalid-json` / `invalid-event` for lines it never saw. */
  readonly code: string;
  readonly message: string;
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
  readonly problems: readonly ValidateProblem[];
  readonly episodeSummaries: readonly ValidateEpisode[];
}

interface Entry {
  state: EpisodeState;
  accepted: number;
  refused: number;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

function summarize(episodeId: string, e: Entry): ValidateEpisode {
  const c = e.state.context;
  const phase = phaseOf(e.state);
  const base = {
    episodeId,
    patientId: c.patientId,
    phase,
    accepted: e.accepted,
    refused: e.refused,
    lastEventAt: c.lastEventAt,
    synthetic: c.synthetic,
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
    };
  }
  const s = statusAt(e.state, c.lastEventAt);
  const a = s.criticalPeriods.analysis;
  return {
    ...base,
    dosesGiven: s.dosesGiven,
    plannedDosingSessions: s.plannedDosingSessions,
    criticalPeriodCoverage: a.coverage?.fraction ?? null,
    longestChainDoses: a.longestChain?.doses.length ?? null,
    chains: a.chains.length,
    unreviewedSafetyFlags: s.unreviewedSafetyFlags.length,
  };
}

function episodeLine(s: ValidateEpisode): string {
  const coverage =
    s.criticalPeriodCoverage === null ? '-' : `${(s.criticalPeriodCoverage * 100).toFixed(1)}%`;
  const chain = s.longestChainDoses === null ? '-' : `${s.longestChainDoses} dose(s)`;
  const planned = s.plannedDosingSessions === null ? '' : ` of ${s.plannedDosingSessions} planned`;
  const flags = s.unreviewedSafetyFlags > 0 ? `; ${s.unreviewedSafetyFlags} unreviewed safety flag(s)` : '';
  return `episode ${s.episodeId}: ${s.phase}; ${s.dosesGiven} dose(s) given${planned}; critical-period coverage ${coverage}, longest chain ${chain} (${s.chains} chain(s)); ${s.accepted} accepted, ${s.refused} refused${flags}`;
}

/**
 * `kapkit validate [file|-] [--json]`: fold every event of an NDJSON log into its episode with `decide`
 * (episodes may be interleaved), one state per episode and nothing else kept. Prints each refused or
 * malformed line as `line N: episode E: event ID: CODE: message`, then one summary line per episode (as of
 * its last accepted event), then totals. Returns 1 if anything was refused or malformed, else 0.
 */
export async function validateCommand(
  file: string | undefined,
  options: { json?: boolean },
  io: CliIO,
): Promise<number> {
  const input = await openInput(file, io);
  const episodes = new Map<string, Entry>();
  const problems: ValidateProblem[] = [];
  const totals = { lines: 0, events: 0, accepted: 0, refused: 0, malformed: 0 };

  const report = async (p: ValidateProblem) => {
    if (options.json) problems.push(p);
    else
      await write(
        io.stdout,
        `line ${p.line}: episode ${p.episodeId ?? '-'}: event ${p.eventId ?? '-'}: ${p.code}: ${oneLine(p.message)}\n`,
      );
  };

  for await (const entry of readNdjson(input)) {
    totals.lines++;
    if (!entry.ok) {
      totals.malformed++;
      await report({
        line: entry.line,
        episodeId: null,
        eventId: null,
        code: 'invalid-json',
        message: entry.message,
      });
      continue;
    }
    const value = entry.value;
    const eventId = isRecord(value) && typeof value.id === 'string' ? value.id : null;
    const episodeId =
      isRecord(value) && typeof value.episodeId === 'string' && value.episodeId !== ''
        ? value.episodeId
        : null;
    if (episodeId === null) {
      totals.malformed++;
      await report({
        line: entry.line,
        episodeId: null,
        eventId,
        code: 'invalid-event',
        message: isRecord(value)
          ? 'the event has no episodeId (a non-empty string), so it belongs to no episode'
          : `expected a JSON object per line, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`,
      });
      continue;
    }
    totals.events++;
    let episode = episodes.get(episodeId);
    if (episode === undefined) {
      episode = { state: initialEpisodeState, accepted: 0, refused: 0 };
      episodes.set(episodeId, episode);
    }
    const d = decide(episode.state, value);
    if (d.ok) {
      episode.state = d.state;
      episode.accepted++;
      totals.accepted++;
    } else {
      episode.refused++;
      totals.refused++;
      await report({
        line: entry.line,
        episodeId,
        eventId,
        code: d.refusal.code,
        message: d.refusal.message,
      });
    }
  }

  const phases: Record<string, number> = {};
  const summaries: ValidateEpisode[] = [];
  for (const [id, e] of episodes) {
    const s = summarize(id, e);
    phases[s.phase] = (phases[s.phase] ?? 0) + 1;
    if (options.json) summaries.push(s);
    else await write(io.stdout, `${episodeLine(s)}\n`);
  }
  const ok = totals.refused === 0 && totals.malformed === 0;
  if (options.json) {
    const out: ValidateReport = {
      ok,
      ...totals,
      episodes: episodes.size,
      phases,
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
      `total: ${totals.lines} lines, ${totals.events} events in ${episodes.size} episodes: ${totals.accepted} accepted, ${totals.refused} refused, ${totals.malformed} malformed${phaseText ? `; phases: ${phaseText}` : ''}\n`,
    );
  }
  return ok ? 0 : 1;
}
