import { KapkitError } from '../errors.js';
import { normalizeInstrumentId } from '../instruments/registry.js';
import {
  currentSession,
  dosedSessions,
  dosesOnHand,
  type EpisodeContext,
  type EpisodeSafetyFlag,
  monitoringOf,
} from './context.js';
import {
  analyzeCriticalPeriods,
  type CriticalPeriodAnalysis,
  type CriticalWindow,
  DAY_MS,
  formatInOffset,
  offsetOf,
  windowMsFromDays,
} from './critical-periods.js';
import { phaseOf as defaultPhaseOf, type EpisodePhase, type EpisodeState } from './decide.js';
import { followUpDueMs } from './rules.js';

/** Status of one measure of the monitoring plan at `asOf`. */
export interface MeasureStatus {
  readonly instrument: string;
  /** Which rule makes it due: the baseline, the next dosing session, or the periodic interval. */
  readonly rule: 'baseline' | 'before-dose' | 'periodic';
  readonly lastAt: string | null;
  readonly dueAt: string | null;
  /** `missed`: a baseline that can no longer be taken (a dose was given without it). */
  readonly status: 'not-due' | 'due' | 'overdue' | 'missed';
}

/** One alert for the people caring for the patient. */
export interface EpisodeAlert {
  readonly code:
    | 'safety-flag'
    | 'safety-item-unanswered'
    | 'follow-up-overdue'
    | 'measure-due'
    | 'measure-overdue'
    | 'critical-period-chain-ending'
    | 'critical-period-chain-broken'
    | 'low-medication'
    | 'vitals-hold';
  readonly severity: 'urgent' | 'warning' | 'info';
  readonly message: string;
}

/** The episode as of a point in time. */
export interface EpisodeStatus {
  readonly asOf: string;
  readonly phase: EpisodePhase;
  readonly synthetic: boolean;
  /** Dosing sessions in which a dose was given. */
  readonly dosesGiven: number;
  readonly plannedDosingSessions: number | null;
  readonly dosesOnHand: number;
  readonly dosesAuthorized: number;
  readonly lowMedication: boolean;
  readonly followUp: null | {
    readonly lastAt: string | null;
    readonly dueAt: string;
    readonly overdue: boolean;
    readonly daysOverdue: number;
  };
  readonly measures: readonly MeasureStatus[];
  /** Every safety flag raised in the episode (reviewed or not), oldest first. */
  readonly safetyFlags: readonly EpisodeSafetyFlag[];
  /** Positive safety flags without a recorded review. */
  readonly unreviewedSafetyFlags: readonly EpisodeSafetyFlag[];
  readonly criticalPeriods: {
    readonly windowDays: number;
    /** Windows open at `asOf`. */
    readonly open: readonly CriticalWindow[];
    readonly analysis: CriticalPeriodAnalysis;
    /** Latest moment the next dose keeps the chain unbroken (null when closed, no dose yet, or course done). */
    readonly nextDoseBefore: string | null;
    /** The last calendar day (in the last dose's UTC offset) on which the next dose is still in time. */
    readonly nextDoseLatestDay: string | null;
  };
  readonly vitalsHold: boolean;
  readonly alerts: readonly EpisodeAlert[];
}

/** Parse an ISO 8601 instant with offset, or throw a typed error naming the parameter. */
function parseInstant(value: string, name: string): number {
  const ms = typeof value === 'string' && /(Z|[+-]\d{2}:\d{2})$/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new KapkitError(
      'invalid-timestamp',
      `statusAt: ${name} "${String(value)}" is not an ISO 8601 date-time with a UTC offset`,
    );
  }
  return ms;
}

function iso(ms: number, like: string): string {
  return formatInOffset(ms, offsetOf(like));
}

function latestMs(items: readonly { at: string }[], before = Number.POSITIVE_INFINITY): number | null {
  let best: number | null = null;
  for (const x of items) {
    const ms = Date.parse(x.at);
    if (ms <= before && (best === null || ms > best)) best = ms;
  }
  return best;
}

