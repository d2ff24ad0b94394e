import { KapkitError } from '../errors.js';
import { createInstrumentRegistry } from '../instruments/builtin.js';
import type { InstrumentRegistry } from '../instruments/registry.js';
import {
  type ConsentRecord,
  consentInForce,
  currentSession,
  type DosingSessionRecord,
  dosedSessions,
  dosesOnHand,
  type EpisodeAdverseEvent,
  type EpisodeContext,
  type EpisodeSafetyFlag,
  type TreatmentStop,
  vitalSignNames,
} from './context.js';
import {
  analyzeCriticalPeriods,
  type CriticalPeriodAnalysis,
  type CriticalWindow,
  DAY_MS,
  windowMsFromDays,
} from './critical-periods.js';
import { phaseOf as defaultPhaseOf, type EpisodeState } from './decide.js';
import { parseInstant } from './event-time.js';
import type { ConsentScope } from './events.js';
import {
  type MedicationClass,
  type MedicationFinding,
  medicationFindings,
  totalDiazepamEquivalent,
} from './medications.js';
import type { EpisodePhase } from './phases.js';
import { followUpDueMs, readingText } from './rules.js';

import { chainAlerts, notOnTrackAlerts, safetyAlerts, vitalsAlerts } from './status-alerts.js';
import { iso, latestMs, measureStatuses, outcomeProgress } from './status-measures.js';

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

/** Every alert code `statusAt` can raise, with what it means. Stable: callers may switch on them. */
export const alertCodes = {
  'safety-flag': 'A positive safety item (e.g. PHQ-9 item 9 > 0) has not been reviewed by a clinician.',
  'safety-item-unanswered': 'A safety item was left unanswered; ask it again or assess risk directly.',
  'adverse-event':
    'An adverse event has not been reviewed: urgent when severe, serious or suicidal ideation; warning when moderate.',
  'late-entry':
    'A safety signal, a treatment stop or a withdrawal of consent (to KAP, or to remote sessions for a remote dose) was entered after a later dose went ahead; had it been known, the dose would have been refused.',
  'treatment-stopped': 'The medical team stopped treatment.',
  'vitals-hold': 'The session in progress is on hold: pre-dose vitals beyond the hold thresholds.',
  'vitals-alert': 'A reading of the latest dosing session is beyond the alert thresholds.',
  'follow-up-overdue': 'The medical follow-up is overdue.',
  'measure-due': 'An outcome measure of the monitoring plan is due.',
  'measure-overdue': 'An outcome measure of the monitoring plan is overdue.',
  'no-response': 'No response on an outcome measure after the policy number of doses.',
  'reliable-deterioration': 'The latest score is reliably worse than baseline.',
  'severe-symptoms': 'The latest score is in the most severe band of its instrument.',
  'critical-period-chain-ending': 'The critical-period chain breaks unless the next dose is given soon.',
  'critical-period-chain-broken': 'The last critical period closed without a next dose.',
  'low-medication': 'Not enough medication on hand for the next session.',
  'consent-missing':
    'No informed consent to KAP is in force while the policy requires it: the next dose would be refused.',
  'medication-interaction':
    'A concurrent medication may change ketamine’s effect or safety (benzodiazepines above the policy diazepam-equivalent, lamotrigine, MAOIs, stimulants, CYP3A4/2B6 inducers or inhibitors).',
  'maintenance-session-due': 'A maintenance dosing session is due (or overdue) under the maintenance plan.',
} as const;

export type AlertCode = keyof typeof alertCodes;

/** One alert for the people caring for the patient. */
export interface EpisodeAlert {
  readonly code: AlertCode;
  readonly severity: 'urgent' | 'warning' | 'info';
  readonly message: string;
}

