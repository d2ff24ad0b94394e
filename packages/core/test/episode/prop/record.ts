import type { EpisodeEvent } from '../../../src/episode/events.js';
import { defaultPolicy, type EpisodePolicy } from '../../../src/episode/policy.js';
import { createInstrumentRegistry } from '../../../src/instruments/builtin.js';
import { scoreResponse } from '../../../src/instruments/scoring.js';
import {
  type AssessmentFact,
  type DoseFact,
  defined,
  type Happenings,
  noHappenings,
  type SessionFacts,
  type Signal,
  type StopFact,
} from './facts.js';
import { DAY } from './payloads.js';

// The record of the ledger (./ledger.ts): the facts of the events in force, in clinical order.

export const registry = createInstrumentRegistry();

/**
 * What the events in force say, taken in one by one (`apply`): the facts the rules of `Ledger` (./ledger.ts) read.
 */
export class LedgerRecord {
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

  /** The session an in-session event may refer to: the one in progress, else a booked one not yet started. */
  sessionFor(id: string): SessionFacts | undefined {
    if (this.current !== null) return id === this.current ? this.sessions.get(this.current) : undefined;
    const booked = this.sessions.get(id);
    return this.isBooked(booked) ? booked : undefined;
  }

  /** When the medical follow-up falls due (after the first dose), or null. */
  followUpDueMs(): number | null {
    const first = this.firstDoses()[0];
    if (!first) return null;
    return Math.max(first.at, ...this.followUps) + this.policy.followUpIntervalDays * DAY;
  }

  /** Takes an event in force into the ledger. */
  apply(e: EpisodeEvent): void {
    this.ids.add(e.id);
    this.events.push(e);
    const at = Date.parse(e.at);
    const recordedAt = Date.parse(e.recordedAt);
    this.lastAtMs = Math.max(this.lastAtMs, at);
    if (this.paused && e.type === 'AdverseEventReported') this.happened.adverseWhilePaused++;
    if (
      this.paused &&
      (e.type === 'MedicalFollowUpCompleted' || e.type === 'RefillIssued' || e.type === 'MedicationDelivered')
    )
      this.happened.medicalWhilePaused++;
    if (this.closed && e.type !== 'EventVoided') this.happened.reportedWhenClosed++;
    this.applyMedical(e, at, recordedAt);
    this.applySession(e, at, recordedAt);
    this.applySafety(e, at, recordedAt);
    this.applyCourse(e, at, recordedAt);
  }

  /** A stop of treatment (or a lift, `stop` false) recorded by event `id`. */
  recordStop(id: string, at: number, recordedAt: number, stop: boolean): void {
    if (!stop && this.stopInForce()) this.happened.stopLifted++;
    this.stops.push({ id, stop, at, recordedAt });
  }

  /** The medical team's decisions, prescriptions and supply. */
  applyMedical(e: EpisodeEvent, at: number, recordedAt: number): void {
    switch (e.type) {
      case 'MedicalEvaluationCompleted':
        if (this.eligible) {
          // A re-evaluation: not eligible stops treatment, eligible lifts a stop.
          this.recordStop(e.id, at, recordedAt, !e.eligible);
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
        this.recordStop(e.id, at, recordedAt, false);
        break;
      case 'RefillIssued':
        this.authorized += e.dosesAuthorized;
        this.followUpSinceAuthorization = false;
        break;
      case 'MedicalFollowUpCompleted':
        this.followUpSinceAuthorization = true;
        this.followUps.push(at);
        this.recordStop(e.id, at, recordedAt, !e.continueTreatment);
        break;
      case 'MedicationDelivered':
        this.delivered += e.doses;
        break;
      case 'SelfAdministrationTrained':
        this.trained ||= e.vitalsTrained && e.selfAdministrationTrained;
        break;
      default:
        break;
    }
  }

  /** Preparation, integration and dosing sessions. */
  applySession(e: EpisodeEvent, at: number, recordedAt: number): void {
    const anyBooked = [...this.sessions.values()].some((s) => this.isBooked(s));
    switch (e.type) {
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
      default:
        break;
    }
  }

  /** Assessments (and the safety flags they raise), adverse events and their reviews. */
  applySafety(e: EpisodeEvent, at: number, recordedAt: number): void {
    switch (e.type) {
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
      default:
        break;
    }
  }

  /** Opening, the fit, pauses, consent, maintenance and closing. */
  applyCourse(e: EpisodeEvent, at: number, recordedAt: number): void {
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
}
