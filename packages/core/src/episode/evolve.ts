import {
  type AdministeredDose,
  type AssessmentScorer,
  adverseEventNeedsReview,
  type DosingSessionRecord,
  dosedSessions,
  type EpisodeAssessment,
  type EpisodeContext,
  type EpisodeSafetyFlag,
  plannedDoseFor,
  type SafetyReview,
  type TreatmentStop,
  unitsOf,
  type VitalsReading,
  vitalSignsBeyond,
} from './context.js';
import { instantMs, parseInstant } from './event-time.js';
import type { EpisodeEvent } from './events.js';
import { resolvePolicy } from './policy.js';

/*
 * The fold of accepted events into an episode context, in two modes that give equal contexts:
 *
 * - copy (`evolve`, the machine's `assign`): every step builds new containers for what it changes and shares
 *   the rest, so a context once handed out never changes;
 * - in place (`evolveInPlace`, for folds that own their context: the read-side projection, `replay` and the
 *   log fold): the step writes into the context, its arrays and its session records. Such a fold starts from
 *   `ownedCopy` of a published context and publishes its context only when it stops writing to it (or copies it
 *   again before the next write), so no context anyone else holds is ever written to.
 *
 * In place, only containers are written: the context, its arrays and the session records (and their arrays).
 * Array items other than session records (assessments, flags, adverse events, consents, events) are never
 * written; a review replaces the item. That is what `ownedCopy` relies on.
 */

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type OtherVitals = VitalsReading & { readonly phase: 'during' | 'post' };

/** `list` with `item` appended: `list` itself, grown, in place; else a new array. */
function append<T>(list: readonly T[], inPlace: boolean, item: T): readonly T[] {
  if (inPlace) {
    (list as T[]).push(item);
    return list;
  }
  const out = list.slice();
  out.push(item);
  return out;
}

/** `list` with `items` appended, as {@link append}. */
function appendAll<T>(list: readonly T[], inPlace: boolean, items: readonly T[]): readonly T[] {
  const out = inPlace ? (list as T[]) : list.slice();
  for (const x of items) out.push(x);
  return out;
}

/** The sessions with `update` applied to the one(s) with this id: written in place, else copies. */
function updateSession(
  c: EpisodeContext,
  sessionId: string,
  inPlace: boolean,
  update: (s: Mutable<DosingSessionRecord>) => void,
): readonly DosingSessionRecord[] {
  if (inPlace) {
    for (const s of c.sessions) if (s.sessionId === sessionId) update(s as Mutable<DosingSessionRecord>);
    return c.sessions;
  }
  return c.sessions.map((s) => {
    if (s.sessionId !== sessionId) return s;
    const draft = { ...s };
    update(draft);
    return draft;
  });
}

/**
 * A copy of `c` that a fold may write in place: the context, its arrays and its session records (with their
 * arrays) are new; the items, events and other values are shared (nothing writes them).
 */
export function ownedCopy(c: EpisodeContext): EpisodeContext {
  return {
    ...c,
    history: c.history.slice(),
    voidedEventIds: c.voidedEventIds.slice(),
    consents: c.consents.slice(),
    withdrawals: c.withdrawals.slice(),
    sessions: c.sessions.map((s) => ({
      ...s,
      preVitals: s.preVitals.slice(),
      otherVitals: s.otherVitals.slice(),
      doses: s.doses.slice(),
      adverseEvents: s.adverseEvents.slice(),
    })),
    assessments: c.assessments.slice(),
    safetyFlags: c.safetyFlags.slice(),
    adverseEvents: c.adverseEvents.slice(),
    followUps: c.followUps.slice(),
  };
}

function review(e: { id: string; at: string; recordedAt: string; outcome: string }): SafetyReview {
  return { eventId: e.id, at: e.at, recordedAt: e.recordedAt, outcome: e.outcome };
}

/**
 * Apply one (already accepted) event to the context, appending it to the history. Pure; never validates: the
 * episode machine decides whether an event is allowed, this only records what it means. Events come in
 * clinical order; a late entry or a void is applied by rebuilding (see {@link applyAccepted}). Also the
 * engine of the read-side projection.
 */
