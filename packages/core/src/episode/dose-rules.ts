import {
  bookedSession,
  consentInForce,
  currentSession,
  type DosingSessionRecord,
  dosedSessions,
  dosesOnHand,
  type EpisodeContext,
  plannedDoseFor,
  type TreatmentStop,
  unitsOf,
  type VitalsReading,
  vitalSignNames,
} from './context.js';
import { DAY_MS } from './critical-periods.js';
import { recordedAtMs as eventRecordedAtMs, parseInstant } from './event-time.js';
import type { EpisodeEvent } from './events.js';
import { historyStopEvents } from './history-index.js';

import { type Refusal, refusal } from './refusals.js';

/*
 * The rules around a dose: what was known when it was recorded (safety reviews, treatment stops), the session
 * it belongs to, the prescription and dose policy, the first-dose and vitals gates, and completing a session.
 */

/** When the next medical follow-up is due (after the first dose), or null before any dose. */
export function followUpDueMs(c: EpisodeContext): number | null {
  const first = dosedSessions(c)[0]?.doses[0]?.at;
  if (first === undefined) return null;
  const firstMs = parseInstant(first);
  let last = firstMs;
  for (const f of c.followUps) {
    const ms = parseInstant(f);
    if (ms > last) last = ms;
  }
  return last + c.policy.followUpIntervalDays * DAY_MS;
}

/**
 * Whether a reason says something: at least `policy.minReasonLength` letters or digits (kapkit default 10), so
 * that "ok." or "n/a" is not a reason.
 */
export function isMeaningfulReason(reason: string | undefined, minLength: number): boolean {
  if (reason === undefined) return false;
  const letters = reason.match(/[\p{L}\p{N}]/gu);
  return (letters?.length ?? 0) >= minLength;
}

/**
 * Whether a fact recorded at `factRecordedAt` was known when the event recorded at `eventRecordedAtMs` was
 * written. Gates (safety review, treatment stop, vitals hold) judge a decision by what was known when it was
 * recorded, so a late entry does not retroactively refuse a dose that went ahead; `statusAt` raises a
 * `late-entry` alert for it instead.
 */
function knownAt(factRecordedAt: string, eventRecordedAtMs: number): boolean {
  return parseInstant(factRecordedAt) <= eventRecordedAtMs;
}

/**
 * Positive safety flags and adverse events needing review, unreviewed as known at `recordedAtMs`. Any review
 * known then counts: a second review entered later does not hide the first (the context keeps the latest only).
 */
function unreviewedSafetySignals(c: EpisodeContext, recordedAtMs = Number.POSITIVE_INFINITY) {
  const known = (h: EpisodeEvent) => knownAt(h.recordedAt, recordedAtMs);
  const flagReviewed = (f: { assessmentEventId: string; rule: string }) =>
    c.history.some(
      (h) =>
        h.type === 'SafetyFlagReviewed' &&
        h.assessmentEventId === f.assessmentEventId &&
        h.rule === f.rule &&
        known(h),
    );
  const adverseReviewed = (a: { eventId: string }) =>
    c.history.some((h) => h.type === 'AdverseEventReviewed' && h.adverseEventId === a.eventId && known(h));
  return {
    flags: c.safetyFlags.filter(
      (f) => f.kind === 'positive' && knownAt(f.recordedAt, recordedAtMs) && !flagReviewed(f),
    ),
    adverseEvents: c.adverseEvents.filter(
      (a) => a.needsReview && knownAt(a.recordedAt, recordedAtMs) && !adverseReviewed(a),
    ),
  };
}

/**
 * The treatment stop in force as known at `recordedAtMs`: the last stop or lift (a follow-up, a prescription, a
 * re-evaluation) among the events known then, in clinical order. A stop or lift entered later neither counts nor
 * hides an earlier one (the context's `treatmentStopped` is the last one, known or not).
 */
