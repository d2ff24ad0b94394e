import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { unitsOf } from '../../src/episode/context.js';
import {
  decide,
  type EpisodeState,
  initialEpisodeState,
  persistEpisode,
  replay,
  restoreEpisode,
} from '../../src/episode/decide.js';
import {
  abortReasons,
  adverseEventCodes,
  adverseEventSeverities,
  contraindicationCodes,
  discontinuationReasons,
  type EpisodeEvent,
  type EventOf,
  type EventType,
  eventTypes,
  formulations,
  pauseReasons,
  routes,
  sessionModes,
} from '../../src/episode/events.js';
import { defaultPolicy, type EpisodePolicy } from '../../src/episode/policy.js';
import { refusalCodes } from '../../src/episode/rules.js';
import { statusAt } from '../../src/episode/status.js';

/*
 * Property tests of the episode model: random event sequences, mostly valid and sometimes not, folded with
 * `decide`. Invariants are re-derived from the accepted events themselves (a `Ledger` built only from them),
 * then compared with what the episode context says.
 */

const EPISODE = 'ep-prop';
const PATIENT = 'pt-prop-synthetic';
const T0 = Date.parse('2026-03-02T15:00:00Z');
const MINUTE = 60_000;

// ---------------------------------------------------------------------------------------------------------
// Commands: an event to be, with placeholders resolved while folding (session ids, ids, timestamps).

/** A session reference: the one in progress, a brand-new one, or a fixed id that may or may not exist. */
type SessionRef = '@current' | '@new' | 's1' | 's2' | 's3';
type Corruption = 'drop-at' | 'bad-at' | 'bad-version' | 'bad-type' | 'drop-payload' | 'bad-number';

interface Command {
  readonly type: EventType;
  readonly payload: Readonly<Record<string, unknown>>;
  /** Minutes after the previous event (negative: earlier, so probably out of order). */
  readonly dt: number;
  /** Reuse the id of an earlier accepted event (index, modulo their number) instead of a fresh id. */
  readonly dupId: number | null;
  /** Name another episode or patient than the one opened. */
  readonly foreign: 'episode' | 'patient' | null;
  readonly corrupt: Corruption | null;
  readonly offset: 'Z' | '-05:00' | '+05:30';
}

const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);
/** `arb` one time in `n`, else undefined. */
const oneIn = <T>(n: number, arb: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: n - 1 }, { arbitrary: arb, weight: 1 });
const sessionRef = (current: number) =>
  fc.oneof(
    { arbitrary: fc.constant<SessionRef>('@current'), weight: current },
    { arbitrary: pick<SessionRef>(['s1', 's2', 's3', '@new']), weight: 1 },
  );
const vitals = (phase: fc.Arbitrary<string>) =>
  fc.record({
    sessionId: sessionRef(8),
    phase,
    systolic: fc.oneof(
      { arbitrary: fc.integer({ min: 95, max: 138 }), weight: 9 },
      fc.integer({ min: 40, max: 300 }),
    ),
    diastolic: fc.oneof(
      { arbitrary: fc.integer({ min: 55, max: 88 }), weight: 9 },
      fc.integer({ min: 20, max: 200 }),
    ),
    heartRate: fc.option(fc.integer({ min: 40, max: 140 }), { nil: undefined }),
    spo2: fc.option(fc.integer({ min: 88, max: 100 }), { nil: undefined }),
  });
const dosePayload = (kind: fc.Arbitrary<string>) =>
  fc.record({
    sessionId: sessionRef(8),
    kind,
    doseMg: fc.constantFrom(150, 300, 450),
    route: pick(routes),
    formulation: pick(formulations),
    unitsUsed: fc.oneof({ arbitrary: fc.constant(undefined), weight: 6 }, fc.constantFrom(0.5, 1, 2, 3)),
    vitalsOverride: oneIn(
      6,
      fc.record({
        clinicianRole: pick(['medical', 'therapist'] as const),
        reason: fc.constant('repeat reading normal'),
      }),
    ),
  });
const phq9Responses = fc.oneof(
  { arbitrary: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 9, maxLength: 9 }), weight: 6 },
  // Some unanswered items (prorated, or not scorable; item 9 unanswered raises a flag).
  fc.array(fc.option(fc.integer({ min: 0, max: 3 }), { nil: null }), { minLength: 9, maxLength: 9 }),
  // Invalid: wrong length or out-of-range answers.
  fc.array(fc.integer({ min: -1, max: 5 }), { minLength: 1, maxLength: 12 }),
);