export function evolve(c: EpisodeContext, e: EpisodeEvent, score: AssessmentScorer): EpisodeContext {
  return step(c, e, score, false, instantMs(e.at));
}

/**
 * {@link evolve} written into `c` itself (which must be the caller's own, see {@link ownedCopy}); returns `c`.
 * Gives a context equal to `evolve`'s.
 */
export function evolveInPlace(
  c: EpisodeContext,
  e: EpisodeEvent,
  score: AssessmentScorer,
  ms = instantMs(e.at),
): EpisodeContext {
  return step(c, e, score, true, ms);
}

function step(
  c: EpisodeContext,
  e: EpisodeEvent,
  score: AssessmentScorer,
  inPlace: boolean,
  ms: number,
): EpisodeContext {
  const latest = c.lastEventMs === null || ms >= c.lastEventMs;
  // What the event changes beyond the fields every event sets, computed from `c` before anything is written.
  const changes = eventChanges(c, e, score, inPlace);
  const history = append(c.history, inPlace, e);
  if (inPlace) {
    const m = c as Mutable<EpisodeContext>;
    if (latest) {
      m.lastEventAt = e.at;
      m.lastEventMs = ms;
    }
    m.history = history;
    if (e.synthetic === true) m.synthetic = true;
    return changes === null ? m : Object.assign(m, changes);
  }
  return {
    ...c,
    lastEventAt: latest ? e.at : c.lastEventAt,
    lastEventMs: latest ? ms : c.lastEventMs,
    history,
    synthetic: c.synthetic || e.synthetic === true,
    ...changes,
  };
}

/** The fields `e` changes, other than the last event time, the history and the synthetic flag. */
function eventChanges(
  c: EpisodeContext,
  e: EpisodeEvent,
  score: AssessmentScorer,
  inPlace: boolean,
): Partial<EpisodeContext> | null {
  return (
    courseChanges(c, e, inPlace) ??
    sessionChanges(c, e, inPlace) ??
    recordChanges(c, e, score, inPlace) ??
    null
  );
}

/** Opening, fit, evaluation, plan, prescription and supply, training, preparation and integration, booking. */
function courseChanges(
  c: EpisodeContext,
  e: EpisodeEvent,
  inPlace: boolean,
): Partial<EpisodeContext> | undefined {
  switch (e.type) {
    case 'EpisodeOpened':
      return {
        episodeId: e.episodeId,
        patientId: e.patientId,
        openedAt: e.at,
        policy: resolvePolicy(e.policy ?? {}, c.policy),
      };
    case 'FitAssessed':
      return { fit: e.outcome };
    case 'MedicalEvaluationScheduled':
      return { evaluation: { ...c.evaluation, scheduledFor: e.scheduledFor } };
    case 'MedicalEvaluationCompleted': {
      // During treatment this is a re-evaluation: eligible lifts a treatment stop, not eligible stops treatment.
      const inTreatment = c.evaluation.eligible === true;
      const stop: TreatmentStop | null =
        inTreatment && !e.eligible
          ? { eventId: e.id, at: e.at, recordedAt: e.recordedAt, by: 'evaluation' }
          : e.eligible
            ? null
            : c.treatmentStopped;
      return {
        treatmentStopped: stop,
        evaluation: {
          ...c.evaluation,
          completedAt: e.at,
          eligible: inTreatment ? true : e.eligible,
          contraindications: e.contraindications,
          contraindicationOverride: e.contraindicationOverride?.reason ?? null,
        },
      };
    }
    case 'TreatmentPlanCreated': {
      const policy = resolvePolicy(
        { criticalPeriodDays: e.criticalPeriodDays, followUpIntervalDays: e.followUpIntervalDays },
        c.policy,
      );
      return {
        policy,
        plan: {
          createdAt: e.at,
          plannedDosingSessions: e.plannedDosingSessions,
          monitoring: e.monitoring.measures.map((m) => ({ ...m, baseline: m.baseline ?? true })),
          titration: e.titration ?? null,
        },
      };
    }
    case 'PrescriptionIssued':
      return {
        prescription: {
          eventId: e.id,
          at: e.at,
          route: e.route,
          formulation: e.formulation,
          doseMg: e.doseMg,
        },
        prescriptions: c.prescriptions + 1,
        dosesAuthorized: c.dosesAuthorized + e.dosesAuthorized,
        followUpSinceAuthorization: false,
        treatmentStopped: null,
      };
    case 'RefillIssued':
      return {
        dosesAuthorized: c.dosesAuthorized + e.dosesAuthorized,
        followUpSinceAuthorization: false,
      };
    case 'MedicationDelivered':
      return { dosesDelivered: c.dosesDelivered + e.doses };
    case 'SelfAdministrationTrained':
      return { trained: c.trained || (e.vitalsTrained && e.selfAdministrationTrained) };
    case 'PreparationSessionCompleted':
      return { preparationSessions: c.preparationSessions + 1 };
    case 'IntegrationSessionCompleted':
      return {
        integrationSessions: c.integrationSessions + 1,
        integrationsSinceLastDosing: c.integrationsSinceLastDosing + 1,
      };
    case 'DosingSessionScheduled':
      // Booking does not start the session: the first pre-dose vitals (or the dose) of that session do.
      return {
        sessions: append(c.sessions, inPlace, {
          sessionId: e.sessionId,
          scheduledFor: e.scheduledFor,
          mode: e.mode,
          chaperone: e.chaperone === true,
          status: 'scheduled',
          doseNumber: null,
          preVitals: [],
          otherVitals: [],
          doses: [],
          adverseEvents: [],
          abortReason: null,
          endedAt: null,
          completionReason: null,
          maintenance: c.maintenance !== null,
        }),
      };
    default:
      return undefined;
  }
}