function knownStop(c: EpisodeContext, recordedAtMs: number): TreatmentStop | null {
  let eligible = false;
  let stop: TreatmentStop | null = null;
  for (const h of historyStopEvents(c.history)) {
    // Only these three types start or lift a stop (the index holds no others; the test keeps the types narrow).
    if (
      h.type !== 'MedicalEvaluationCompleted' &&
      h.type !== 'PrescriptionIssued' &&
      h.type !== 'MedicalFollowUpCompleted'
    ) {
      continue;
    }
    const known = eventRecordedAtMs(h) <= recordedAtMs;
    const fact = { eventId: h.id, at: h.at, recordedAt: h.recordedAt };
    if (h.type === 'MedicalEvaluationCompleted') {
      // The first eligible evaluation starts treatment; later ones are re-evaluations.
      if (eligible && known) stop = h.eligible ? null : { ...fact, by: 'evaluation' };
      else if (!eligible && h.eligible && known) stop = null;
      eligible ||= h.eligible;
    } else if (h.type === 'PrescriptionIssued') {
      if (known) stop = null;
    } else if (h.type === 'MedicalFollowUpCompleted') {
      if (known) stop = h.continueTreatment ? null : { ...fact, by: 'follow-up' };
    }
  }
  return stop;
}

export function stoppedRefusal(c: EpisodeContext, e: EpisodeEvent, recordedAtMs: number): Refusal | null {
  const stop = knownStop(c, recordedAtMs);
  if (!stop) return null;
  return refusal(
    'treatment-stopped',
    `${e.type} refused: the medical team stopped treatment on ${stop.at.slice(0, 10)} (${stop.by === 'follow-up' ? 'a follow-up decided not to continue' : 'a re-evaluation found the patient not eligible'}); a new medical evaluation, prescription or follow-up that continues treatment comes first.`,
    e,
  );
}

/**
 * The session an in-session event refers to: the one in progress, or (when none is) a booked session that
 * has not started, which the event starts. Undefined otherwise.
 */
export function sessionOf(c: EpisodeContext, sessionId: string): DosingSessionRecord | undefined {
  if (c.currentSessionId !== null) return c.currentSessionId === sessionId ? currentSession(c) : undefined;
  return bookedSession(c, sessionId);
}

export function unknownSession(c: EpisodeContext, e: EpisodeEvent, sessionId: string): Refusal {
  if (c.currentSessionId !== null && c.currentSessionId !== sessionId) {
    return refusal(
      'session-in-progress',
      `${e.type} refers to session "${sessionId}" while session "${c.currentSessionId}" is in progress; complete or abort it first.`,
      e,
    );
  }
  const known = c.sessions.find((x) => x.sessionId === sessionId);
  if (known) {
    return refusal(
      'no-session-in-progress',
      `${e.type} refers to session "${sessionId}", which is ${known.status === 'scheduled' ? 'not in progress' : `already ${known.status}`}.`,
      e,
    );
  }
  return refusal(
    'unknown-session',
    `${e.type} refers to session "${sessionId}", which was never scheduled.`,
    e,
  );
}

type DoseEvent = Extract<EpisodeEvent, { type: 'DoseAdministered' }>;

