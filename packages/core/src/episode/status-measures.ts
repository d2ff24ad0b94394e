import type { InstrumentRegistry } from '../instruments/registry.js';
import { normalizeInstrumentId } from '../instruments/registry.js';
import { dosedSessions, type EpisodeContext, monitoringOf } from './context.js';
import { DAY_MS, formatInOffset, offsetOf, type UtcOffset } from './critical-periods.js';

import type { MeasureStatus, OutcomeProgress } from './status.js';

/*
 * What `statusAt` reports about measures: the monitoring plan's measures (due, overdue) and the outcome
 * measures' baseline and latest scores.
 */

// The offset of the last `like` (statusAt formats every date in the offset of its one `asOf`).
let lastLike = '';
let lastOffset: UtcOffset = 'Z';

/** An instant as ISO 8601 in the offset of `like`. */
export function iso(ms: number, like: string): string {
  if (like !== lastLike) {
    lastOffset = offsetOf(like);
    lastLike = like;
  }
  return formatInOffset(ms, lastOffset);
}

/** The latest `at` (epoch ms) among `items`, at or before `before`; null when none. */
export function latestMs(items: readonly { at: string }[], before = Number.POSITIVE_INFINITY): number | null {
  let best: number | null = null;
  for (const x of items) {
    const ms = Date.parse(x.at);
    if (ms <= before && (best === null || ms > best)) best = ms;
  }
  return best;
}

/** When the course's first dose was given (its `at` and epoch ms); null before any dose. */
function firstDose(c: EpisodeContext): { readonly at: string; readonly ms: number } | null {
  const at = dosedSessions(c)[0]?.doses[0]?.at;
  return at === undefined ? null : { at, ms: Date.parse(at) };
}

/** Each measure of the monitoring plan: last taken, due date and status at `asOfMs`. */
export function measureStatuses(
  c: EpisodeContext,
  asOfMs: number,
  asOf: string,
  active: boolean,
): MeasureStatus[] {
  const out: MeasureStatus[] = [];
  const first = firstDose(c);
  // The next booked session that has not started.
  const upcoming = c.sessions
    .filter((s) => s.status === 'scheduled' && s.sessionId !== c.currentSessionId)
    .sort((a, b) => Date.parse(a.scheduledFor) - Date.parse(b.scheduledFor))[0];
  for (const m of monitoringOf(c)) {
    const id = normalizeInstrumentId(m.instrument);
    const taken = c.assessments.filter((a) => a.instrument === id && Date.parse(a.at) <= asOfMs);
    const lastMs = latestMs(taken);
    const lastAt = lastMs === null ? null : iso(lastMs, asOf);
    if (m.baseline) {
      const before = first === null ? taken : taken.filter((a) => Date.parse(a.at) <= first.ms);
      const status: MeasureStatus['status'] =
        before.length > 0 ? 'not-due' : first !== null ? 'missed' : active ? 'due' : 'not-due';
      out.push({ instrument: id, rule: 'baseline', lastAt, dueAt: first?.at ?? null, status });
    }
    if (m.beforeEachDoseWithinDays !== undefined && upcoming && active) {
      const dueMs = Date.parse(upcoming.scheduledFor);
      const fromMs = dueMs - m.beforeEachDoseWithinDays * DAY_MS;
      const done = taken.some((a) => {
        const t = Date.parse(a.at);
        return t >= fromMs && t <= Math.max(dueMs, asOfMs);
      });
      const status: MeasureStatus['status'] = done
        ? 'not-due'
        : asOfMs > dueMs
          ? 'overdue'
          : asOfMs >= fromMs
            ? 'due'
            : 'not-due';
      out.push({ instrument: id, rule: 'before-dose', lastAt, dueAt: upcoming.scheduledFor, status });
    }
    if (m.everyDays !== undefined && active && lastMs !== null) {
      const dueMs = lastMs + m.everyDays * DAY_MS;
      const status: MeasureStatus['status'] =
        asOfMs > dueMs + c.policy.measureGraceDays * DAY_MS ? 'overdue' : asOfMs >= dueMs ? 'due' : 'not-due';
      out.push({ instrument: id, rule: 'periodic', lastAt, dueAt: iso(dueMs, asOf), status });
    }
  }
  return out;
}

/** Scorable assessments of one instrument, in clinical order, up to `asOfMs`. */
function scored(c: EpisodeContext, instrument: string, asOfMs: number) {
  return c.assessments
    .filter((a) => a.instrument === instrument && a.total !== null && Date.parse(a.at) <= asOfMs)
    .sort(
      (a, b) => Date.parse(a.at) - Date.parse(b.at),
    ) as readonly (EpisodeContext['assessments'][number] & {
    total: number;
  })[];
}

/**
 * Baseline and latest of every outcome measure with a response definition (`InstrumentDefinition.outcomes`):
 * the baseline is the last scorable assessment at or before the first dose (else the first one); the latest
 * is the last one at or before `asOf`.
 */
export function outcomeProgress(
  c: EpisodeContext,
  asOfMs: number,
  registry: InstrumentRegistry,
): OutcomeProgress[] {
  const out: OutcomeProgress[] = [];
  const first = firstDose(c);
  const ids = [...new Set(c.assessments.map((a) => a.instrument))];
  for (const id of ids) {
    const d = registry.find(id);
    const response = d?.outcomes?.response;
    if (!d || !response || d.purpose !== 'outcome' || d.direction !== 'higher-is-worse') continue;
    const list = scored(c, id, asOfMs);
    if (list.length === 0) continue;
    const before = first === null ? list : list.filter((a) => Date.parse(a.at) <= first.ms);
    const b = before[before.length - 1] ?? list[0]!;
    const l = list[list.length - 1]!;
    const isBaseline = l.eventId === b.eventId;
    const fixed = d.change?.fixedPoints?.value;
    const lastBand = d.bands?.[d.bands.length - 1]?.id;
    out.push({
      instrument: id,
      baseline: { at: b.at, total: b.total },
      latest: { at: l.at, total: l.total, severity: l.severity },
      response: isBaseline || b.total <= 0 ? null : l.total <= response.fraction * b.total,
      reliableDeterioration: isBaseline || fixed === undefined ? null : l.total - b.total >= fixed,
      mostSevereBand: lastBand !== undefined && l.severity === lastBand,
    });
  }
  return out;
}