/** Baseline and latest score of one outcome measure (totals, scorable assessments only). */
export interface OutcomeProgress {
  readonly instrument: string;
  readonly baseline: { readonly at: string; readonly total: number } | null;
  readonly latest: { readonly at: string; readonly total: number; readonly severity: string | null } | null;
  /** Latest ≤ response fraction × baseline (baseline > 0); null when undefined for the instrument or unknown. */
  readonly response: boolean | null;
  /** Latest − baseline reached the instrument's fixed-point reliable change (in the worse direction). */
  readonly reliableDeterioration: boolean | null;
  /** Latest is in the instrument's most severe band. */
  readonly mostSevereBand: boolean;
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
  /** Critical periods of the initial course (maintenance doses are reported under `maintenance`). */
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
  /** Adverse events not yet reviewed that need it (severe, serious, suicidal ideation) or are moderate. */
  readonly unreviewedAdverseEvents: readonly EpisodeAdverseEvent[];
  /** The treatment stop in force, if any. */
  readonly treatmentStopped: TreatmentStop | null;
  /** Outcome measures with a response definition: baseline, latest and the not-on-track checks. */
  readonly outcomes: readonly OutcomeProgress[];
  /** Informed consent as of now. */
  readonly consent: {
    /** The policy refuses doses without consent to KAP. */
    readonly required: boolean;
    /** Scopes in force (given and not withdrawn). */
    readonly inForce: readonly ConsentScope[];
    /** Scopes the patient withdrew. */
    readonly withdrawn: readonly ConsentScope[];
    /** The latest consent recorded, if any. */
    readonly latest: ConsentRecord | null;
  };
  /** Concurrent medications from the latest review, and what the medical team should look at. */
  readonly medications: {
    readonly reviewedAt: string | null;
    readonly classes: readonly MedicationClass[];
    /** Total benzodiazepine dose in mg diazepam-equivalent a day (null: none, or not convertible). */
    readonly diazepamEquivalentMgPerDay: number | null;
    readonly findings: readonly MedicationFinding[];
  };
  /** The maintenance phase, reported apart from the initial course; null when no maintenance is planned. */
  readonly maintenance: null | {
    readonly plannedAt: string;
    readonly intervalDays: number;
    /** Maintenance sessions in which a dose was given. */
    readonly sessions: number;
    readonly lastDoseAt: string | null;
    /** When the next maintenance session is due (last dose, or the plan, + interval). */
    readonly nextDueAt: string;
    readonly status: 'not-due' | 'due' | 'overdue';
    /** Critical periods of the maintenance doses alone. */
    readonly criticalPeriods: CriticalPeriodAnalysis;
  };
  readonly alerts: readonly EpisodeAlert[];
}

/** Parse an ISO 8601 instant with offset, or throw a typed error naming the parameter. */
function parseAsOf(value: string, name: string): number {
  const ms =
    typeof value === 'string' && /(Z|[+-]\d{2}:\d{2})$/.test(value) ? parseInstant(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new KapkitError(
      'invalid-timestamp',
      `statusAt: ${name} "${String(value)}" is not an ISO 8601 date-time with a UTC offset`,
    );
  }
  return ms;
}

/** Consent in force and withdrawn, and the medication review (a missing consent or an interaction adds its alert). */
function consentAndMedications(
  c: EpisodeContext,
  phase: EpisodePhase,
  alerts: EpisodeAlert[],
): Pick<EpisodeStatus, 'consent' | 'medications'> {
  const inForce = (['kap', 'remote-sessions', 'research-use'] as const).filter((x) => consentInForce(c, x));
  // Scopes withdrawn and not consented to again since.
  const withdrawn = [...new Set(c.withdrawals.flatMap((w) => w.scope))].filter((x) => !inForce.includes(x));
  const consentNeeded =
    phase === 'planning' || phase === 'preparation' || phase === 'dosing-course' || phase === 'maintenance';
  if (c.policy.requireInformedConsent && consentNeeded && !inForce.includes('kap')) {
    alerts.push({
      code: 'consent-missing',
      severity: 'warning',
      message: withdrawn.includes('kap')
        ? 'The patient withdrew consent to KAP: no further doses (policy).'
        : 'No informed consent to KAP is recorded: the first dose will be refused until it is (policy).',
    });
  }
  const meds = c.medications?.list ?? [];
  const findings = medicationFindings(meds, c.policy.benzodiazepineAlertAboveMgDiazepam);
  if (c.closed === null) {
    for (const f of findings)
      alerts.push({ code: 'medication-interaction', severity: 'warning', message: f.message });
  }

  return {
    consent: {
      required: c.policy.requireInformedConsent,
      inForce,
      withdrawn,
      latest: c.consents[c.consents.length - 1] ?? null,
    },
    medications: {
      reviewedAt: c.medications?.at ?? null,
      classes: [...new Set(meds.map((m) => m.class))],
      diazepamEquivalentMgPerDay: totalDiazepamEquivalent(meds),
      findings,
    },
  };
}