/** The dose checked against the active prescription and the dose policy (`dose-mismatch`), or null. */
function checkDoseAgainstPrescription(
  c: EpisodeContext,
  session: DosingSessionRecord,
  e: DoseEvent,
): Refusal | null {
  const rx = c.prescription;
  if (rx === null) return refusal('no-prescription', 'Dose refused: no prescription has been issued.', e);
  const p = c.policy;
  if (e.route !== rx.route || e.formulation !== rx.formulation) {
    return refusal(
      'dose-mismatch',
      `Dose refused: ${e.route} ${e.formulation} does not match the prescription (${rx.route} ${rx.formulation}).`,
      e,
    );
  }
  const limit =
    e.kind === 'full' ? rx.doseMg : e.kind === 'half' ? rx.doseMg / 2 : rx.doseMg * p.maxBoosterFraction;
  if (e.doseMg > limit + 1e-9) {
    const what =
      e.kind === 'full'
        ? `the prescribed ${rx.doseMg} mg`
        : e.kind === 'half'
          ? `half of the prescribed ${rx.doseMg} mg (${limit} mg)`
          : `${p.maxBoosterFraction * 100} % of the prescribed ${rx.doseMg} mg (${limit} mg, booster policy)`;
    return refusal('dose-mismatch', `Dose refused: a ${e.kind} dose of ${e.doseMg} mg exceeds ${what}.`, e);
  }
  if (e.kind === 'booster') {
    const boosters = session.doses.filter((d) => d.kind === 'booster').length;
    if (boosters >= p.maxBoostersPerSession) {
      return refusal(
        'dose-mismatch',
        `Dose refused: ${boosters} booster(s) already given in this session; the policy allows ${p.maxBoostersPerSession}.`,
        e,
      );
    }
  }
  const units = unitsOf(e, rx.doseMg);
  if (e.unitsUsed !== undefined && Math.abs(e.unitsUsed - units) > 1e-6) {
    return refusal(
      'dose-mismatch',
      `Dose refused: unitsUsed ${e.unitsUsed} does not match ${e.doseMg} mg of a ${rx.doseMg} mg prescription (${Number(units.toFixed(4))} unit(s)); leave unitsUsed out, it follows from the mg.`,
      e,
    );
  }
  return null;
}

/** Gates before any dose (first or booster): treatment stopped, unreviewed safety signals. */
function checkDoseGates(
  c: EpisodeContext,
  session: DosingSessionRecord,
  e: DoseEvent,
  recordedAtMs: number,
): Refusal | null {
  const stopped = stoppedRefusal(c, e, recordedAtMs);
  if (stopped) return stopped;
  if (c.policy.requireInformedConsent) {
    const missing = !consentInForce(c, 'kap', recordedAtMs)
      ? 'kap'
      : session.mode === 'telehealth' && !consentInForce(c, 'remote-sessions', recordedAtMs)
        ? 'remote-sessions'
        : null;
    if (missing !== null) {
      const withdrawn = c.consents.some((x) => x.scope === missing && x.withdrawn !== null);
      return refusal(
        'consent-required',
        missing === 'kap'
          ? `Dose refused: ${withdrawn ? 'the patient withdrew consent to KAP' : 'no informed consent to KAP is recorded'}; record InformedConsentRecorded (scope kap) first.`
          : `Dose refused: session "${session.sessionId}" is a remote (telehealth) session and ${withdrawn ? 'the patient withdrew consent to remote sessions' : 'no consent to remote sessions is recorded'}; record InformedConsentRecorded (scope remote-sessions) first.`,
        e,
      );
    }
  }
  if (c.policy.requireSafetyReviewBeforeDose) {
    const { flags, adverseEvents } = unreviewedSafetySignals(c, recordedAtMs);
    if (flags.length > 0 || adverseEvents.length > 0) {
      const what = [
        ...flags.map(
          (f) =>
            `${f.instrument.toUpperCase()} item ${f.item} = ${f.value} on ${f.at.slice(0, 10)} (${f.rule})`,
        ),
        ...adverseEvents.map((a) => `${a.severity} adverse event "${a.code}" on ${a.at.slice(0, 10)}`),
      ];
      return refusal(
        'safety-review-required',
        `Dose refused: unreviewed safety signal(s): ${what.join('; ')}. A clinician records the review (SafetyFlagReviewed / AdverseEventReviewed) first.`,
        e,
      );
    }
  }
  return null;
}

