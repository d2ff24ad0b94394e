import { type EpisodeOutcomes, episodeOutcomes, instrumentOutcomeOf } from '@kapkit/analytics';
import type { EpisodeAssessment, EpisodeContext, EpisodePhase, EventOf } from '@kapkit/core';
import { consentInForce, type DosingSessionRecord } from '@kapkit/core/read';
import {
  analyzeCriticalPeriods,
  type CriticalPeriodAnalysis,
  DAY_MS,
  locateInCriticalPeriods,
  windowMsFromDays,
} from '@kapkit/core/time';
import { medicationFindings, totalDiazepamEquivalent } from '@kapkit/core/vocabularies';
import type { IdMapper } from './pseudonym.js';
import { EPISODE_OUTCOME_INSTRUMENTS, ITEM_COLUMN_NAMES } from './tables.js';

/** One row of a research table: column name → value (string, number, boolean or null). */
export type Row = Record<string, string | number | boolean | null>;

const SEVERITY_RANK: Readonly<Record<string, number>> = { mild: 1, moderate: 2, severe: 3, serious: 4 };

/** What the export needs about a dosing session that the episode context does not keep. */
interface SessionExtras {
  durationMinutes: number | null;
  overrideRole: string | null;
  overrideReasons: string[];
  adverseEventSeverities: string[];
  adverseEventDescriptions: string[];
}

/**
 * The export's view of one finished episode: the facts the context does not keep (session durations, override
 * roles, free text when asked for), read from the episode's history (accepted, not voided events, in clinical
 * order), and its critical-period analysis. Built once per episode, when its last event has been read.
 */
export class EpisodeTrack {
  readonly referral: string | null;
  readonly sessions = new Map<string, SessionExtras>();
  /** The accepted AssessmentRecorded events by id (for the fields the context does not keep, e.g. notes). */
  readonly assessmentEvents = new Map<string, EventOf<'AssessmentRecorded'>>();
  /** Epoch ms of the episode's EpisodeOpened: day 0. */
  readonly originMs: number;
  /** Exported ids. */
  readonly patientRef: string;
  readonly episodeRef: string;
  readonly #analysis: CriticalPeriodAnalysis;

  constructor(
    c: EpisodeContext,
    ids: IdMapper,
    readonly keepFreeText: boolean,
  ) {
    this.originMs = Date.parse(c.openedAt!);
    this.patientRef = ids.id('patient', c.patientId!);
    this.episodeRef = ids.id('episode', c.episodeId!);
    let referral: string | null = null;
    const extras = (id: string) => {
      let x = this.sessions.get(id);
      if (!x) {
        x = {
          durationMinutes: null,
          overrideRole: null,
          overrideReasons: [],
          adverseEventSeverities: [],
          adverseEventDescriptions: [],
        };
        this.sessions.set(id, x);
      }
      return x;
    };
    const known = new Set(c.sessions.map((s) => s.sessionId));
    for (const e of c.history) {
      switch (e.type) {
        case 'EpisodeOpened':
          referral = e.referral ?? null;
          break;
        case 'AssessmentRecorded':
          this.assessmentEvents.set(e.id, e);
          break;
        case 'DoseAdministered':
          if (e.vitalsOverride) {
            const x = extras(e.sessionId);
            x.overrideRole ??= e.vitalsOverride.clinicianRole;
            if (keepFreeText) x.overrideReasons.push(e.vitalsOverride.reason);
          }
          break;
        case 'AdverseEventReported':
          if (e.sessionId !== undefined && known.has(e.sessionId)) {
            const x = extras(e.sessionId);
            x.adverseEventSeverities.push(e.severity);
            if (keepFreeText && e.description !== undefined) x.adverseEventDescriptions.push(e.description);
          }
          break;
        case 'DosingSessionCompleted':
          extras(e.sessionId).durationMinutes = e.durationMinutes ?? null;
          break;
        default:
          break;
      }
    }
    this.referral = referral;
    this.#analysis = analyzeCriticalPeriods(doseTimes(c), {
      windowMs: windowMsFromDays(c.policy.criticalPeriodDays),
    });
  }

  /** Elapsed days since the episode opened. */
  dayOf(iso: string): number {
    return (Date.parse(iso) - this.originMs) / DAY_MS;
  }

  /** The critical-period analysis of the episode's doses. */
  analysis(): CriticalPeriodAnalysis {
    return this.#analysis;
  }
}