/** A plausible payload for each event type (some with placeholders, some invalid by the rules). */
const payloads: { [K in EventType]: fc.Arbitrary<Record<string, unknown>> } = {
  EpisodeOpened: fc.record({
    policy: oneIn(
      3,
      fc.record(
        {
          holdSystolicAbove: fc.integer({ min: 120, max: 160 }),
          holdDiastolicAbove: fc.integer({ min: 75, max: 100 }),
          minIntegrationSessionsBetweenDoses: fc.integer({ min: 0, max: 2 }),
          criticalPeriodDays: fc.constantFrom(2, 14, 21),
          followUpIntervalDays: fc.integer({ min: 2, max: 12 }),
          refuseDoseWhenFollowUpOverdue: fc.boolean(),
        },
        { requiredKeys: [] },
      ),
    ),
    referral: fc.option(pick(['therapist', 'medical', 'self'] as const), { nil: undefined }),
  }),
  FitAssessed: fc.record({
    outcome: fc.oneof(
      { arbitrary: fc.constant('good-fit'), weight: 18 },
      pick(['not-a-fit', 'needs-more-discussion']),
    ),
  }),
  MedicalEvaluationScheduled: fc.record({
    scheduledFor: fc.constant('2026-03-09T10:00:00-05:00'),
    mode: pick(sessionModes),
  }),
  MedicalEvaluationCompleted: fc.record({
    eligible: fc.oneof({ arbitrary: fc.constant(true), weight: 9 }, fc.constant(false)),
    contraindications: fc.option(fc.subarray([...contraindicationCodes], { maxLength: 2 }), {
      nil: undefined,
    }),
  }),
  TreatmentPlanCreated: fc.record({
    plannedDosingSessions: fc.integer({ min: 1, max: 8 }),
    monitoring: fc.record({
      measures: fc.subarray(
        [{ instrument: 'phq9', everyDays: 28, beforeEachDoseWithinDays: 7 }, { instrument: 'GAD-7' }],
        { minLength: 1 },
      ),
    }),
    criticalPeriodDays: fc.option(fc.constantFrom(2, 14), { nil: undefined }),
    followUpIntervalDays: oneIn(4, fc.integer({ min: 5, max: 60 })),
  }),
  PrescriptionIssued: fc.record({
    medication: fc.constant('ketamine'),
    route: pick(routes),
    formulation: pick(formulations),
    doseMg: fc.constantFrom(150, 300),
    dosesAuthorized: fc.oneof({ arbitrary: fc.integer({ min: 2, max: 4 }), weight: 4 }, fc.constant(1)),
  }),
  MedicationDelivered: fc.record({
    doses: fc.oneof({ arbitrary: fc.constant(2), weight: 3 }, fc.integer({ min: 1, max: 4 })),
    lot: fc.option(fc.constant('LOT-1'), { nil: undefined }),
  }),
  SelfAdministrationTrained: fc.record({
    vitalsTrained: fc.oneof({ arbitrary: fc.constant(true), weight: 19 }, fc.constant(false)),
    selfAdministrationTrained: fc.oneof({ arbitrary: fc.constant(true), weight: 19 }, fc.constant(false)),
  }),
  PreparationSessionCompleted: fc.record({
    mode: pick(sessionModes),
    intentionsSet: fc.option(fc.boolean(), { nil: undefined }),
  }),
  DosingSessionScheduled: fc.record({
    sessionId: fc.oneof(
      { arbitrary: fc.constant<SessionRef>('@new'), weight: 8 },
      pick<SessionRef>(['s1', '@current']),
    ),
    scheduledFor: fc.constant('2026-03-16T10:00:00-05:00'),
    mode: pick(sessionModes),
    chaperone: fc.option(fc.boolean(), { nil: undefined }),
  }),
  VitalsRecorded: vitals(pick(['pre', 'during', 'post'])),
  DoseAdministered: dosePayload(
    fc.oneof({ arbitrary: pick(['full', 'half']), weight: 4 }, fc.constant('booster')),
  ),
  AdverseEventReported: fc.record({
    sessionId: fc.option(sessionRef(3), { nil: undefined }),
    code: pick(adverseEventCodes),
    severity: pick(adverseEventSeverities),
  }),
  DosingSessionCompleted: fc.record({
    sessionId: sessionRef(8),
    durationMinutes: fc.option(fc.integer({ min: 30, max: 240 }), { nil: undefined }),
  }),
  DosingSessionAborted: fc.record({ sessionId: sessionRef(8), reason: pick(abortReasons) }),
  IntegrationSessionCompleted: fc.record({
    mode: pick(sessionModes),
    sessionId: fc.option(sessionRef(3), { nil: undefined }),
  }),
  AssessmentRecorded: fc.oneof(
    { arbitrary: fc.record({ instrument: pick(['phq9', 'PHQ-9']), responses: phq9Responses }), weight: 4 },
    fc.record({
      instrument: fc.constant('gad7'),
      responses: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 7, maxLength: 7 }),
    }),
    fc.record({ instrument: fc.constant('bdi2'), responses: fc.constant([1, 2]) }),
  ),
  MedicalFollowUpCompleted: fc.record({ continueTreatment: fc.boolean() }),
  RefillIssued: fc.record({ dosesAuthorized: fc.integer({ min: 1, max: 4 }) }),
  SafetyFlagReviewed: fc.record({
    assessmentEventId: fc.oneof(
      { arbitrary: fc.constant('@last-assessment'), weight: 4 },
      fc.constant('nope'),
    ),
    rule: fc.oneof({ arbitrary: fc.constant('phq9-item9-positive'), weight: 4 }, fc.constant('no-such-rule')),
    outcome: pick(['no-current-risk', 'safety-plan', 'escalated']),
  }),
  EpisodePaused: fc.record({ reason: pick(pauseReasons) }),
  EpisodeResumed: fc.constant({}),
  EpisodeCompleted: fc.constant({}),
  EpisodeDiscontinued: fc.record({ reason: pick(discontinuationReasons) }),
};