/** A dosing session under way: vitals, doses, adverse events and their review, completion or abort. */
function sessionChanges(
  c: EpisodeContext,
  e: EpisodeEvent,
  inPlace: boolean,
): Partial<EpisodeContext> | undefined {
  switch (e.type) {
    case 'VitalsRecorded': {
      const holdSigns = e.phase === 'pre' ? vitalSignsBeyond(e, c.policy, 'hold') : [];
      // Built key by key (a spread followed by a new key makes V8 build a slow dictionary object).
      const reading: Mutable<VitalsReading & { phase?: 'during' | 'post' }> = {
        eventId: e.id,
        at: e.at,
        recordedAt: e.recordedAt,
        systolic: e.systolic,
        diastolic: e.diastolic,
        aboveHold: holdSigns.length > 0,
        holdSigns,
        alertSigns: vitalSignsBeyond(e, c.policy, 'alert'),
      };
      if (e.heartRate !== undefined) reading.heartRate = e.heartRate;
      if (e.spo2 !== undefined) reading.spo2 = e.spo2;
      if (e.phase !== 'pre') reading.phase = e.phase;
      return {
        currentSessionId: e.sessionId,
        sessions: updateSession(c, e.sessionId, inPlace, (s) => {
          if (e.phase === 'pre') s.preVitals = append(s.preVitals, inPlace, reading);
          else s.otherVitals = append(s.otherVitals, inPlace, reading as OtherVitals);
        }),
      };
    }
    case 'DoseAdministered': {
      const units = unitsOf(e, c.prescription?.doseMg);
      const firstInSession = (c.sessions.find((s) => s.sessionId === e.sessionId)?.doses.length ?? 0) === 0;
      const doseNumber = firstInSession ? dosedSessions(c).length + 1 : null;
      const dose: AdministeredDose = {
        eventId: e.id,
        at: e.at,
        recordedAt: e.recordedAt,
        kind: e.kind,
        doseMg: e.doseMg,
        route: e.route,
        formulation: e.formulation,
        unitsUsed: units,
        vitalsOverride: e.vitalsOverride !== undefined,
        plannedDoseMg: doseNumber !== null && e.kind !== 'booster' ? plannedDoseFor(c, doseNumber) : null,
        reason: e.reason ?? null,
      };
      return {
        currentSessionId: e.sessionId,
        unitsUsed: c.unitsUsed + units,
        integrationsSinceLastDosing: firstInSession ? 0 : c.integrationsSinceLastDosing,
        sessions: updateSession(c, e.sessionId, inPlace, (s) => {
          s.status = 'dosed';
          s.doseNumber = s.doseNumber ?? doseNumber;
          s.doses = append(s.doses, inPlace, dose);
        }),
      };
    }
    case 'AdverseEventReported': {
      const known = e.sessionId === undefined || c.sessions.some((s) => s.sessionId === e.sessionId);
      return {
        adverseEvents: append(c.adverseEvents, inPlace, {
          eventId: e.id,
          at: e.at,
          recordedAt: e.recordedAt,
          recordedBy: e.recordedBy,
          code: e.code,
          severity: e.severity,
          sessionId: e.sessionId ?? null,
          unknownSession: !known,
          needsReview: adverseEventNeedsReview(e.code, e.severity),
          reviewed: null,
        }),
        sessions:
          e.sessionId === undefined || !known
            ? c.sessions
            : updateSession(c, e.sessionId, inPlace, (s) => {
                s.adverseEvents = append(s.adverseEvents, inPlace, e.code);
              }),
      };
    }
    case 'AdverseEventReviewed':
      return {
        adverseEvents: c.adverseEvents.map((a) =>
          a.eventId === e.adverseEventId ? { ...a, reviewed: review(e) } : a,
        ),
      };
    case 'DosingSessionCompleted':
      return {
        currentSessionId: null,
        sessions: updateSession(c, e.sessionId, inPlace, (s) => {
          s.status = 'completed';
          s.endedAt = e.at;
          s.completionReason = e.reason ?? null;
        }),
      };
    case 'DosingSessionAborted':
      // Aborting the session in progress ends it; aborting a booked session that never started cancels it.
      return {
        currentSessionId: c.currentSessionId === e.sessionId ? null : c.currentSessionId,
        sessions: updateSession(c, e.sessionId, inPlace, (s) => {
          s.status = 'aborted';
          s.abortReason = e.reason;
          s.endedAt = e.at;
        }),
      };
    default:
      return undefined;
  }
}