function doseTimes(c: EpisodeContext): { at: string; sessionId: string }[] {
  const out: { at: string; sessionId: string }[] = [];
  for (const s of c.sessions) {
    const first = s.doses[0];
    if (s.doseNumber !== null && first) out.push({ at: first.at, sessionId: s.sessionId });
  }
  return out;
}

/** A scored assessment with its safety flags (from the episode context, or scored afresh for a voided one). */
export interface AssessmentFacts {
  readonly assessment: EpisodeAssessment;
  readonly flags: readonly { readonly kind: 'positive' | 'unanswered'; readonly rule: string }[];
  readonly note: string | null;
  /** The recording person's opaque id (`actorId`), if given. */
  readonly actorId: string | null;
  readonly voided: boolean;
}

/** The assessments row of an assessment of an episode. */
export function assessmentRow(facts: AssessmentFacts, track: EpisodeTrack, ids: IdMapper): Row {
  const a = facts.assessment;
  let positive = false;
  let unanswered = false;
  const rules: string[] = [];
  for (const f of facts.flags) {
    if (f.kind === 'positive') positive = true;
    else unanswered = true;
    rules.push(f.rule);
  }
  const where = locateInCriticalPeriods(track.analysis(), a.at);
  let answered = 0;
  for (const r of a.responses) if (r !== null) answered++;
  const row: Row = {
    patient_id: track.patientRef,
    episode_id: track.episodeRef,
    assessment_id: ids.id('event', a.eventId),
    instrument: a.instrument,
    day: track.dayOf(a.at),
    at: a.at,
    context: a.context,
    status: a.status,
    total: a.total,
    severity: a.severity,
    answered,
  };
  for (let k = 0; k < ITEM_COLUMN_NAMES.length; k++) row[ITEM_COLUMN_NAMES[k]!] = a.responses[k] ?? null;
  row.dose_number = where.doseNumber ?? 0;
  row.days_since_last_dose = where.daysSinceLastDose;
  row.in_critical_period = where.inside;
  row.safety_flag = positive;
  row.safety_item_unanswered = unanswered;
  row.safety_rules = rules.length ? rules.join(';') : null;
  row.recorded_by = a.recordedBy;
  row.recorded_by_actor = facts.actorId === null ? null : ids.id('actor', facts.actorId);
  row.recorded_at = a.recordedAt;
  row.voided = facts.voided;
  row.note = facts.note;
  return row;
}

function lastOf<T>(xs: readonly T[]): T | undefined {
  return xs[xs.length - 1];
}