/** Mostly null; now and then a way to make the event fail its schema. */
const corruption = (validWeight: number): fc.Arbitrary<Corruption | null> =>
  fc.oneof(
    { arbitrary: fc.constant(null), weight: validWeight },
    pick<Corruption>(['drop-at', 'bad-at', 'bad-version', 'bad-type', 'drop-payload', 'bad-number']),
  );

/**
 * A command for `type`. `noise` scales how often the envelope is wrong (an earlier timestamp, a reused id,
 * another episode, a schema error): 1 for anything, lower for the steps of the seed's story.
 */
function command(
  type: EventType,
  payload: fc.Arbitrary<Record<string, unknown>> = payloads[type],
  noise = 1,
) {
  const rarely = (weight: number) => Math.round(weight / noise);
  return fc.record<Command>({
    type: fc.constant(type),
    payload,
    dt: fc.oneof(
      { arbitrary: fc.integer({ min: 0, max: 3 * 1440 }), weight: rarely(60) },
      // A long gap now and then (follow-ups fall due, critical-period chains break).
      { arbitrary: fc.integer({ min: 10 * 1440, max: 40 * 1440 }), weight: rarely(3) },
      fc.integer({ min: -600, max: -1 }),
    ),
    dupId: fc.oneof({ arbitrary: fc.constant(null), weight: rarely(80) }, fc.nat({ max: 50 })),
    foreign: fc.oneof(
      { arbitrary: fc.constant(null), weight: rarely(100) },
      pick(['episode', 'patient'] as const),
    ),
    corrupt: corruption(rarely(60)),
    offset: fc.constantFrom('Z', '-05:00', '+05:30'),
  });
}

/** A command of the seed's story: a valid payload most of the time and little envelope noise. */
const storyCommand = (type: EventType, payload?: fc.Arbitrary<Record<string, unknown>>) =>
  command(type, payload, 0.25);
const mostly = <T, U>(value: T, otherwise: fc.Arbitrary<U>) =>
  fc.oneof({ arbitrary: fc.constant(value), weight: 19 }, otherwise);

/** Any of the 24 event types, uniformly. */
const anyCommand = fc.constantFrom(...eventTypes).chain((type) => command(type));

/** One dosing session as the seed describes it, each step dropped now and then. */
const dosingCycle = fc
  .tuple(
    storyCommand('DosingSessionScheduled'),
    storyCommand('VitalsRecorded', vitals(fc.constant('pre'))),
    storyCommand('DoseAdministered', dosePayload(pick(['full', 'half']))),
    oneIn(4, command('DoseAdministered', dosePayload(fc.constant('booster')))),
    storyCommand('VitalsRecorded', vitals(fc.constant('post'))),
    storyCommand('DosingSessionCompleted'),
    fc.array(storyCommand('IntegrationSessionCompleted'), { maxLength: 2 }),
    fc.array(fc.integer({ min: 0, max: 14 }), { minLength: 6, maxLength: 6 }),
  )
  .map(([schedule, pre, dose, booster, post, done, integrations, keep]) =>
    [schedule, pre, dose, booster, post, done, ...integrations].filter(
      (c, i): c is Command => c !== undefined && (i >= 6 || keep[i]! > 0),
    ),
  );