/** Assessments and their flags, follow-ups, voids, consent, medications, maintenance, pause and closing. */
function recordChanges(
  c: EpisodeContext,
  e: EpisodeEvent,
  score: AssessmentScorer,
  inPlace: boolean,
): Partial<EpisodeContext> | undefined {
  switch (e.type) {
    case 'AssessmentRecorded': {
      const scored = score(e);
      const assessment: EpisodeAssessment = {
        eventId: e.id,
        at: e.at,
        recordedAt: e.recordedAt,
        recordedBy: e.recordedBy,
        instrument: scored.instrument,
        responses: e.responses,
        status: scored.status,
        total: scored.total,
        severity: scored.severity,
        context: e.context ?? null,
      };
      const flags: EpisodeSafetyFlag[] = scored.safetyFlags.map((f) => ({
        assessmentEventId: e.id,
        at: e.at,
        recordedAt: e.recordedAt,
        instrument: scored.instrument,
        rule: f.rule,
        kind: f.kind,
        item: f.item,
        value: f.value,
        message: f.message,
        patientReported: e.recordedBy === 'patient',
        reviewed: null,
      }));
      return {
        assessments: append(c.assessments, inPlace, assessment),
        safetyFlags: flags.length ? appendAll(c.safetyFlags, inPlace, flags) : c.safetyFlags,
      };
    }
    case 'SafetyFlagReviewed':
      return {
        safetyFlags: c.safetyFlags.map((f) =>
          f.assessmentEventId === e.assessmentEventId && f.rule === e.rule
            ? { ...f, reviewed: review(e) }
            : f,
        ),
      };
    case 'MedicalFollowUpCompleted':
      return {
        followUps: append(c.followUps, inPlace, e.at),
        followUpSinceAuthorization: true,
        treatmentStopped: e.continueTreatment
          ? null
          : { eventId: e.id, at: e.at, recordedAt: e.recordedAt, by: 'follow-up' },
      };
    case 'EventVoided':
      // The voided event is already out of the history: a void is applied by rebuilding without it.
      return { voidedEventIds: append(c.voidedEventIds, inPlace, e.voidedEventId) };
    case 'InformedConsentRecorded':
      return {
        consents: appendAll(
          c.consents,
          inPlace,
          [...new Set(e.scope)].map((scope) => ({
            scope,
            eventId: e.id,
            at: e.at,
            recordedAt: e.recordedAt,
            documentVersion: e.documentVersion,
            withdrawn: null,
          })),
        ),
      };
    case 'ConsentWithdrawn':
      return {
        consents: c.consents.map((x) =>
          x.withdrawn === null && e.scope.includes(x.scope)
            ? { ...x, withdrawn: { eventId: e.id, at: e.at, recordedAt: e.recordedAt } }
            : x,
        ),
        withdrawals: append(c.withdrawals, inPlace, {
          eventId: e.id,
          at: e.at,
          recordedAt: e.recordedAt,
          scope: e.scope,
        }),
      };
    case 'MedicationsReviewed':
      return { medications: { eventId: e.id, at: e.at, list: e.medications } };
    case 'MaintenancePlanned':
      return { maintenance: { eventId: e.id, at: e.at, intervalDays: e.intervalDays } };
    case 'EpisodePaused':
      return { paused: { at: e.at, reason: e.reason } };
    case 'EpisodeResumed':
      return { paused: null };
    case 'EpisodeCompleted':
      return { closed: { kind: 'completed', at: e.at, reason: e.reason ?? null } };
    case 'EpisodeDiscontinued':
      return {
        currentSessionId: null,
        closed: { kind: 'discontinued', at: e.at, reason: e.reason },
      };
    default:
      return undefined;
  }
}

