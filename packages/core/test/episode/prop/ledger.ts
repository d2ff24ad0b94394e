import type { EpisodeState } from '../../../src/episode/decide.js';
import type { EpisodeEvent } from '../../../src/episode/events.js';
import { defaultPermissions } from '../../../src/episode/permissions.js';
import { defaultPolicy, type EpisodePolicy } from '../../../src/episode/policy.js';
import { createInstrumentRegistry } from '../../../src/instruments/builtin.js';
import { normalizeInstrumentId } from '../../../src/instruments/registry.js';
import { scoreResponse } from '../../../src/instruments/scoring.js';
import {
  type AssessmentFact,
  anywhereTypes,
  type DoseFact,
  defined,
  duringSessionTypes,
  type Happenings,
  meaningful,
  noHappenings,
  type SessionFacts,
  type Signal,
  type StopFact,
  treatmentTypes,
  whilePausedTypes,
} from './facts.js';
import { DAY, HOUR, MINUTE } from './payloads.js';

// The ledger (see ./facts.ts): the rules re-derived from the accepted events themselves.

export const registry = createInstrumentRegistry();

export class Ledger {
  policy: EpisodePolicy = defaultPolicy;
  opened = false;
  /** The episode and patient the accepted EpisodeOpened named. */
  episode: { id: string; patient: string } | null = null;
  closed: null | 'completed' | 'discontinued' = null;
  paused = false;
  goodFit = false;
  /** A medical evaluation was scheduled and has not been completed since. */
  evaluationScheduled = false;
  /** Found eligible once: the treatment has begun (a later evaluation is a re-evaluation). */
  eligible = false;
  plannedSessions: number | null = null;
  /** The plan's titration steps, if any. */
  titration: { fromSession: number; doseMg: number }[] | null = null;
  /** A medical evaluation was ever scheduled. */
  evaluationEverScheduled = false;
  /** Consents by scope: when given (clinical order) and the recording time of their withdrawal, if any. */
  consents: { scope: string; withdrawnRecordedAt: number | null }[] = [];
  /** Withdrawals of consent (a late one raises late-entry for the doses it would have refused). */
  withdrawals: { at: number; recordedAt: number; kap: boolean; remote: boolean }[] = [];
  maintenance = false;
  prescription: null | { id: string; route: string; formulation: string; mg: number } = null;
  prescriptions = 0;
  authorized = 0;
  delivered = 0;
  used = 0;
  trained = false;
  preparations = 0;
  integrationsSinceDose = 0;
  followUpSinceAuthorization = false;
  current: string | null = null;
  /** By session id, in booking order. */
  sessions = new Map<string, SessionFacts>();
  /** Session ids in the order of their first dose. */
  dosedOrder: string[] = [];
  assessments: AssessmentFact[] = [];
  /** Safety flags (by assessment id and rule) and adverse events (by id). */
  flags = new Map<string, Signal>();
  adverse = new Map<string, Signal>();
  stops: StopFact[] = [];
  followUps: number[] = [];
  lastAtMs = Number.NEGATIVE_INFINITY;
  /** The events in force, in clinical order, and their ids. */
  events: EpisodeEvent[] = [];
  ids = new Set<string>();

  constructor(public happened: Happenings = noHappenings()) {}

  /** The ledger of `events` (in force, in clinical order), each checked against the rules before it. */
  static of(events: readonly EpisodeEvent[], happened?: Happenings): Ledger {
    const l = new Ledger(happened);
    for (const e of events) {
      l.check(e);
      l.apply(e);
    }
    return l;
  }

  /** A booked session that has not started (nor been cancelled). */
  isBooked(s: SessionFacts | undefined): boolean {
    return s !== undefined && !s.started && s.ended === null;
  }

  /** The first dose of every dosed session, in dose order. */
  firstDoses(): DoseFact[] {
    return this.dosedOrder.map((id) => this.sessions.get(id)!.doses[0]!);
  }

  /** Whether treatment is stopped, as known when an event recorded at `recordedAt` was written. */
  stoppedAsKnownAt(recordedAt: number): boolean {
    let stopped = false;
    for (const s of this.stops) if (s.recordedAt <= recordedAt) stopped = s.stop;
    return stopped;
  }