/** The seed's story up to the first dose, each step kept with probability 0.95. */
const preamble = fc
  .tuple(
    storyCommand('EpisodeOpened'),
    storyCommand(
      'FitAssessed',
      fc.record({ outcome: mostly('good-fit', pick(['not-a-fit', 'needs-more-discussion'])) }),
    ),
    storyCommand('MedicalEvaluationScheduled'),
    storyCommand(
      'MedicalEvaluationCompleted',
      mostly({ eligible: true }, payloads.MedicalEvaluationCompleted),
    ),
    storyCommand('TreatmentPlanCreated'),
    storyCommand(
      'PrescriptionIssued',
      payloads.PrescriptionIssued.map((p) => ({
        ...p,
        dosesAuthorized: Math.max(2, p.dosesAuthorized as number),
      })),
    ),
    storyCommand('MedicationDelivered', mostly({ doses: 2 }, payloads.MedicationDelivered)),
    storyCommand(
      'SelfAdministrationTrained',
      mostly({ vitalsTrained: true, selfAdministrationTrained: true }, payloads.SelfAdministrationTrained),
    ),
    storyCommand('AssessmentRecorded'),
    storyCommand('PreparationSessionCompleted'),
    fc.array(fc.integer({ min: 0, max: 19 }), { minLength: 10, maxLength: 10 }),
  )
  .map((xs) => {
    const keep = xs[10] as number[];
    return (xs.slice(0, 10) as Command[]).filter((_, i) => keep[i]! > 0);
  });

/** Follow-up, refill and delivery, as the medical team does between sessions. */
const resupply = fc
  .tuple(
    storyCommand('MedicalFollowUpCompleted'),
    storyCommand('RefillIssued'),
    storyCommand('MedicationDelivered', mostly({ doses: 2 }, payloads.MedicationDelivered)),
  )
  .map((xs) => [...xs]);

const tail = fc
  .array(
    fc.oneof(
      { arbitrary: anyCommand.map((c) => [c]), weight: 5 },
      { arbitrary: dosingCycle, weight: 4 },
      { arbitrary: resupply, weight: 1 },
    ),
    { maxLength: 12 },
  )
  .map((groups) => groups.flat());

/**
 * A random episode log: mostly the seed's order with omissions up to a first dosing session, then anything. Unbiased: fast-check's bias
 * towards small values would turn the "keep this step" draws and the weighted choices into coin flips.
 */
const commands = fc.noBias(fc.tuple(preamble, dosingCycle, tail).map(([a, b, c]) => [...a, ...b, ...c]));

// ---------------------------------------------------------------------------------------------------------
// Turning commands into events while folding.

function isoIn(ms: number, offset: Command['offset']): string {
  const minutes = offset === 'Z' ? 0 : offset === '-05:00' ? -300 : 330;
  const local = new Date(ms + minutes * MINUTE).toISOString().slice(0, 19);
  return `${local}${offset}`;
}

interface FoldState {
  state: EpisodeState;
  clock: number;
  accepted: unknown[];
  acceptedEvents: EpisodeEvent[];
}

/** The raw event for a command, given what was accepted so far. */
function materialize(cmd: Command, index: number, f: FoldState): unknown {
  f.clock += cmd.dt * MINUTE;
  const ledger = f.acceptedEvents;
  const scheduled = ledger.filter((e) => e.type === 'DosingSessionScheduled');
  const current = scheduled[scheduled.length - 1]?.sessionId ?? 's-none';
  const resolve = (v: unknown) => (v === '@current' ? current : v === '@new' ? `sess-${index}` : v);
  const payload: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(cmd.payload)) {
    if (v === undefined) continue;
    if (k === 'sessionId') payload[k] = resolve(v);
    else if (k === 'assessmentEventId' && v === '@last-assessment')
      payload[k] = [...ledger].reverse().find((e) => e.type === 'AssessmentRecorded')?.id ?? 'none';
    else payload[k] = v;
  }
  const id = cmd.dupId !== null && ledger.length > 0 ? ledger[cmd.dupId % ledger.length]!.id : `ev-${index}`;
  const event: Record<string, unknown> = {
    id,
    episodeId: cmd.foreign === 'episode' ? 'ep-other' : EPISODE,
    patientId: cmd.foreign === 'patient' ? 'pt-other' : PATIENT,
    type: cmd.type,
    at: isoIn(f.clock, cmd.offset),
    v: 1,
    synthetic: true,
    ...payload,
  };
  switch (cmd.corrupt) {
    case 'drop-at':
      delete event.at;
      break;
    case 'bad-at':
      event.at = '2026-03-02 10:00';
      break;
    case 'bad-version':
      event.v = 2;
      break;
    case 'bad-type':
      event.type = 'DoseTaken';
      break;
    case 'drop-payload': {
      const key = Object.keys(payload)[0];
      if (key) delete event[key];
      else event.id = '';
      break;
    }
    case 'bad-number': {
      const key = Object.keys(payload).find((k) => typeof payload[k] === 'number');
      if (key) event[key] = -1;
      else event.v = '1';
      break;
    }
    default:
      break;
  }
  return event;
}