/** The dosing_sessions row of a session (ended, or as it stands when its episode closes or the input ends). */
export function sessionRow(
  c: EpisodeContext,
  s: DosingSessionRecord,
  sessionNumber: number,
  track: EpisodeTrack,
  ids: IdMapper,
): Row {
  const x = track.sessions.get(s.sessionId);
  const first = s.doses[0];
  const boosters = s.doses.filter((d) => d.kind === 'booster');
  const pre = lastOf(s.preVitals);
  const post = lastOf(s.otherVitals.filter((v) => v.phase === 'post'));
  const startAt = [s.preVitals[0]?.at, first?.at]
    .filter((t): t is string => t !== undefined)
    .sort((p, q) => Date.parse(p) - Date.parse(q))[0];
  let maxSeverity: string | null = null;
  for (const sev of x?.adverseEventSeverities ?? []) {
    if (maxSeverity === null || (SEVERITY_RANK[sev] ?? 0) > (SEVERITY_RANK[maxSeverity] ?? 0))
      maxSeverity = sev;
  }
  const ended = s.status === 'completed' || s.status === 'aborted';
  return {
    patient_id: track.patientRef,
    episode_id: track.episodeRef,
    session_id: ids.id('session', s.sessionId),
    session_number: sessionNumber,
    dose_number: s.doseNumber,
    status: s.status,
    mode: s.mode,
    chaperone: s.chaperone,
    scheduled_day: track.dayOf(s.scheduledFor),
    scheduled_for: s.scheduledFor,
    start_day: startAt === undefined ? null : track.dayOf(startAt),
    dose_day: first ? track.dayOf(first.at) : null,
    dose_at: first?.at ?? null,
    end_day: ended && s.endedAt !== null ? track.dayOf(s.endedAt) : null,
    ended_at: ended ? s.endedAt : null,
    duration_minutes: x?.durationMinutes ?? null,
    dose_kind: first?.kind ?? null,
    dose_mg: first?.doseMg ?? null,
    total_dose_mg: first ? s.doses.reduce((sum, d) => sum + d.doseMg, 0) : null,
    administrations: s.doses.length,
    booster: boosters.length > 0,
    booster_mg: boosters.length ? boosters.reduce((sum, d) => sum + d.doseMg, 0) : null,
    units_used: s.doses.reduce((sum, d) => sum + d.unitsUsed, 0),
    route: first?.route ?? null,
    formulation: first?.formulation ?? null,
    pre_readings: s.preVitals.length,
    pre_systolic: pre?.systolic ?? null,
    pre_diastolic: pre?.diastolic ?? null,
    pre_heart_rate: pre?.heartRate ?? null,
    pre_spo2: pre?.spo2 ?? null,
    during_readings: s.otherVitals.filter((v) => v.phase === 'during').length,
    post_readings: s.otherVitals.filter((v) => v.phase === 'post').length,
    post_systolic: post?.systolic ?? null,
    post_diastolic: post?.diastolic ?? null,
    post_heart_rate: post?.heartRate ?? null,
    post_spo2: post?.spo2 ?? null,
    hold_systolic_above: c.policy.holdSystolicAbove,
    hold_diastolic_above: c.policy.holdDiastolicAbove,
    vitals_hold: s.preVitals.some((v) => v.aboveHold),
    vitals_override: s.doses.some((d) => d.vitalsOverride),
    override_role: x?.overrideRole ?? null,
    override_reason: x?.overrideReasons.length ? x.overrideReasons.join(' | ') : null,
    maintenance: s.maintenance,
    planned_dose_mg: first?.plannedDoseMg ?? null,
    dose_departure_reason: track.keepFreeText ? (first?.reason ?? null) : null,
    aborted: s.status === 'aborted',
    abort_reason: s.abortReason,
    adverse_events: s.adverseEvents.length,
    adverse_event_codes: s.adverseEvents.length ? s.adverseEvents.join(';') : null,
    adverse_event_max_severity: maxSeverity,
    adverse_event_descriptions: x?.adverseEventDescriptions.length
      ? x.adverseEventDescriptions.join(' | ')
      : null,
  };
}

/**
 * Outcome columns of one instrument: `episodeOutcomes`' result as columns (baseline, latest, change, response,
 * first response day, remission; reliable change is the fixed-point class of the latest assessment,
 * `change.fixedPoints` of the instrument definition: NHS Talking Therapies, PHQ-9 6 points, GAD-7 4 points).
 */
function outcomeCells(outcomes: EpisodeOutcomes, instrument: string): Row {
  const p = `${instrument}_`;
  const inst = instrumentOutcomeOf(outcomes, instrument);
  const o = inst?.outcome ?? null;
  if (o === null) {
    return {
      [`${p}assessments`]: 0,
      [`${p}baseline`]: null,
      [`${p}baseline_day`]: null,
      [`${p}latest`]: null,
      [`${p}latest_day`]: null,
      [`${p}change`]: null,
      [`${p}response`]: null,
      [`${p}first_response_day`]: null,
      [`${p}remission`]: null,
      [`${p}reliable_change`]: null,
    };
  }
  return {
    [`${p}assessments`]: o.assessments,
    [`${p}baseline`]: o.baseline,
    [`${p}baseline_day`]: o.baselineDay,
    [`${p}latest`]: o.latest,
    [`${p}latest_day`]: o.latestDay,
    [`${p}change`]: o.change,
    [`${p}response`]: o.response,
    [`${p}first_response_day`]: o.firstResponseDay,
    [`${p}remission`]: o.remission,
    [`${p}reliable_change`]: inst?.latest?.fixedPointChange ?? null,
  };
}

