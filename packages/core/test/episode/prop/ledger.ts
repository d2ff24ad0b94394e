import type { EpisodeState } from '../../../src/episode/decide.js';
import type { EpisodeEvent, EventOf } from '../../../src/episode/events.js';
import { defaultPermissions } from '../../../src/episode/permissions.js';
import { normalizeInstrumentId } from '../../../src/instruments/registry.js';
import {
  anywhereTypes,
  duringSessionTypes,
  type Happenings,
  meaningful,
  type SessionFacts,
  treatmentTypes,
  whilePausedTypes,
} from './facts.js';
import { HOUR, MINUTE } from './payloads.js';
import { LedgerRecord } from './record.js';

// The ledger (see ./facts.ts): the rules re-derived from the accepted events themselves.

/** Fails a check with its reason. */
type Fail = (why: string) => never;

/**
 * The rules re-derived from the events in force: each event is checked (`check`) against the record as it stood
 * just before it, then taken in (`apply`, see ./record.ts).
 */
export class Ledger extends LedgerRecord {
  /** The ledger of `events` (in force, in clinical order), each checked against the rules before it. */
  static of(events: readonly EpisodeEvent[], happened?: Happenings): Ledger {
    const l = new Ledger(happened);
    for (const e of events) {
      l.check(e);
      l.apply(e);
    }
    return l;
  }

  /** Throws, with the reason, when an event in force breaks a rule as the episode stood just before it. */
  check(e: EpisodeEvent): void {
    const fail: Fail = (why) => {
      throw new Error(`accepted ${e.type} ${e.id} at ${e.at}: ${why}`);
    };
    if (!defaultPermissions[e.type].includes(e.recordedBy)) fail(`recorded by ${e.recordedBy}`);
    if (!this.opened) {
      if (e.type !== 'EpisodeOpened') fail('before EpisodeOpened');
      return;
    }
    if (e.type === 'EpisodeOpened') fail('a second EpisodeOpened');
    if (this.ids.has(e.id)) fail('duplicate id');
    if (e.episodeId !== this.episode!.id || e.patientId !== this.episode!.patient)
      fail('for another episode or patient than the one opened');
    const anywhere = anywhereTypes.has(e.type);
    if (this.closed && !anywhere) fail(`after the episode was ${this.closed}`);
    if (this.paused && !anywhere && !whilePausedTypes.has(e.type)) fail('while paused');
    if (treatmentTypes.has(e.type) && !this.eligible) fail('before the patient was found eligible');
    if (this.current !== null && !anywhere && !duringSessionTypes.has(e.type))
      fail('while a dosing session is in progress');
    const recordedAt = Date.parse(e.recordedAt);
    if (e.type === 'DoseAdministered') this.checkDose(e, recordedAt, fail);
    this.checkSessionEvent(e, recordedAt, fail);
    this.checkSafetyEvent(e, fail);
    this.checkCourseEvent(e, recordedAt, fail);
  }

  /** Fails when treatment was stopped, as known when the event was recorded. */
  checkNotStopped(recordedAt: number, fail: Fail): void {
    if (this.stoppedAsKnownAt(recordedAt)) fail('while the medical team had stopped treatment');
  }