// ---------------------------------------------------------------------------------------------------------
// The ledger: what the accepted events themselves say, without looking at the episode context.

const DAY = 86_400_000;

/** The entries of `o` whose value is defined (as the policy resolver treats overrides). */
function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

interface SessionFacts {
  doses: number;
  lastPre: { systolic: number; diastolic: number } | null;
  post: boolean;
  /** Booking does not start a session; its first pre-dose vitals or dose do. */
  started: boolean;
  ended: boolean;
}

class Ledger {
  policy: EpisodePolicy = defaultPolicy;
  opened = false;
  /** The episode and patient the accepted EpisodeOpened named. */
  episode: { id: string; patient: string } | null = null;
  closed: EpisodeEvent | null = null;
  eligible = false;
  plan = false;
  prescription = false;
  authorized = 0;
  delivered = 0;
  used = 0;
  trained = false;
  preparations = 0;
  dosedSessions = 0;
  integrationsSinceDose = 0;
  followUpSinceAuthorization = false;
  current: string | null = null;
  sessions = new Map<string, SessionFacts>();
  assessments = new Map<string, EventOf<'AssessmentRecorded'>>();
  lastAtMs = Number.NEGATIVE_INFINITY;
  firstDoseMs: number | null = null;
  lastFollowUpMs: number | null = null;
  ids = new Set<string>();

  /** Throws, with the reason, when an accepted event breaks an invariant. */
  check(e: EpisodeEvent): void {
    const fail = (why: string): never => {
      throw new Error(`accepted ${e.type} ${e.id}: ${why}`);
    };
    if (this.closed) fail(`after ${this.closed.type}`);
    if (!this.opened && e.type !== 'EpisodeOpened') fail('before EpisodeOpened');
    if (this.opened && e.type === 'EpisodeOpened') fail('a second EpisodeOpened');
    if (this.episode && (e.episodeId !== this.episode.id || e.patientId !== this.episode.patient))
      fail('for another episode or patient than the one opened');
    if (this.ids.has(e.id)) fail('duplicate id');
    if (Date.parse(e.at) < this.lastAtMs) fail('out of order');
    const session = this.current === null ? undefined : this.sessions.get(this.current);
    /** The session an in-session event may refer to: the one in progress, else a booked one not yet started. */
    const target = (id: string): SessionFacts | undefined => {
      if (this.current !== null) return id === this.current ? session : undefined;
      const booked = this.sessions.get(id);
      return booked && !booked.started && !booked.ended ? booked : undefined;
    };
    switch (e.type) {
      case 'DoseAdministered': {
        if (!target(e.sessionId)) fail('not in the session in progress or a booked one');
        const s = target(e.sessionId)!;
        if (this.delivered - this.used < unitsOf(e))
          fail(`${this.delivered - this.used} on hand < ${unitsOf(e)} used`);
        if (e.kind === 'booster') {
          if (s.doses === 0) fail('booster without a dose in the session');
          break;
        }
        if (s.doses > 0) fail('a second non-booster dose in one session');
        if (!this.eligible) fail('without eligibility');
        if (!this.plan) fail('without a treatment plan');
        if (!this.prescription) fail('without a prescription');
        if (!this.trained) fail('without training');
        if (this.dosedSessions === 0 && this.preparations === 0)
          fail('first dose without a preparation session');
        if (
          this.dosedSessions > 0 &&
          this.integrationsSinceDose < this.policy.minIntegrationSessionsBetweenDoses
        )
          fail('without the integration sessions the policy requires');
        if (!s.lastPre) fail('without pre-dose vitals');
        const aboveHold =
          s.lastPre!.systolic > this.policy.holdSystolicAbove ||
          s.lastPre!.diastolic > this.policy.holdDiastolicAbove;
        if (aboveHold && !e.vitalsOverride) fail('pre-dose vitals above the hold threshold, no override');
        if (this.policy.refuseDoseWhenFollowUpOverdue && this.firstDoseMs !== null) {
          const due =
            Math.max(this.firstDoseMs, this.lastFollowUpMs ?? 0) + this.policy.followUpIntervalDays * DAY;
          if (Date.parse(e.at) > due)
            fail('while the follow-up is overdue and the policy refuses doses then');
        }
        break;
      }
      case 'VitalsRecorded':
        if (!target(e.sessionId)) fail('not in the session in progress or a booked one');
        if (e.phase !== 'pre' && target(e.sessionId)!.doses === 0) fail(`${e.phase} vitals before a dose`);
        break;
      case 'DosingSessionScheduled':
        if (this.sessions.has(e.sessionId)) fail('duplicate session id');
        if (!this.eligible) fail('without eligibility');
        break;
      case 'DosingSessionCompleted':
        if (!session || e.sessionId !== this.current) fail('not in the session in progress');
        if (session!.doses === 0) fail('without a dose');
        if (!session!.post) fail('without post-dose vitals');
        break;
      case 'DosingSessionAborted':
        if (!target(e.sessionId)) fail('not in the session in progress or a booked one');
        break;
      case 'MedicationDelivered':
        if (!this.prescription) fail('without a prescription');
        break;
      case 'RefillIssued':
        if (!this.followUpSinceAuthorization) fail('without a follow-up since the last authorisation');
        break;
      case 'IntegrationSessionCompleted':
        if (this.dosedSessions === 0) fail('before any dose');
        break;
      case 'EpisodeCompleted':
        if (this.dosedSessions === 0) fail('without any dose');
        if (session) fail('during a dosing session');
        break;
      case 'SafetyFlagReviewed': {
        const a = this.assessments.get(e.assessmentEventId);
        const item9 = a?.responses[8];
        const phq9 = a !== undefined && a.instrument.toLowerCase().replace(/-/g, '') === 'phq9';
        if (!phq9 || item9 === 0 || e.rule !== 'phq9-item9-positive') fail('no such safety flag');
        break;
      }
      default:
        break;
    }
  }