/** The episodes row of an episode, as of its last accepted event. */
export function episodeRow(c: EpisodeContext, phase: EpisodePhase, track: EpisodeTrack): Row {
  const doses = doseTimes(c);
  const endAt = c.closed?.at ?? c.lastEventAt ?? c.openedAt!;
  // Critical periods of the initial course; maintenance sessions are reported apart.
  const maintenanceIds = new Set(c.sessions.filter((s) => s.maintenance).map((s) => s.sessionId));
  const course = doses.filter((d) => !maintenanceIds.has(d.sessionId));
  const analysis = course.length
    ? analyzeCriticalPeriods(course, {
        windowMs: windowMsFromDays(c.policy.criticalPeriodDays),
        until: endAt,
      })
    : null;
  const coverage = analysis?.coverage ?? null;
  let boosters = 0;
  let aborted = 0;
  for (const s of c.sessions) {
    if (s.status === 'aborted') aborted++;
    for (const d of s.doses) if (d.kind === 'booster') boosters++;
  }
  const positive = c.safetyFlags.filter((f) => f.kind === 'positive');
  const withdrawn = [...new Set(c.withdrawals.flatMap((w) => w.scope))].sort();
  const meds = c.medications?.list ?? [];
  const classes = [...new Set(meds.map((m) => m.class))].sort();
  const unreviewedAdverse = c.adverseEvents.filter((a) => a.needsReview && a.reviewed === null).length;
  const row: Row = {
    patient_id: track.patientRef,
    episode_id: track.episodeRef,
    synthetic: c.synthetic,
    opened_at: c.openedAt,
    referral: track.referral,
    end_state: phase,
    closed: c.closed !== null,
    end_reason: c.closed?.kind === 'discontinued' ? c.closed.reason : null,
    end_day: track.dayOf(endAt),
    closed_at: c.closed?.at ?? null,
    last_event_at: c.lastEventAt,
    fit: c.fit,
    eligible: c.evaluation.eligible,
    contraindications: c.evaluation.contraindications.length
      ? c.evaluation.contraindications.join(';')
      : null,
    planned_dosing_sessions: c.plan?.plannedDosingSessions ?? null,
    dosing_sessions: c.sessions.length,
    doses: doses.length,
    sessions_aborted: aborted,
    boosters,
    first_dose_day: doses[0] ? track.dayOf(doses[0].at) : null,
    last_dose_day: doses.length ? track.dayOf(doses[doses.length - 1]!.at) : null,
    preparation_sessions: c.preparationSessions,
    integration_sessions: c.integrationSessions,
    medical_follow_ups: c.followUps.length,
    adverse_events: c.adverseEvents.length,
    adverse_events_severe: c.adverseEvents.filter((a) => a.severity === 'severe' || a.severity === 'serious')
      .length,
    assessments: c.assessments.length,
    safety_flags: positive.length,
    safety_flags_unreviewed: positive.filter((f) => f.reviewed === null).length,
    adverse_events_unreviewed: unreviewedAdverse,
    treatment_stopped: c.treatmentStopped !== null,
    voided_events: c.voidedEventIds.length,
    consent_kap: consentInForce(c, 'kap'),
    consent_remote_sessions: consentInForce(c, 'remote-sessions'),
    consent_research_use: consentInForce(c, 'research-use'),
    consent_document_version: track.keepFreeText
      ? (c.consents[c.consents.length - 1]?.documentVersion ?? null)
      : null,
    consent_withdrawn: withdrawn.length ? withdrawn.join(';') : null,
    medications_reviewed: c.medications !== null,
    medication_classes: c.medications === null ? null : classes.length ? classes.join(';') : 'none',
    benzodiazepine_diazepam_eq_mg: totalDiazepamEquivalent(meds),
    medication_interactions: medicationFindings(meds, c.policy.benzodiazepineAlertAboveMgDiazepam).length,
    titration_planned: (c.plan?.titration?.length ?? 0) > 0,
    maintenance_planned: c.maintenance !== null,
    maintenance_interval_days: c.maintenance?.intervalDays ?? null,
    maintenance_doses: doses.length - course.length,
    critical_period_days: c.policy.criticalPeriodDays,
    critical_period_coverage: coverage?.fraction ?? null,
    critical_period_chains: analysis?.chains.length ?? 0,
    longest_chain_doses: analysis?.longestChain?.doses.length ?? 0,
    longest_chain_days: analysis?.longestChain ? analysis.longestChain.durationMs / DAY_MS : null,
    critical_period_gap_days: coverage ? (coverage.spanMs - coverage.coveredMs) / DAY_MS : null,
  };
  const outcomes = episodeOutcomes(c);
  for (const id of EPISODE_OUTCOME_INSTRUMENTS) Object.assign(row, outcomeCells(outcomes, id));
  return row;
}