function checkFirstDose(
  c: EpisodeContext,
  session: DosingSessionRecord,
  e: DoseEvent,
  recordedAtMs: number,
): Refusal | null {
  const p = c.policy;
  const previous = dosedSessions(c);
  if (c.plan === null)
    return refusal('no-treatment-plan', 'Dose refused: no treatment plan has been created.', e);
  if (p.requireTrainingBeforeFirstDose && !c.trained) {
    return refusal(
      'training-required',
      'Dose refused: the patient has not been trained to take vitals and self-administer (SelfAdministrationTrained).',
      e,
    );
  }
  if (previous.length === 0 && p.requirePreparationBeforeFirstDose && c.preparationSessions === 0) {
    return refusal(
      'preparation-required',
      'Dose refused: no preparation session before the first dosing session.',
      e,
    );
  }
  if (previous.length > 0 && c.integrationsSinceLastDosing < p.minIntegrationSessionsBetweenDoses) {
    return refusal(
      'integration-required',
      `Dose refused: ${c.integrationsSinceLastDosing} integration session(s) since the last dosing session; the policy requires ${p.minIntegrationSessionsBetweenDoses}.`,
      e,
    );
  }
  const lastSessionDose = previous[previous.length - 1]?.doses[0];
  if (lastSessionDose) {
    const hours = (parseInstant(e.at) - parseInstant(lastSessionDose.at)) / 3_600_000;
    if (hours < p.minHoursBetweenDosingSessions) {
      return refusal(
        'dosing-too-soon',
        `Dose refused: the last dosing session's dose was ${Number(hours.toFixed(1))} h earlier (${lastSessionDose.at}); the policy requires ${p.minHoursBetweenDosingSessions} h between dosing sessions.`,
        e,
      );
    }
  }
  if (p.requireChaperoneForRemoteDosing && session.mode === 'telehealth' && !session.chaperone) {
    return refusal(
      'chaperone-required',
      `Dose refused: session "${session.sessionId}" is a telehealth session without a chaperone physically present (policy).`,
      e,
    );
  }
  const known = session.preVitals.filter((v) => knownAt(v.recordedAt, recordedAtMs));
  if (p.requirePreDoseVitals && known.length === 0) {
    return refusal(
      'pre-dose-vitals-required',
      'Dose refused: no pre-dose vitals recorded in this session.',
      e,
    );
  }
  const last = known[known.length - 1];
  if (last?.aboveHold) {
    const o = e.vitalsOverride;
    if (o === undefined) {
      return refusal(
        'vitals-hold',
        `Dose refused: pre-dose ${readingText(last)}: ${last.holdSigns.map((sign) => vitalSignNames[sign]).join(', ')} beyond the hold threshold (BP ${p.holdSystolicAbove}/${p.holdDiastolicAbove} mmHg, heart rate ${p.holdHeartRateAbove}/min, SpO₂ below ${p.holdSpo2Below} %); re-measure, or the medical team records an override with a reason.`,
        e,
      );
    }
    if (o.clinicianRole !== 'medical') {
      return refusal(
        'not-permitted',
        `Dose refused: a vitals-hold override is the medical team's decision, not the ${o.clinicianRole}'s.`,
        e,
      );
    }
    if (e.recordedBy !== 'medical' && e.recordedBy !== 'therapist') {
      return refusal(
        'not-permitted',
        `Dose refused: a dose with a vitals-hold override is recorded by a clinician (the medical team's decision, relayed by the therapist), not by the ${e.recordedBy}.`,
        e,
      );
    }
    if (!isMeaningfulReason(o.reason, p.minReasonLength)) {
      return refusal(
        'reason-required',
        `Dose refused: the override reason "${o.reason}" is too short to say why (at least ${p.minReasonLength} letters or digits).`,
        e,
      );
    }
  }
  if (p.refuseDoseWhenFollowUpOverdue) {
    const due = followUpDueMs(c);
    if (due !== null && parseInstant(e.at) > due) {
      return refusal('follow-up-overdue', 'Dose refused: the medical follow-up is overdue (policy).', e);
    }
  }
  return null;
}

/** A reading in words: `BP 150/95 mmHg, heart rate 72/min, SpO₂ 97 %`. */
export function readingText(v: Pick<VitalsReading, 'systolic' | 'diastolic' | 'heartRate' | 'spo2'>): string {
  const parts = [`BP ${v.systolic}/${v.diastolic} mmHg`];
  if (v.heartRate !== undefined) parts.push(`heart rate ${v.heartRate}/min`);
  if (v.spo2 !== undefined) parts.push(`SpO₂ ${v.spo2} %`);
  return parts.join(', ');
}