  apply(e: EpisodeEvent): void {
    this.ids.add(e.id);
    this.lastAtMs = Date.parse(e.at);
    const session = this.current === null ? undefined : this.sessions.get(this.current);
    switch (e.type) {
      case 'EpisodeOpened':
        this.opened = true;
        this.episode = { id: e.episodeId, patient: e.patientId };
        this.policy = { ...defaultPolicy, ...defined(e.policy ?? {}) };
        break;
      case 'MedicalEvaluationCompleted':
        this.eligible = e.eligible;
        break;
      case 'TreatmentPlanCreated':
        this.plan = true;
        this.policy = {
          ...this.policy,
          ...defined({
            criticalPeriodDays: e.criticalPeriodDays,
            followUpIntervalDays: e.followUpIntervalDays,
          }),
        };
        break;
      case 'PrescriptionIssued':
        this.prescription = true;
        this.authorized += e.dosesAuthorized;
        this.followUpSinceAuthorization = false;
        break;
      case 'RefillIssued':
        this.authorized += e.dosesAuthorized;
        this.followUpSinceAuthorization = false;
        break;
      case 'MedicalFollowUpCompleted':
        this.followUpSinceAuthorization = true;
        this.lastFollowUpMs = Math.max(this.lastFollowUpMs ?? Number.NEGATIVE_INFINITY, Date.parse(e.at));
        break;
      case 'MedicationDelivered':
        this.delivered += e.doses;
        break;
      case 'SelfAdministrationTrained':
        this.trained ||= e.vitalsTrained && e.selfAdministrationTrained;
        break;
      case 'PreparationSessionCompleted':
        this.preparations++;
        break;
      case 'IntegrationSessionCompleted':
        this.integrationsSinceDose++;
        break;
      case 'DosingSessionScheduled':
        this.sessions.set(e.sessionId, {
          doses: 0,
          lastPre: null,
          post: false,
          started: false,
          ended: false,
        });
        break;
      case 'VitalsRecorded': {
        const s = this.sessions.get(e.sessionId)!;
        this.current = e.sessionId;
        s.started = true;
        if (e.phase === 'pre') s.lastPre = { systolic: e.systolic, diastolic: e.diastolic };
        if (e.phase === 'post') s.post = true;
        break;
      }
      case 'DoseAdministered': {
        const s = this.sessions.get(e.sessionId)!;
        this.current = e.sessionId;
        s.started = true;
        if (s.doses === 0) {
          this.firstDoseMs ??= Date.parse(e.at);
          this.dosedSessions++;
          this.integrationsSinceDose = 0;
        }
        s.doses++;
        this.used += unitsOf(e);
        break;
      }
      case 'DosingSessionCompleted':
      case 'DosingSessionAborted':
        if (this.current === e.sessionId) this.current = null;
        this.sessions.get(e.sessionId)!.ended = true;
        break;
      case 'AssessmentRecorded':
        this.assessments.set(e.id, e);
        break;
      case 'EpisodeCompleted':
      case 'EpisodeDiscontinued':
        this.closed = e;
        break;
      default:
        break;
    }
  }