  /** The rules of booking, vitals, the end of a session and integration. */
  checkSessionEvent(e: EpisodeEvent, recordedAt: number, fail: Fail): void {
    const p = this.policy;
    const session = this.current === null ? undefined : this.sessions.get(this.current);
    switch (e.type) {
      case 'DosingSessionScheduled':
        if (this.sessions.has(e.sessionId)) fail('duplicate session id');
        this.checkNotStopped(recordedAt, fail);
        if (p.requireChaperoneForRemoteDosing && e.mode === 'telehealth' && e.chaperone !== true)
          fail('a telehealth session without a chaperone');
        break;
      case 'VitalsRecorded':
        if (!this.sessionFor(e.sessionId)) fail('not in the session in progress or a booked one');
        if (e.phase !== 'pre' && this.sessionFor(e.sessionId)!.doses.length === 0)
          fail(`${e.phase} vitals before a dose`);
        break;
      case 'DosingSessionCompleted': {
        if (!session || e.sessionId !== this.current) fail('not in the session in progress');
        const s = session!;
        if (s.doses.length === 0) fail('without a dose');
        const post = s.readings.filter((v) => v.phase === 'post');
        if (p.requirePostDoseVitalsToComplete && post.length === 0) fail('without post-dose vitals');
        if (meaningful(e.reason)) break;
        const lastDose = s.doses[s.doses.length - 1]!;
        if (Date.parse(e.at) - lastDose.at < p.observationMinutes * MINUTE)
          fail(`${(Date.parse(e.at) - lastDose.at) / MINUTE} min after the last dose, without a reason`);
        const lastPost = post[post.length - 1];
        if (
          lastPost &&
          (lastPost.systolic > p.holdSystolicAbove || lastPost.diastolic > p.holdDiastolicAbove)
        )
          fail('with the last post-dose blood pressure above the hold, without a reason');
        break;
      }
      case 'DosingSessionAborted':
        if (!this.sessionFor(e.sessionId)) fail('not in the session in progress or a booked one');
        break;
      case 'IntegrationSessionCompleted':
        if (this.dosedOrder.length === 0) fail('before any dose');
        if (e.sessionId !== undefined && !this.sessions.has(e.sessionId)) fail('for a session never booked');
        break;
      default:
        break;
    }
  }

  /** The rules of assessments and of reviews of safety signals. */
  checkSafetyEvent(e: EpisodeEvent, fail: Fail): void {
    switch (e.type) {
      case 'AssessmentRecorded': {
        const id = normalizeInstrumentId(e.instrument);
        const items = id === 'phq9' ? 9 : id === 'gad7' ? 7 : fail(`unknown instrument ${e.instrument}`);
        if (e.responses.length !== items) fail(`${e.responses.length} responses`);
        if (e.responses.some((r) => r !== null && !(Number.isInteger(r) && r >= 0 && r <= 3)))
          fail('an answer out of range');
        if (e.responses.every((r) => r === null)) fail('every item unanswered');
        break;
      }
      case 'SafetyFlagReviewed':
        if (!this.flags.has(`${e.assessmentEventId}|${e.rule}`)) fail('no such safety flag');
        break;
      case 'AdverseEventReviewed':
        if (!this.adverse.has(e.adverseEventId)) fail('no such adverse event');
        break;
      default:
        break;
    }
  }

  /** The rules of the course: the fit, the evaluation, prescriptions and supply, pauses, maintenance, closing. */
  checkCourseEvent(e: EpisodeEvent, recordedAt: number, fail: Fail): void {
    const p = this.policy;
    switch (e.type) {
      case 'FitAssessed':
        if (this.eligible) fail('after the patient was found eligible');
        break;
      case 'MedicalEvaluationScheduled':
        if (!this.goodFit) fail('without a good-fit assessment');
        if (this.eligible) fail('after the patient was found eligible');
        break;
      case 'MedicalEvaluationCompleted': {
        if (!this.eligible && !this.evaluationScheduled) fail('without being scheduled');
        if (this.paused) fail('while paused');
        const absolute = e.contraindications.filter((x) => p.absoluteContraindications.includes(x));
        if (e.eligible && absolute.length > 0 && !meaningful(e.contraindicationOverride?.reason))
          fail(`eligible despite ${absolute.join(', ')} without an override and a reason`);
        break;
      }
      case 'PrescriptionIssued':
        if (this.plannedSessions === null) fail('without a treatment plan');
        if (this.prescriptions > 0 && p.refillRequiresFollowUp && !this.followUpSinceAuthorization)
          fail('a new prescription without a follow-up since the last authorisation');
        break;
      case 'MedicationDelivered':
        if (!this.prescription) fail('without a prescription');
        if (this.delivered + e.doses > this.authorized) fail('more than authorised');
        break;
      case 'RefillIssued':
        if (!this.prescription) fail('without a prescription');
        this.checkNotStopped(recordedAt, fail);
        if (p.refillRequiresFollowUp && !this.followUpSinceAuthorization)
          fail('without a follow-up since the last authorisation');
        break;
      case 'EpisodeCompleted':
        if (this.dosedOrder.length === 0) fail('without any dose');
        if (this.dosedOrder.length < (this.plannedSessions ?? 0) && !meaningful(e.reason))
          fail(
            `after ${this.dosedOrder.length} of ${this.plannedSessions} planned sessions, without a reason`,
          );
        break;
      case 'EpisodePaused':
        if (this.paused) fail('while paused');
        break;
      case 'EpisodeResumed':
        if (!this.paused) fail('while not paused');
        break;
      case 'MedicationsReviewed':
        if (!this.evaluationEverScheduled) fail('before the medical evaluation was scheduled');
        break;
      case 'MaintenancePlanned':
        if (this.current !== null || this.paused) fail('not between sessions');
        if (this.dosedOrder.length === 0) fail('before any dose');
        if (this.dosedOrder.length < (this.plannedSessions ?? 0) && !meaningful(e.reason))
          fail(
            `after ${this.dosedOrder.length} of ${this.plannedSessions} planned sessions, without a reason`,
          );
        break;
      default:
        break;
    }
  }