  /** Signals that gate doses, unreviewed as known when an event recorded at `recordedAt` was written. */
  unreviewedAsKnownAt(recordedAt: number): Signal[] {
    return [...this.flags.values(), ...this.adverse.values()].filter(
      (s) => s.gates && s.recordedAt <= recordedAt && !s.reviews.some((r) => r <= recordedAt),
    );
  }

  /** The stop in force (whenever it was recorded), if any. */
  stopInForce(): StopFact | null {
    const last = this.stops[this.stops.length - 1];
    return last?.stop ? last : null;
  }

  /** Throws, with the reason, when an event in force breaks a rule as the episode stood just before it. */
  check(e: EpisodeEvent): void {
    const fail = (why: string): never => {
      throw new Error(`accepted ${e.type} ${e.id} at ${e.at}: ${why}`);
    };
    const p = this.policy;
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
    const session = this.current === null ? undefined : this.sessions.get(this.current);
    /** The session an in-session event may refer to: the one in progress, else a booked one not yet started. */
    const target = (id: string): SessionFacts | undefined => {
      if (this.current !== null) return id === this.current ? session : undefined;
      const booked = this.sessions.get(id);
      return this.isBooked(booked) ? booked : undefined;
    };
    const notStopped = () => {
      if (this.stoppedAsKnownAt(recordedAt)) fail('while the medical team had stopped treatment');
    };
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
        notStopped();
        if (p.refillRequiresFollowUp && !this.followUpSinceAuthorization)
          fail('without a follow-up since the last authorisation');
        break;
      case 'DosingSessionScheduled':
        if (this.sessions.has(e.sessionId)) fail('duplicate session id');
        notStopped();
        if (p.requireChaperoneForRemoteDosing && e.mode === 'telehealth' && e.chaperone !== true)
          fail('a telehealth session without a chaperone');
        break;
      case 'VitalsRecorded':
        if (!target(e.sessionId)) fail('not in the session in progress or a booked one');
        if (e.phase !== 'pre' && target(e.sessionId)!.doses.length === 0)
          fail(`${e.phase} vitals before a dose`);
        break;
      case 'DoseAdministered': {
        const s = target(e.sessionId) ?? fail('not in the session in progress or a booked one');
        if (e.kind === 'booster' && s.doses.length === 0) fail('booster without a dose in the session');
        if (e.kind !== 'booster' && s.doses.length > 0) fail('a second non-booster dose in one session');
        notStopped();
        if (p.requireSafetyReviewBeforeDose && this.unreviewedAsKnownAt(recordedAt).length > 0)
          fail('with a safety signal known and not reviewed');
        const rx = this.prescription ?? fail('without a prescription');
        if (e.route !== rx.route || e.formulation !== rx.formulation)
          fail(`${e.route} ${e.formulation} against a ${rx.route} ${rx.formulation} prescription`);
        const limit =
          e.kind === 'full' ? rx.mg : e.kind === 'half' ? rx.mg / 2 : rx.mg * p.maxBoosterFraction;
        if (e.doseMg > limit + 1e-9)
          fail(`${e.doseMg} mg for a ${e.kind} dose of a ${rx.mg} mg prescription`);
        if (
          e.kind === 'booster' &&
          s.doses.filter((d) => d.kind === 'booster').length >= p.maxBoostersPerSession
        )
          fail('more boosters than the policy allows');
        const units = e.doseMg / rx.mg;
        if (e.unitsUsed !== undefined && Math.abs(e.unitsUsed - units) > 1e-6)
          fail(`unitsUsed ${e.unitsUsed} for ${units} unit(s)`);
        if (this.delivered - this.used + 1e-9 < units)
          fail(`${this.delivered - this.used} on hand < ${units}`);
        if (p.requireInformedConsent) {
          const inForce = (scope: string) =>
            this.consents.some(
              (x) =>
                x.scope === scope && (x.withdrawnRecordedAt === null || x.withdrawnRecordedAt > recordedAt),
            );
          if (!inForce('kap')) fail('without informed consent to KAP in force');
          if (s.mode === 'telehealth' && !inForce('remote-sessions'))
            fail('a remote dose without consent to remote sessions');
        }
        if (s.doses.length > 0) break;
        // The first dose of a session.
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
        break;
      }
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
        if (!target(e.sessionId)) fail('not in the session in progress or a booked one');
        break;
      case 'IntegrationSessionCompleted':
        if (this.dosedOrder.length === 0) fail('before any dose');
        if (e.sessionId !== undefined && !this.sessions.has(e.sessionId)) fail('for a session never booked');
        break;
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

  /** When the medical follow-up falls due (after the first dose), or null. */
  followUpDueMs(): number | null {
    const first = this.firstDoses()[0];
    if (!first) return null;
    return Math.max(first.at, ...this.followUps) + this.policy.followUpIntervalDays * DAY;
  }

  apply(e: EpisodeEvent): void {
    this.ids.add(e.id);
    this.events.push(e);
    const at = Date.parse(e.at);
    const recordedAt = Date.parse(e.recordedAt);
    this.lastAtMs = Math.max(this.lastAtMs, at);
    const anyBooked = [...this.sessions.values()].some((s) => this.isBooked(s));
    if (this.paused && e.type === 'AdverseEventReported') this.happened.adverseWhilePaused++;
    if (
      this.paused &&
      (e.type === 'MedicalFollowUpCompleted' || e.type === 'RefillIssued' || e.type === 'MedicationDelivered')
    )
      this.happened.medicalWhilePaused++;
    if (this.closed && e.type !== 'EventVoided') this.happened.reportedWhenClosed++;
    const stop = (s: boolean) => {
      if (!s && this.stopInForce()) this.happened.stopLifted++;
      this.stops.push({ id: e.id, stop: s, at, recordedAt });
    };
    switch (e.type) {
      case 'EpisodeOpened':
        this.opened = true;
        this.episode = { id: e.episodeId, patient: e.patientId };
        this.policy = { ...defaultPolicy, ...defined(e.policy ?? {}) };
        break;
      case 'FitAssessed':
        this.goodFit ||= e.outcome === 'good-fit';
        break;
      case 'MedicalEvaluationScheduled':
        this.evaluationScheduled = true;
        this.evaluationEverScheduled = true;
        break;
      case 'MedicalEvaluationCompleted':
        if (this.eligible) {
          // A re-evaluation: not eligible stops treatment, eligible lifts a stop.
          stop(!e.eligible);
        } else {
          this.evaluationScheduled = false;
          this.eligible = e.eligible;
        }
        break;
      case 'TreatmentPlanCreated':
        this.plannedSessions = e.plannedDosingSessions;
        this.titration = e.titration ?? null;
        this.policy = {
          ...this.policy,
          ...defined({
            criticalPeriodDays: e.criticalPeriodDays,
            followUpIntervalDays: e.followUpIntervalDays,
          }),
        };
        break;
      case 'PrescriptionIssued':
        this.prescription = { id: e.id, route: e.route, formulation: e.formulation, mg: e.doseMg };
        this.prescriptions++;
        this.authorized += e.dosesAuthorized;
        this.followUpSinceAuthorization = false;
        stop(false);
        break;
      case 'RefillIssued':
        this.authorized += e.dosesAuthorized;
        this.followUpSinceAuthorization = false;
        break;
      case 'MedicalFollowUpCompleted':
        this.followUpSinceAuthorization = true;
        this.followUps.push(at);
        stop(!e.continueTreatment);
        break;
      case 'MedicationDelivered':
        this.delivered += e.doses;
        break;
      case 'SelfAdministrationTrained':
        this.trained ||= e.vitalsTrained && e.selfAdministrationTrained;
        break;
      case 'PreparationSessionCompleted':
        this.preparations++;
        if (anyBooked) this.happened.sessionWorkWhileBooked++;
        break;
      case 'IntegrationSessionCompleted':
        this.integrationsSinceDose++;
        if (anyBooked) this.happened.sessionWorkWhileBooked++;
        break;
      case 'DosingSessionScheduled':
        if (anyBooked || this.current !== null) this.happened.bookedAhead++;
        this.sessions.set(e.sessionId, {
          mode: e.mode,
          maintenance: this.maintenance,
          chaperone: e.chaperone === true,
          doses: [],
          readings: [],
          started: false,
          ended: null,
        });
        break;
      case 'VitalsRecorded': {
        const s = this.sessions.get(e.sessionId)!;
        if (!s.started) this.happened.startedByVitals++;
        this.current = e.sessionId;
        s.started = true;
        s.readings.push({
          at,
          recordedAt,
          phase: e.phase,
          systolic: e.systolic,
          diastolic: e.diastolic,
          ...defined({ heartRate: e.heartRate, spo2: e.spo2 }),
        });
        break;
      }
      case 'DoseAdministered': {
        const s = this.sessions.get(e.sessionId)!;
        this.current = e.sessionId;
        s.started = true;
        if (s.doses.length === 0) {
          this.dosedOrder.push(e.sessionId);
          this.integrationsSinceDose = 0;
        }
        // Units follow from the mg: one unit is one prescribed dose.
        const units = e.doseMg / this.prescription!.mg;
        s.doses.push({ id: e.id, at, recordedAt, kind: e.kind, units });
        this.used += units;
        break;
      }
      case 'DosingSessionCompleted':
      case 'DosingSessionAborted': {
        const s = this.sessions.get(e.sessionId)!;
        if (!s.started) this.happened.cancelled++;
        if (this.current === e.sessionId) this.current = null;
        s.ended = e.type === 'DosingSessionCompleted' ? 'completed' : 'aborted';
        break;
      }
      case 'AssessmentRecorded': {
        const definition = registry.get(e.instrument);
        const scored = scoreResponse(definition, { responses: e.responses });
        this.assessments.push({
          id: e.id,
          instrument: definition.id,
          at,
          total: scored.total,
          severity: scored.severity,
        });
        if (definition.id === 'phq9' && e.responses[8] !== 0) {
          const positive = e.responses[8] !== null;
          this.flags.set(`${e.id}|phq9-item9-positive`, {
            id: e.id,
            at,
            recordedAt,
            gates: positive,
            kind: positive ? 'positive' : 'unanswered',
            unknownSession: false,
            reviews: [],
          });
        }
        break;
      }
      case 'SafetyFlagReviewed':
        this.flags.get(`${e.assessmentEventId}|${e.rule}`)!.reviews.push(recordedAt);
        break;
      case 'AdverseEventReported': {
        const unknownSession = e.sessionId !== undefined && !this.sessions.has(e.sessionId);
        if (unknownSession) this.happened.unknownSessionKept++;
        const gates = e.severity === 'severe' || e.severity === 'serious' || e.code === 'suicidal-ideation';
        this.adverse.set(e.id, {
          id: e.id,
          at,
          recordedAt,
          gates,
          kind: gates ? 'positive' : e.severity === 'moderate' ? 'moderate' : 'other',
          unknownSession,
          reviews: [],
        });
        break;
      }
      case 'AdverseEventReviewed':
        this.adverse.get(e.adverseEventId)!.reviews.push(recordedAt);
        break;
      case 'EpisodePaused':
        this.paused = true;
        break;
      case 'EpisodeResumed':
        this.paused = false;
        break;
      case 'InformedConsentRecorded':
        for (const scope of new Set(e.scope)) this.consents.push({ scope, withdrawnRecordedAt: null });
        break;
      case 'ConsentWithdrawn':
        this.withdrawals.push({
          at,
          recordedAt,
          kap: e.scope.includes('kap'),
          remote: e.scope.includes('remote-sessions'),
        });
        for (const x of this.consents)
          if (x.withdrawnRecordedAt === null && e.scope.includes(x.scope as never))
            x.withdrawnRecordedAt = recordedAt;
        break;
      case 'MaintenancePlanned':
        this.maintenance = true;
        break;
      case 'EpisodeCompleted':
        this.closed = 'completed';
        break;
      case 'EpisodeDiscontinued':
        // Discontinuing ends a session in progress, and a pause.
        this.closed = 'discontinued';
        this.current = null;
        this.paused = false;
        break;
      default:
        break;
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