  /** Totals that hold after every accepted event. */
  checkTotals(): void {
    if (!(this.used <= this.delivered && this.delivered <= this.authorized)) {
      throw new Error(
        `units used ${this.used} ≤ delivered ${this.delivered} ≤ authorised ${this.authorized} broken`,
      );
    }
  }
}

interface Run {
  readonly fold: FoldState;
  readonly ledger: Ledger;
  /** Refusal codes, in order. */
  readonly refusals: string[];
}

/** Fold commands with decide, checking every decision against the ledger. Throws on a broken invariant. */
function run(cmds: readonly Command[]): Run {
  const fold: FoldState = { state: initialEpisodeState, clock: T0, accepted: [], acceptedEvents: [] };
  const ledger = new Ledger();
  const refusals: string[] = [];
  cmds.forEach((cmd, i) => {
    const input = materialize(cmd, i, fold);
    const before = fold.state;
    const d = decide(before, input); // must never throw
    if (d.ok) {
      ledger.check(d.event);
      ledger.apply(d.event);
      ledger.checkTotals();
      fold.state = d.state;
      fold.accepted.push(input);
      fold.acceptedEvents.push(d.event);
    } else {
      refusals.push(d.refusal.code);
      if (!Object.hasOwn(refusalCodes, d.refusal.code))
        throw new Error(`unknown refusal code ${d.refusal.code}`);
      if (typeof d.refusal.message !== 'string' || d.refusal.message.trim() === '')
        throw new Error(`empty refusal message for ${d.refusal.code}`);
      if (d.state !== before) throw new Error(`refusal ${d.refusal.code} changed the state`);
      if (d.refusal.event !== input && d.refusal.code === 'invalid-event')
        throw new Error('an invalid-event refusal does not carry the input');
    }
  });
  return { fold, ledger, refusals };
}

/** The context agrees with the ledger on the totals. */
function contextMatchesLedger(r: Run) {
  const c = r.fold.state.context;
  expect(c.unitsUsed).toBe(r.ledger.used);
  expect(c.dosesDelivered).toBe(r.ledger.delivered);
  expect(c.dosesAuthorized).toBe(r.ledger.authorized);
  expect(c.sessions.filter((s) => s.doseNumber !== null)).toHaveLength(r.ledger.dosedSessions);
  expect(c.eventIds).toEqual(r.fold.acceptedEvents.map((e) => e.id));
  expect(c.closed?.kind ?? null).toBe(
    r.ledger.closed === null
      ? null
      : r.ledger.closed.type === 'EpisodeCompleted'
        ? 'completed'
        : 'discontinued',
  );
}

const RUNS = { numRuns: 150 } as const;