  /** The rules of every dose: the session, the stop, safety review, the prescription, supply and consent. */
  checkDose(e: EventOf<'DoseAdministered'>, recordedAt: number, fail: Fail): void {
    const p = this.policy;
    const s = this.sessionFor(e.sessionId) ?? fail('not in the session in progress or a booked one');
    if (e.kind === 'booster' && s.doses.length === 0) fail('booster without a dose in the session');
    if (e.kind !== 'booster' && s.doses.length > 0) fail('a second non-booster dose in one session');
    this.checkNotStopped(recordedAt, fail);
    if (p.requireSafetyReviewBeforeDose && this.unreviewedAsKnownAt(recordedAt).length > 0)
      fail('with a safety signal known and not reviewed');
    const rx = this.prescription ?? fail('without a prescription');
    if (e.route !== rx.route || e.formulation !== rx.formulation)
      fail(`${e.route} ${e.formulation} against a ${rx.route} ${rx.formulation} prescription`);
    const limit = e.kind === 'full' ? rx.mg : e.kind === 'half' ? rx.mg / 2 : rx.mg * p.maxBoosterFraction;
    if (e.doseMg > limit + 1e-9) fail(`${e.doseMg} mg for a ${e.kind} dose of a ${rx.mg} mg prescription`);
    if (e.kind === 'booster' && s.doses.filter((d) => d.kind === 'booster').length >= p.maxBoostersPerSession)
      fail('more boosters than the policy allows');
    const units = e.doseMg / rx.mg;
    if (e.unitsUsed !== undefined && Math.abs(e.unitsUsed - units) > 1e-6)
      fail(`unitsUsed ${e.unitsUsed} for ${units} unit(s)`);
    if (this.delivered - this.used + 1e-9 < units) fail(`${this.delivered - this.used} on hand < ${units}`);
    if (p.requireInformedConsent) {
      const inForce = (scope: string) =>
        this.consents.some(
          (x) => x.scope === scope && (x.withdrawnRecordedAt === null || x.withdrawnRecordedAt > recordedAt),
        );
      if (!inForce('kap')) fail('without informed consent to KAP in force');
      if (s.mode === 'telehealth' && !inForce('remote-sessions'))
        fail('a remote dose without consent to remote sessions');
    }
    if (s.doses.length === 0) this.checkFirstDose(e, s, recordedAt, fail);
  }