/** Whether `e` is a late entry for `c` (dated before the latest accepted event) or a void: both rebuild. */
export function needsRebuild(c: EpisodeContext, e: EpisodeEvent): boolean {
  return e.type === 'EventVoided' || (c.lastEventMs !== null && instantMs(e.at) < c.lastEventMs);
}

/**
 * The events an episode is rebuilt from when `e` arrives late or voids an earlier event: the history in
 * clinical order with `e` inserted after every event at or before its `at` (ties keep recording order), and
 * without the event `e` voids.
 */
export function rebuildList(c: EpisodeContext, e: EpisodeEvent): EpisodeEvent[] {
  const voided = e.type === 'EventVoided' ? e.voidedEventId : null;
  const ms = parseInstant(e.at);
  const out: EpisodeEvent[] = [];
  let inserted = false;
  for (const h of c.history) {
    if (!inserted && parseInstant(h.at) > ms) {
      out.push(e);
      inserted = true;
    }
    if (h.id !== voided) out.push(h);
  }
  if (!inserted) out.push(e);
  return out;
}

/**
 * Apply an accepted event on the read side: in order it is `evolve`; a late entry or a void rebuilds the
 * episode from `initial` over {@link rebuildList}, as the episode machine did when it accepted it, so the
 * projection and the machine agree. In place (`c` the caller's own, see {@link ownedCopy}), the event is written
 * into `c`, and a rebuild starts from an owned copy of `initial`; the result is the caller's own either way.
 */
export function applyAccepted(
  initial: EpisodeContext,
  c: EpisodeContext,
  e: EpisodeEvent,
  score: AssessmentScorer,
  inPlace = false,
): EpisodeContext {
  const ms = instantMs(e.at);
  // As needsRebuild, with the time parsed once.
  if (e.type !== 'EventVoided' && !(c.lastEventMs !== null && ms < c.lastEventMs)) {
    return step(c, e, score, inPlace, ms);
  }
  let out = inPlace ? ownedCopy(initial) : initial;
  for (const x of rebuildList(c, e)) out = step(out, x, score, inPlace, parseInstant(x.at));
  return out;
}