describe('random episode logs folded with decide', () => {
  it('never throw, and every accepted event keeps the invariants the accepted events themselves imply', () => {
    fc.assert(
      fc.property(commands, (cmds) => {
        const r = run(cmds);
        contextMatchesLedger(r);
      }),
      RUNS,
    );
  }, 30_000);

  it('reach the interesting states often enough to mean something', () => {
    // Not a property: a guard against a generator that stopped producing accepted doses.
    let dosed = 0;
    let boosters = 0;
    let closed = 0;
    let secondDoses = 0;
    const codes = new Set<string>();
    for (const cmds of fc.sample(commands, { numRuns: 150, seed: 42 })) {
      const r = run(cmds);
      for (const c of r.refusals) codes.add(c);
      const doses = r.fold.acceptedEvents.filter((e) => e.type === 'DoseAdministered');
      if (doses.length > 0) dosed++;
      if (doses.some((e) => e.type === 'DoseAdministered' && e.kind === 'booster')) boosters++;
      if (r.ledger.dosedSessions >= 2) secondDoses++;
      if (r.ledger.closed) closed++;
    }
    expect(dosed).toBeGreaterThan(40);
    expect(secondDoses).toBeGreaterThan(10);
    expect(boosters).toBeGreaterThan(3);
    expect(closed).toBeGreaterThan(5);
    // Refusals of the envelope and of the policy, which the model-based test's samples do not produce.
    for (const code of [
      'invalid-event',
      'wrong-episode',
      'wrong-patient',
      'duplicate-event-id',
      'out-of-order',
      'episode-not-opened',
      'episode-closed',
      'episode-paused',
      'vitals-hold',
      'no-medication-on-hand',
      'integration-required',
      'invalid-assessment',
      'follow-up-overdue',
    ]) {
      expect(codes, code).toContain(code);
    }
  }, 30_000);

  it('are deterministic: replaying the accepted events reproduces the same context and state', () => {
    fc.assert(
      fc.property(commands, (cmds) => {
        const r = run(cmds);
        const again = replay(r.fold.accepted);
        expect(again.refusals).toEqual([]);
        expect(again.accepted).toBe(r.fold.accepted.length);
        expect(again.state.value).toEqual(r.fold.state.value);
        expect(again.state.context).toEqual(r.fold.state.context);
      }),
      { numRuns: 60 },
    );
  }, 30_000);

  it('persist → JSON → restore gives the same context and value, and the same next decisions', () => {
    fc.assert(
      fc.property(commands, fc.array(anyCommand, { minLength: 1, maxLength: 4 }), (cmds, next) => {
        const r = run(cmds);
        // An episode without any accepted event is covered by the failing test below (lastEventMs: -Infinity).
        fc.pre(r.fold.accepted.length > 0);
        const restored = restoreEpisode(JSON.parse(JSON.stringify(persistEpisode(r.fold.state))));
        expect(restored.value).toEqual(r.fold.state.value);
        expect(restored.context).toEqual(r.fold.state.context);
        // The restored episode goes on exactly like the original (history states included).
        let a = r.fold.state;
        let b = restored;
        const f: FoldState = {
          ...r.fold,
          accepted: [...r.fold.accepted],
          acceptedEvents: [...r.fold.acceptedEvents],
        };
        next.forEach((cmd, i) => {
          const input = materialize(cmd, cmds.length + i, f);
          const da = decide(a, input);
          const db = decide(b, input);
          expect(db.ok).toBe(da.ok);
          if (da.ok && db.ok) {
            expect(db.state.value).toEqual(da.state.value);
            expect(db.state.context).toEqual(da.state.context);
            f.acceptedEvents.push(da.event);
          } else if (!da.ok && !db.ok) {
            expect(db.refusal.code).toBe(da.refusal.code);
          }
          a = da.state;
          b = db.state;
        });
      }),
      { numRuns: 60 },
    );
  }, 30_000);

  it('give a status at any later time without throwing, consistent with the ledger', () => {
    fc.assert(
      fc.property(commands, fc.integer({ min: 0, max: 200 * 1440 }), (cmds, later) => {
        const r = run(cmds);
        const asOf = new Date(Math.max(r.ledger.lastAtMs, T0) + later * MINUTE).toISOString();
        const s = statusAt(r.fold.state, asOf);
        expect(s.dosesGiven).toBe(r.ledger.dosedSessions);
        expect(s.dosesOnHand).toBe(r.ledger.delivered - r.ledger.used);
        expect(s.criticalPeriods.analysis.windows).toHaveLength(r.ledger.dosedSessions);
        for (const a of s.alerts) expect(a.message.length).toBeGreaterThan(0);
      }),
      { numRuns: 60 },
    );
  }, 30_000);

  it('refuse anything that is not an event with invalid-event, without throwing', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          fc.record({
            type: pick([...eventTypes, 'Bogus']),
            instrument: fc.string(),
            responses: fc.anything(),
          }),
        ),
        (junk) => {
          const d = decide(initialEpisodeState, junk);
          expect(d.ok).toBe(false);
          if (!d.ok) expect(d.refusal.code).toBe('invalid-event');
        },
      ),
      { numRuns: 200 },
    );
  }, 30_000);
});

describe('persistence of an episode before its first event (bug in src: this test fails until it is fixed)', () => {
  it('restores an unopened episode with the context it had', () => {
    const restored = restoreEpisode(JSON.parse(JSON.stringify(persistEpisode(initialEpisodeState))));
    // Today: lastEventMs is Number.NEGATIVE_INFINITY in emptyContext(), which JSON turns into null, although
    // EpisodeContext is documented as plain JSON that persists as it is.
    expect(restored.context).toEqual(initialEpisodeState.context);
    // The consequence: the restored episode refuses a first event dated before 1970 as out of order
    // ("earlier than the last accepted event (null)"), which the fresh episode accepts.
    const opened = {
      id: 'e1',
      episodeId: 'ep-1969',
      patientId: 'pt-synthetic',
      type: 'EpisodeOpened',
      at: '1969-12-31T12:00:00Z',
      v: 1,
      synthetic: true,
    };
    expect(decide(initialEpisodeState, opened).ok).toBe(true);
    expect(decide(restored, opened).ok).toBe(true);
  });
});