  /** The rules of the first dose of a session: the plan, spacing, the chaperone, pre-dose vitals, the follow-up. */
  checkFirstDose(e: EventOf<'DoseAdministered'>, s: SessionFacts, recordedAt: number, fail: Fail): void {
    const p = this.policy;
    if (this.titration) {
      let planned: number | null = null;
      for (const step of this.titration)
        if (step.fromSession <= this.dosedOrder.length + 1) planned = step.doseMg;
      if (planned !== null && Math.abs(e.doseMg - planned) > 1e-9 && !meaningful(e.reason))
        fail(`${e.doseMg} mg against a titration step of ${planned} mg, without a reason`);
    }
    if (this.plannedSessions === null) fail('without a treatment plan');
    if (!this.trained) fail('without training');
    if (this.dosedOrder.length === 0 && p.requirePreparationBeforeFirstDose && this.preparations === 0)
      fail('first dose without a preparation session');
    if (this.dosedOrder.length > 0 && this.integrationsSinceDose < p.minIntegrationSessionsBetweenDoses)
      fail('without the integration sessions the policy requires');
    const lastSession = Math.max(...this.firstDoses().map((d) => d.at));
    if (Date.parse(e.at) - lastSession < p.minHoursBetweenDosingSessions * HOUR)
      fail(`${(Date.parse(e.at) - lastSession) / HOUR} h after the last dosing session`);
    if (p.requireChaperoneForRemoteDosing && s.mode === 'telehealth' && !s.chaperone)
      fail('a telehealth session without a chaperone');
    // Pre-dose vitals as known when the dose was recorded; the last of them decides the hold.
    const known = s.readings.filter((v) => v.phase === 'pre' && v.recordedAt <= recordedAt);
    if (p.requirePreDoseVitals && known.length === 0) fail('without pre-dose vitals');
    const last = known[known.length - 1];
    const hold =
      last !== undefined &&
      (last.systolic > p.holdSystolicAbove ||
        last.diastolic > p.holdDiastolicAbove ||
        (last.heartRate ?? 0) > p.holdHeartRateAbove ||
        (last.spo2 ?? 100) < p.holdSpo2Below);
    if (hold) {
      const o = e.vitalsOverride ?? fail('pre-dose vitals beyond the hold threshold, no override');
      if (o.clinicianRole !== 'medical') fail(`a vitals-hold override by the ${o.clinicianRole}`);
      if (!meaningful(o.reason)) fail(`a vitals-hold override with the reason "${o.reason}"`);
    }
    if (p.refuseDoseWhenFollowUpOverdue) {
      const due = this.followUpDueMs();
      if (due !== null && Date.parse(e.at) > due)
        fail('while the follow-up is overdue and the policy refuses doses then');
    }
  }

  /** Totals that hold after every accepted event. */
  checkTotals(): void {
    if (!(this.used <= this.delivered + 1e-9 && this.delivered <= this.authorized)) {
      throw new Error(
        `units used ${this.used} ≤ delivered ${this.delivered} ≤ authorised ${this.authorized} broken`,
      );
    }
  }

  /**
   * Where the episode must be after every accepted event: in a dosing session exactly when one was started and
   * not ended, paused exactly when paused, closed exactly when closed, and back where it was paused when resumed.
   */
  checkState(state: EpisodeState, e: EpisodeEvent, pausedAt: EpisodeState['value'] | null): void {
    const fail = (why: string): never => {
      throw new Error(`after ${e.type} ${e.id}: ${why}`);
    };
    if (state.context.currentSessionId !== this.current)
      fail(`session in progress ${state.context.currentSessionId}, expected ${this.current}`);
    if (state.matches({ open: { treatment: 'dosingSession' } }) !== (this.current !== null))
      fail(`state ${JSON.stringify(state.value)} with session in progress ${this.current}`);
    if (state.matches('paused') !== this.paused)
      fail(`state ${JSON.stringify(state.value)}, paused ${this.paused}`);
    if ((state.matches('completed') || state.matches('discontinued')) !== (this.closed !== null))
      fail(`state ${JSON.stringify(state.value)}, closed ${this.closed}`);
    if (
      e.type === 'EpisodeResumed' &&
      pausedAt !== null &&
      JSON.stringify(state.value) !== JSON.stringify(pausedAt)
    )
      fail(`resumed in ${JSON.stringify(state.value)}, paused in ${JSON.stringify(pausedAt)}`);
  }
}