function measureStatuses(c: EpisodeContext, asOfMs: number, asOf: string, active: boolean): MeasureStatus[] {
  const out: MeasureStatus[] = [];
  const firstDoseAt = dosedSessions(c)[0]?.doses[0]?.at;
  const firstDoseMs = firstDoseAt === undefined ? null : Date.parse(firstDoseAt);
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
      const before = firstDoseMs === null ? taken : taken.filter((a) => Date.parse(a.at) <= firstDoseMs);
      const status: MeasureStatus['status'] =
        before.length > 0 ? 'not-due' : firstDoseMs !== null ? 'missed' : active ? 'due' : 'not-due';
      out.push({ instrument: id, rule: 'baseline', lastAt, dueAt: firstDoseAt ?? null, status });
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

/**
 * The status of an episode at `asOf` (an ISO 8601 instant with offset): phase, medication, follow-up and
 * measures due or overdue, safety flags, open critical periods and the deadline of the next dose that keeps the
 * chain unbroken, and alerts. Pure: time is an input, never a timer.
 *
 * @example
 * ```ts
 * const s = statusAt(replay(events).state, '2026-05-01T09:00:00-04:00');
 * s.criticalPeriods.nextDoseLatestDay; // '2026-05-06'
 * s.alerts.map((a) => a.code);         // ['safety-flag', 'follow-up-overdue']
 * ```
 */
export function statusAt(
  state: EpisodeState,
  asOf: string,
  options: { phaseOf?: (s: EpisodeState) => EpisodePhase } = {},
): EpisodeStatus {
  const asOfMs = parseInstant(asOf, 'asOf');
  const c = state.context;
  const phase = (options.phaseOf ?? defaultPhaseOf)(state);
  const closed = c.closed !== null;
  const active = !closed && phase !== 'not-opened' && phase !== 'paused';
  const dosed = dosedSessions(c);
  const doseTimes = dosed
    .map((s) => ({ at: s.doses[0]!.at, sessionId: s.sessionId }))
    .filter((d) => Date.parse(d.at) <= asOfMs);
  const until = closed && c.closed ? (Date.parse(c.closed.at) < asOfMs ? c.closed.at : asOf) : asOf;
  const analysis = analyzeCriticalPeriods(doseTimes, {
    windowMs: windowMsFromDays(c.policy.criticalPeriodDays),
    until,
  });
  const open = analysis.windows.filter((w) => w.startMs <= asOfMs && asOfMs < w.endMs);
  const planned = c.plan?.plannedDosingSessions ?? null;
  const courseDone = planned !== null && dosed.length >= planned;
  const deadline = active && !courseDone ? analysis.nextDoseDeadline : null;

  const alerts: EpisodeAlert[] = [];
  const unreviewed = c.safetyFlags.filter((f) => f.kind === 'positive' && f.reviewed === null);
  for (const f of unreviewed) {
    alerts.push({
      code: 'safety-flag',
      severity: 'urgent',
      message: `${f.instrument.toUpperCase()} item ${f.item} answered ${f.value} on ${f.at.slice(0, 10)}: ${f.message}`,
    });
  }
  for (const f of c.safetyFlags.filter((x) => x.kind === 'unanswered' && x.reviewed === null)) {
    alerts.push({
      code: 'safety-item-unanswered',
      severity: 'warning',
      message: `${f.instrument.toUpperCase()} item ${f.item} was left unanswered on ${f.at.slice(0, 10)}; ask it again or assess risk directly.`,
    });
  }

  let followUp: EpisodeStatus['followUp'] = null;
  const dueMs = followUpDueMs(c);
  if (dueMs !== null) {
    const lastMs = latestMs(c.followUps.map((at) => ({ at })));
    const overdue = active && asOfMs > dueMs;
    followUp = {
      lastAt: lastMs === null ? null : iso(lastMs, asOf),
      dueAt: iso(dueMs, asOf),
      overdue,
      daysOverdue: overdue ? (asOfMs - dueMs) / DAY_MS : 0,
    };
    if (overdue) {
      alerts.push({
        code: 'follow-up-overdue',
        severity: 'warning',
        message: `Medical follow-up overdue by ${Math.floor((asOfMs - dueMs) / DAY_MS)} day(s) (due ${followUp.dueAt.slice(0, 10)}; policy: every ${c.policy.followUpIntervalDays} days).`,
      });
    }
  }

  const measures = measureStatuses(c, asOfMs, asOf, active);
  for (const m of measures) {
    if (m.status === 'overdue' || m.status === 'due') {
      alerts.push({
        code: m.status === 'overdue' ? 'measure-overdue' : 'measure-due',
        severity: m.status === 'overdue' ? 'warning' : 'info',
        message: `${m.instrument.toUpperCase()} ${m.rule === 'baseline' ? 'baseline' : m.rule === 'before-dose' ? 'before the next dosing session' : 'periodic measure'} is ${m.status}${m.dueAt ? ` (due ${m.dueAt.slice(0, 10)})` : ''}.`,
      });
    }
  }

  if (deadline) {
    const left = deadline.beforeMs - asOfMs;
    if (left > 0 && left <= c.policy.chainWarningDays * DAY_MS) {
      alerts.push({
        code: 'critical-period-chain-ending',
        severity: 'warning',
        message: `The critical-period chain breaks unless the next dose is given by ${deadline.latestDay}.`,
      });
    } else if (left <= 0 && dosed.length > 0) {
      alerts.push({
        code: 'critical-period-chain-broken',
        severity: 'info',
        message: `No dose since the last critical period closed on ${deadline.before.slice(0, 10)}; the next dose starts a new chain.`,
      });
    }
  }

  const onHand = dosesOnHand(c);
  const lowMedication = active && c.prescription !== null && !courseDone && onHand < c.policy.lowSupplyDoses;
  if (lowMedication) {
    alerts.push({
      code: 'low-medication',
      severity: 'warning',
      message: `${onHand} dose(s) on hand: arrange a follow-up and refill before the next dosing session.`,
    });
  }
  const session = currentSession(c);
  const lastPre = session?.preVitals[session.preVitals.length - 1];
  const vitalsHold = Boolean(session && session.doses.length === 0 && lastPre?.aboveHold);
  if (vitalsHold && lastPre) {
    alerts.push({
      code: 'vitals-hold',
      severity: 'urgent',
      message: `Dosing on hold: pre-dose BP ${lastPre.systolic}/${lastPre.diastolic} mmHg is above ${c.policy.holdSystolicAbove}/${c.policy.holdDiastolicAbove}.`,
    });
  }

  return {
    asOf,
    phase,
    synthetic: c.synthetic,
    dosesGiven: dosed.length,
    plannedDosingSessions: planned,
    dosesOnHand: onHand,
    dosesAuthorized: c.dosesAuthorized,
    lowMedication,
    followUp,
    measures,
    safetyFlags: c.safetyFlags,
    unreviewedSafetyFlags: unreviewed,
    criticalPeriods: {
      windowDays: c.policy.criticalPeriodDays,
      open,
      analysis,
      nextDoseBefore: deadline?.before ?? null,
      nextDoseLatestDay: deadline?.latestDay ?? null,
    },
    vitalsHold,
    alerts,
  };
}