export function checkDose(c: EpisodeContext, e: DoseEvent, recordedAtMs: number): Refusal | null {
  const s = sessionOf(c, e.sessionId);
  if (!s) return unknownSession(c, e, e.sessionId);
  if (e.kind === 'booster' && s.doses.length === 0) {
    return refusal(
      'booster-without-dose',
      'A booster needs a full or half dose earlier in the same session.',
      e,
    );
  }
  if (e.kind !== 'booster' && s.doses.length > 0) {
    return refusal(
      'session-already-dosed',
      'This session already had its dose; record a booster instead.',
      e,
    );
  }
  const gate = checkDoseGates(c, s, e, recordedAtMs);
  if (gate) return gate;
  const mismatch = checkDoseAgainstPrescription(c, s, e);
  if (mismatch) return mismatch;
  if (e.kind !== 'booster') {
    const planned = plannedDoseFor(c, dosedSessions(c).length + 1);
    if (
      planned !== null &&
      Math.abs(e.doseMg - planned) > 1e-9 &&
      !isMeaningfulReason(e.reason, c.policy.minReasonLength)
    ) {
      return refusal(
        'reason-required',
        `Dose refused: ${e.doseMg} mg departs from the treatment plan's titration step for dosing session ${dosedSessions(c).length + 1} (${planned} mg); record why (reason)${e.reason === undefined ? '' : ` (the one given, "${e.reason}", is too short to say why)`}.`,
        e,
      );
    }
  }
  const units = unitsOf(e, c.prescription?.doseMg);
  if (dosesOnHand(c) + 1e-9 < units) {
    return refusal(
      'no-medication-on-hand',
      `Dose refused: ${Number(dosesOnHand(c).toFixed(4))} dose(s) on hand, ${Number(units.toFixed(4))} needed.`,
      e,
    );
  }
  return s.doses.length === 0 ? checkFirstDose(c, s, e, recordedAtMs) : null;
}

export function checkSessionCompleted(
  c: EpisodeContext,
  e: Extract<EpisodeEvent, { type: 'DosingSessionCompleted' }>,
): Refusal | null {
  const s = currentSession(c);
  if (!s || s.sessionId !== e.sessionId) return unknownSession(c, e, e.sessionId);
  if (s.doses.length === 0) {
    return refusal('session-not-dosed', 'No dose was given in this session: record DosingSessionAborted.', e);
  }
  const p = c.policy;
  const post = s.otherVitals.filter((v) => v.phase === 'post');
  if (p.requirePostDoseVitalsToComplete && post.length === 0) {
    return refusal('post-dose-vitals-required', 'Session not completed: no post-dose vitals recorded.', e);
  }
  if (isMeaningfulReason(e.reason, p.minReasonLength)) return null;
  const lastDose = s.doses[s.doses.length - 1]!;
  const minutes = (parseInstant(e.at) - parseInstant(lastDose.at)) / 60_000;
  if (minutes < p.observationMinutes) {
    return refusal(
      'reason-required',
      `Session completed ${Math.round(minutes)} min after the last dose, before the ${p.observationMinutes}-minute observation time: record a reason${e.reason === undefined ? '' : ` (the one given, "${e.reason}", is too short to say why)`}.`,
      e,
    );
  }
  const lastPost = post[post.length - 1];
  if (lastPost && (lastPost.systolic > p.holdSystolicAbove || lastPost.diastolic > p.holdDiastolicAbove)) {
    return refusal(
      'reason-required',
      `Session completed with the last post-dose BP ${lastPost.systolic}/${lastPost.diastolic} mmHg still above ${p.holdSystolicAbove}/${p.holdDiastolicAbove}: record a reason${e.reason === undefined ? '' : ` (the one given, "${e.reason}", is too short to say why)`}.`,
      e,
    );
  }
  return null;
}