/** The medical follow-up: last, due, overdue (an overdue one adds its alert to `alerts`). */
function followUpStatus(
  c: EpisodeContext,
  asOfMs: number,
  asOf: string,
  monitored: boolean,
  alerts: EpisodeAlert[],
): EpisodeStatus['followUp'] {
  let followUp: EpisodeStatus['followUp'] = null;
  const dueMs = followUpDueMs(c);
  if (dueMs !== null) {
    const lastMs = latestMs(c.followUps.map((at) => ({ at })));
    const overdue = monitored && asOfMs > dueMs;
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
  return followUp;
}

/** Maintenance after the initial course: sessions, next due (a due or overdue session adds its alert). */
function maintenanceStatus(
  c: EpisodeContext,
  at: {
    readonly asOfMs: number;
    readonly asOf: string;
    readonly active: boolean;
    readonly phase: EpisodePhase;
    readonly windowMs: number;
    readonly until: string;
  },
  times: readonly { readonly at: string; readonly sessionId: string }[],
  alerts: EpisodeAlert[],
): EpisodeStatus['maintenance'] {
  const { asOfMs, asOf, active, phase, windowMs, until } = at;
  let maintenance: EpisodeStatus['maintenance'] = null;
  if (c.maintenance) {
    const last = times[times.length - 1]?.at ?? null;
    const fromMs = parseInstant(last ?? c.maintenance.at);
    const dueMs = fromMs + c.maintenance.intervalDays * DAY_MS;
    const status: 'not-due' | 'due' | 'overdue' = !active
      ? 'not-due'
      : asOfMs > dueMs + c.policy.measureGraceDays * DAY_MS
        ? 'overdue'
        : asOfMs >= dueMs
          ? 'due'
          : 'not-due';
    maintenance = {
      plannedAt: c.maintenance.at,
      intervalDays: c.maintenance.intervalDays,
      sessions: times.length,
      lastDoseAt: last,
      nextDueAt: iso(dueMs, asOf),
      status,
      criticalPeriods: analyzeCriticalPeriods(times, { windowMs, until }),
    };
    if (status !== 'not-due' && phase !== 'dosing-session') {
      alerts.push({
        code: 'maintenance-session-due',
        severity: status === 'overdue' ? 'warning' : 'info',
        message: `Maintenance dosing session ${status} (due ${maintenance.nextDueAt.slice(0, 10)}; plan: every ${c.maintenance.intervalDays} days).`,
      });
    }
  }
  return maintenance;
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
  options: { phaseOf?: (s: EpisodeState) => EpisodePhase; registry?: InstrumentRegistry } = {},
): EpisodeStatus {
  const asOfMs = parseAsOf(asOf, 'asOf');
  const c = state.context;
  const registry = options.registry ?? defaultRegistry;
  const phase = (options.phaseOf ?? defaultPhaseOf)(state);
  const closed = c.closed !== null;
  const active = !closed && phase !== 'not-opened' && phase !== 'paused';
  // Medical monitoring goes on while paused: an overdue follow-up stays an alert.
  const monitored = !closed && phase !== 'not-opened';
  const dosed = dosedSessions(c);
  const initialCourse = dosed.filter((s) => !s.maintenance);
  const doseTimesOf = (list: readonly DosingSessionRecord[]) =>
    list
      .map((s) => ({ at: s.doses[0]!.at, sessionId: s.sessionId }))
      .filter((d) => parseInstant(d.at) <= asOfMs);
  const until = closed && c.closed ? (parseInstant(c.closed.at) < asOfMs ? c.closed.at : asOf) : asOf;
  const windowMs = windowMsFromDays(c.policy.criticalPeriodDays);
  const analysis = analyzeCriticalPeriods(doseTimesOf(initialCourse), { windowMs, until });
  const maintenanceSessions = dosed.filter((s) => s.maintenance);
  const open = [
    ...analysis.windows,
    ...(c.maintenance
      ? analyzeCriticalPeriods(doseTimesOf(maintenanceSessions), { windowMs, until }).windows
      : []),
  ].filter((w) => w.startMs <= asOfMs && asOfMs < w.endMs);
  const planned = c.plan?.plannedDosingSessions ?? null;
  const courseDone = (planned !== null && initialCourse.length >= planned) || c.maintenance !== null;
  const deadline = active && !courseDone ? analysis.nextDoseDeadline : null;

  const alerts: EpisodeAlert[] = safetyAlerts(c, dosed);
  const unreviewed = c.safetyFlags.filter((f) => f.kind === 'positive' && f.reviewed === null);

  const followUp = followUpStatus(c, asOfMs, asOf, monitored, alerts);

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

  if (deadline) alerts.push(...chainAlerts(c, deadline, asOfMs, dosed.length));

  const onHand = dosesOnHand(c);
  // No refill can be arranged while the medical team has stopped treatment: no low-medication notice then.
  const lowMedication =
    active &&
    c.prescription !== null &&
    c.treatmentStopped === null &&
    (!courseDone || c.maintenance !== null) &&
    onHand < c.policy.lowSupplyDoses;
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
      message: `Dosing on hold: pre-dose ${readingText(lastPre)}; ${lastPre.holdSigns.map((x) => vitalSignNames[x]).join(', ')} beyond the hold threshold (BP ${c.policy.holdSystolicAbove}/${c.policy.holdDiastolicAbove} mmHg, heart rate ${c.policy.holdHeartRateAbove}/min, SpO₂ ${c.policy.holdSpo2Below} %).`,
    });
  }
  alerts.push(...vitalsAlerts(c));
  const outcomes = outcomeProgress(c, asOfMs, registry);
  if (!closed) alerts.push(...notOnTrackAlerts(c, outcomes, dosed.length, registry));
  const unreviewedAdverseEvents = c.adverseEvents.filter(
    (a) => a.reviewed === null && (a.needsReview || a.severity === 'moderate'),
  );

  const { consent, medications } = consentAndMedications(c, phase, alerts);

  const maintenance = maintenanceStatus(
    c,
    { asOfMs, asOf, active, phase, windowMs, until },
    doseTimesOf(maintenanceSessions),
    alerts,
  );

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
    unreviewedAdverseEvents,
    treatmentStopped: c.treatmentStopped,
    outcomes,
    consent,
    medications,
    maintenance,
    alerts,
  };
}

const defaultRegistry = createInstrumentRegistry();
