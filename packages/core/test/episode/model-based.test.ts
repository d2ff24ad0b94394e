import { describe, expect, it } from 'vitest';
import { type AnyStateNode, getNextTransitions, transition } from 'xstate';
import { getShortestPaths, getSimplePaths, type StatePath } from 'xstate/graph';
import {
  bookedSession,
  type DosingSessionRecord,
  dosedSessions,
  dosesOnHand,
  type EpisodeContext,
} from '../../src/episode/context.js';
import { decide, type EpisodeState, initialEpisodeState, phaseOf, replay } from '../../src/episode/decide.js';
import {
  type EpisodeEvent,
  type EventType,
  episodeEventSchema,
  eventTypes,
} from '../../src/episode/events.js';
import { episodeMachine } from '../../src/episode/machine.js';
import { refusalCodes } from '../../src/episode/rules.js';
import { Story } from './story.js';

/*
 * Model-based tests: traverse the episode machine with `xstate/graph`, using a bounded set of concrete sample
 * events and an abstraction of the snapshot (`abstractKey`) that keeps exactly what the machine's guards read,
 * so the graph is finite and a path found in it is a real path of the machine. Then replay every shortest path
 * through the public `decide` (fresh ids, increasing timestamps) and check, at every vertex, that `decide`
 * accepts exactly the sample events the machine accepts. The transitions the traversal explored are kept as
 * edges between abstract states, so that the facts of booking, starting and cancelling dosing sessions can be
 * checked on every one of them.
 */

type Snapshot = EpisodeState;
type Path = StatePath<Snapshot, EpisodeEvent>;

/** Bounds that keep the graph finite (see `withinBounds`). */
const MAX_SESSIONS = 2;
const MAX_ON_HAND = 2;
const MAX_AUTHORIZED_LEFT = 2;

const FLAG_ASSESSMENT_ID = 'g-assessment-flag';
const ENVELOPE = {
  episodeId: 'ep-mb',
  patientId: 'pt-mb-synthetic',
  at: '2026-03-02T10:00:00Z',
  v: 1,
  synthetic: true,
} as const;

/** A sample event, parsed by the event schema (so defaults are filled in, as `decide` would). */
function sample(id: string, type: EventType, payload: Record<string, unknown> = {}): EpisodeEvent {
  return episodeEventSchema.parse({ ...ENVELOPE, id, type, ...payload }) as EpisodeEvent;
}

const dose = (sessionId: string, kind: string, extra: Record<string, unknown> = {}) => ({
  sessionId,
  kind,
  doseMg: 300,
  route: 'sublingual',
  formulation: 'sublingual-lozenge',
  ...extra,
});

/** Samples that do not depend on the episode's sessions: valid ones and a few the rules refuse. */
const fixedSamples: readonly EpisodeEvent[] = [
  sample('g-open', 'EpisodeOpened', { referral: 'therapist' }),
  sample('g-fit-good', 'FitAssessed', { outcome: 'good-fit' }),
  sample('g-fit-not', 'FitAssessed', { outcome: 'not-a-fit' }),
  sample('g-fit-more', 'FitAssessed', { outcome: 'needs-more-discussion' }),
  sample('g-eval-scheduled', 'MedicalEvaluationScheduled', {
    scheduledFor: '2026-03-09T10:00:00Z',
    mode: 'telehealth',
  }),
  sample('g-eval-eligible', 'MedicalEvaluationCompleted', { eligible: true }),
  sample('g-eval-ineligible', 'MedicalEvaluationCompleted', {
    eligible: false,
    contraindications: ['uncontrolled-hypertension'],
  }),
  sample('g-plan', 'TreatmentPlanCreated', {
    plannedDosingSessions: 6,
    monitoring: { measures: [{ instrument: 'phq9', everyDays: 28 }] },
  }),
  sample('g-rx', 'PrescriptionIssued', {
    medication: 'ketamine',
    route: 'sublingual',
    formulation: 'sublingual-lozenge',
    doseMg: 300,
    dosesAuthorized: 2,
  }),
  sample('g-delivered-2', 'MedicationDelivered', { doses: 2 }),
  sample('g-delivered-1', 'MedicationDelivered', { doses: 1 }),
  sample('g-trained', 'SelfAdministrationTrained', { vitalsTrained: true, selfAdministrationTrained: true }),
  sample('g-half-trained', 'SelfAdministrationTrained', {
    vitalsTrained: true,
    selfAdministrationTrained: false,
  }),
  sample('g-prep', 'PreparationSessionCompleted', { mode: 'in-person', intentionsSet: true }),
  sample('g-follow-up', 'MedicalFollowUpCompleted', { continueTreatment: true }),
  sample('g-refill', 'RefillIssued', { dosesAuthorized: 2 }),
  sample('g-assessment', 'AssessmentRecorded', {
    instrument: 'phq9',
    responses: [1, 1, 1, 1, 1, 1, 1, 1, 0],
  }),
  sample(FLAG_ASSESSMENT_ID, 'AssessmentRecorded', {
    instrument: 'PHQ-9',
    responses: [1, 1, 1, 1, 1, 1, 1, 1, 2],
  }),
  sample('g-assessment-invalid', 'AssessmentRecorded', {
    instrument: 'phq9',
    responses: [7, 1, 1, 1, 1, 1, 1, 1, 0],
  }),
  sample('g-assessment-unknown', 'AssessmentRecorded', { instrument: 'bdi2', responses: [1] }),
  sample('g-flag-reviewed', 'SafetyFlagReviewed', {
    assessmentEventId: FLAG_ASSESSMENT_ID,
    rule: 'phq9-item9-positive',
    outcome: 'no-current-risk',
  }),
  sample('g-adverse', 'AdverseEventReported', { code: 'nausea', severity: 'mild' }),
  sample('g-adverse-unknown', 'AdverseEventReported', {
    sessionId: 'no-such-session',
    code: 'headache',
    severity: 'mild',
  }),
  sample('g-paused', 'EpisodePaused', { reason: 'scheduling' }),
  sample('g-resumed', 'EpisodeResumed'),
  sample('g-completed', 'EpisodeCompleted'),
  sample('g-discontinued', 'EpisodeDiscontinued', { reason: 'patient-choice' }),
];

const sessionId = (n: number) => `s${n}`;
const NO_SUCH_SESSION = 'no-such-session';

/** Samples naming the booked (or in-progress, or ended) session `id`, with ids unique to that session. */
function samplesOfSession(id: string): EpisodeEvent[] {
  const g = (name: string) => `g-${name}-${id}`;
  return [
    sample(g('schedule-duplicate'), 'DosingSessionScheduled', {
      sessionId: id,
      scheduledFor: '2026-03-16T10:00:00Z',
      mode: 'telehealth',
    }),
    sample(g('vitals-pre'), 'VitalsRecorded', { sessionId: id, phase: 'pre', systolic: 122, diastolic: 78 }),
    sample(g('vitals-pre-at-threshold'), 'VitalsRecorded', {
      sessionId: id,
      phase: 'pre',
      systolic: 140,
      diastolic: 90,
    }),
    sample(g('vitals-pre-hold'), 'VitalsRecorded', {
      sessionId: id,
      phase: 'pre',
      systolic: 150,
      diastolic: 95,
    }),
    sample(g('vitals-during'), 'VitalsRecorded', {
      sessionId: id,
      phase: 'during',
      systolic: 135,
      diastolic: 85,
    }),
    sample(g('vitals-post'), 'VitalsRecorded', {
      sessionId: id,
      phase: 'post',
      systolic: 128,
      diastolic: 80,
    }),
    // Full: 1 unit of supply by default; half and booster: 0.5 by default.
    sample(g('dose-full'), 'DoseAdministered', dose(id, 'full')),
    sample(g('dose-half'), 'DoseAdministered', dose(id, 'half', { doseMg: 150 })),
    sample(
      g('dose-override'),
      'DoseAdministered',
      dose(id, 'full', { vitalsOverride: { clinicianRole: 'medical', reason: 'repeat 138/88 by phone' } }),
    ),
    sample(g('dose-two-units'), 'DoseAdministered', dose(id, 'full', { unitsUsed: 2 })),
    sample(g('booster'), 'DoseAdministered', dose(id, 'booster', { doseMg: 100 })),
    sample(g('session-completed'), 'DosingSessionCompleted', { sessionId: id, durationMinutes: 120 }),
    sample(g('session-aborted'), 'DosingSessionAborted', { sessionId: id, reason: 'vitals-hold' }),
    sample(g('integration'), 'IntegrationSessionCompleted', { mode: 'telehealth', sessionId: id }),
    sample(g('adverse-in-session'), 'AdverseEventReported', {
      sessionId: id,
      code: 'elevated-blood-pressure',
      severity: 'moderate',
    }),
  ];
}

/**
 * Samples for an episode with `sessions` dosing sessions booked so far (s1, s2, … in booking order): booking the
 * next one, the in-session events for each of them, and in-session events naming a session never booked.
 */
function sessionSamples(sessions: number): EpisodeEvent[] {
  const out = [
    sample(`g-schedule-${sessionId(sessions + 1)}`, 'DosingSessionScheduled', {
      sessionId: sessionId(sessions + 1),
      scheduledFor: '2026-03-16T10:00:00Z',
      mode: 'in-person',
    }),
    sample('g-vitals-unknown-session', 'VitalsRecorded', {
      sessionId: NO_SUCH_SESSION,
      phase: 'pre',
      systolic: 120,
      diastolic: 80,
    }),
    sample('g-dose-unknown-session', 'DoseAdministered', dose(NO_SUCH_SESSION, 'full')),
    sample('g-session-completed-unknown', 'DosingSessionCompleted', { sessionId: NO_SUCH_SESSION }),
    sample('g-session-aborted-unknown', 'DosingSessionAborted', {
      sessionId: NO_SUCH_SESSION,
      reason: 'technical',
    }),
  ];
  for (let n = 1; n <= sessions; n++) out.push(...samplesOfSession(sessionId(n)));
  return out;
}

const samplesBySessions = new Map<number, readonly EpisodeEvent[]>();
/** Every sample event for a state. Depends only on the abstract key (the number of sessions). */
function samplesFor(s: Snapshot): readonly EpisodeEvent[] {
  const n = s.context.sessions.length;
  let out = samplesBySessions.get(n);
  if (!out) {
    out = [...fixedSamples, ...sessionSamples(n)];
    samplesBySessions.set(n, out);
  }
  return out;
}

/** Ids of the history value, only while paused (a stale history value elsewhere does not change behaviour). */
function pausedHistory(s: Snapshot): unknown {
  if (!s.matches('paused')) return undefined;
  const h = (s as unknown as { historyValue: Record<string, readonly { id: string }[]> }).historyValue;
  return Object.keys(h)
    .sort()
    .map((k) => [k, (h[k] ?? []).map((n) => n.id)]);
}

/**
 * A dosing session as the rules see it: booked and not started (an event may start or cancel it), in progress
 * (before its dose the rules read its pre-dose vitals; after it, post-dose vitals), or ended (completed or
 * aborted: only its id still matters).
 */
type SessionKey = 'booked' | 'ended' | { pre: boolean; hold: boolean } | { dosed: true; post: boolean };

function sessionKey(c: EpisodeContext, s: DosingSessionRecord): SessionKey {
  if (s.sessionId === c.currentSessionId) {
    return s.doses.length === 0
      ? { pre: s.preVitals.length > 0, hold: s.preVitals[s.preVitals.length - 1]?.aboveHold ?? false }
      : { dosed: true, post: s.otherVitals.some((v) => v.phase === 'post') };
  }
  return bookedSession(c, s.sessionId) ? 'booked' : 'ended';
}

const inProgress = (k: SessionKey) => typeof k === 'object';

/**
 * The abstraction of a snapshot: its state value plus exactly the data the guards (`checkEvent`) read. Counters
 * are exact, not capped (the bounds are enforced by `withinBounds`), so two snapshots with the same key accept
 * the same sample events and move to snapshots with the same key: a shortest path of the abstract graph is a
 * path of the real machine. (xstate/graph keeps the last concrete snapshot seen for a key and the steps of the
 * first shortest path to it, so a coarser key would pair a path with a snapshot it does not lead to.)
 */
function abstractKey(s: Snapshot): string {
  let key = abstractKeys.get(s);
  if (key === undefined) {
    key = computeAbstractKey(s);
    abstractKeys.set(s, key);
  }
  return key;
}
const abstractKeys = new WeakMap<Snapshot, string>();

function computeAbstractKey(s: Snapshot): string {
  if (s.status === 'done') return JSON.stringify({ value: s.value });
  const c = s.context;
  const dosed = dosedSessions(c).length;
  return JSON.stringify({
    value: s.value,
    // While paused: where the episode resumes, which also says whether the patient was found eligible (the
    // guard of follow-ups, refills and deliveries while paused).
    history: pausedHistory(s),
    plan: c.plan !== null,
    prescription: c.prescription !== null,
    trained: c.trained,
    // Preparation sessions only matter before the first dose.
    preparations: dosed === 0 ? c.preparationSessions : undefined,
    onHand: dosesOnHand(c),
    authorizedLeft: c.dosesAuthorized - c.dosesDelivered,
    followUp: c.followUpSinceAuthorization,
    dosed,
    integrations: c.integrationsSinceLastDosing,
    flagged: c.safetyFlags.length > 0,
    // In booking order: s1, s2, …
    sessions: c.sessions.map((x) => sessionKey(c, x)),
  });
}

/** The parsed abstract key of a (not final) snapshot. */
interface AbstractState {
  readonly value: unknown;
  readonly sessions: readonly SessionKey[];
  readonly [field: string]: unknown;
}

const adminEvents = new Set<string>([
  'TreatmentPlanCreated',
  'PrescriptionIssued',
  'MedicationDelivered',
  'RefillIssued',
  'SelfAdministrationTrained',
  'MedicalFollowUpCompleted',
]);

/** Keeps every exact counter of `abstractKey` bounded: events that would push one past its bound are not explored. */
function withinBounds(s: Snapshot, e: EpisodeEvent): boolean {
  const c = s.context;
  const flagged = c.safetyFlags.length > 0;
  // The safety-flag branch is explored around the fit discussion only (it is orthogonal to the treatment).
  if (e.id === FLAG_ASSESSMENT_ID) return !flagged && s.matches({ open: 'fitDiscussion' });
  if (
    flagged &&
    ![
      'AssessmentRecorded',
      'SafetyFlagReviewed',
      'EpisodePaused',
      'EpisodeResumed',
      'EpisodeDiscontinued',
    ].includes(e.type)
  )
    return false;
  // Medication and plan bookkeeping is explored between sessions only (the machine also accepts it during a
  // session; the probes in the replay test check that decide agrees there too).
  if (adminEvents.has(e.type) && s.matches({ open: { treatment: 'dosingSession' } })) return false;
  const left = c.dosesAuthorized - c.dosesDelivered;
  switch (e.type) {
    case 'MedicationDelivered':
      // Deliveries of 2 doses only; the 1-dose sample is a probe.
      return e.doses === 2 && dosesOnHand(c) + e.doses <= MAX_ON_HAND;
    case 'PrescriptionIssued':
    case 'RefillIssued':
      return left + e.dosesAuthorized <= MAX_AUTHORIZED_LEFT;
    case 'PreparationSessionCompleted':
      return c.preparationSessions < 1;
    case 'IntegrationSessionCompleted':
      return c.integrationsSinceLastDosing < 1;
    case 'DosingSessionScheduled':
      // Booked once plan and prescription are in place (the probes check booking before that too).
      return c.sessions.length < MAX_SESSIONS && c.plan !== null && c.prescription !== null;
    default:
      return true;
  }
}

/** The event types a snapshot has transitions for (guards aside). */
const handledTypes = (s: Snapshot) => new Set(getNextTransitions(s).map((t) => t.eventType));

/**
 * Samples that are probed at every vertex but not explored: they are always refused, or lead back to the same
 * abstract state, or lead where another sample leads too (a test economy: the traversal is the slow part).
 */
const probeOnly =
  /^g-(assessment|assessment-invalid|assessment-unknown|half-trained|fit-more|delivered-1|adverse.*|.*-unknown(-session)?|schedule-duplicate-.*|vitals-pre-at-threshold-.*|dose-half-.*|dose-two-units-.*)$/;

/** An accepted transition of the traversal, between abstract states. */
interface Edge {
  readonly from: AbstractState;
  readonly fromWhere: string;
  readonly event: EpisodeEvent;
  readonly to: AbstractState;
  readonly toWhere: string;
}

/** Every transition the traversal explored, keyed by abstract source and sample: the accepted ones as edges. */
const explored = new Map<string, Edge | null>();

const traversal = {
  // Samples of types the state does not handle at all are self-loops: leave them out of the traversal (the
  // replay test still probes them).
  events: (s: Snapshot) => {
    const handled = handledTypes(s);
    return samplesFor(s).filter((e) => handled.has(e.type) && !probeOnly.test(e.id));
  },
  filterEvents: withinBounds,
  // xstate/graph serialises the target of every transition it explores, with the event and the source; the
  // first time it does so for a source and an event is while building the adjacency map, with the very snapshot
  // the transition was taken from (later, while finding shortest paths, the source may be another snapshot with
  // the same key). Record each such transition once, as an edge when the machine accepted the event.
  serializeState: (s: Snapshot, e: EpisodeEvent | undefined, prev: Snapshot | undefined) => {
    const key = abstractKey(s);
    if (e && prev) {
      const from = abstractKey(prev);
      const id = `${from}|${e.id}`;
      if (!explored.has(id)) {
        const accepted = s.context !== prev.context && s.status === 'active';
        explored.set(
          id,
          accepted
            ? {
                from: JSON.parse(from) as AbstractState,
                fromWhere: whereOf(prev),
                event: e,
                to: JSON.parse(key) as AbstractState,
                toWhere: whereOf(s),
              }
            : null,
        );
      }
    }
    return key;
  },
};

/** The events of a path (its first step is the `xstate.init` pseudo-step). */
const eventsOf = (p: Path) => p.steps.slice(1).map((s) => s.event);

/** A state value from a state node path, e.g. ['open', 'treatment'] → { open: 'treatment' }. */
function stateValueOf(path: readonly string[]): string | Record<string, unknown> {
  let value: string | Record<string, unknown> = path[path.length - 1]!;
  for (let i = path.length - 2; i >= 0; i--) value = { [path[i]!]: value };
  return value;
}

/** Every state node under `node` (not the root), except history pseudo-states. */
function stateNodes(node: AnyStateNode): AnyStateNode[] {
  return Object.values(node.states).flatMap((child) =>
    child.type === 'history' ? [] : [child, ...stateNodes(child)],
  );
}

/**
 * Where an episode is, for the per-phase checks: its phase, and for a paused episode whether the patient was
 * found eligible (follow-ups, refills and deliveries while paused depend on it).
 */
function whereOf(s: Snapshot): string {
  const phase = phaseOf(s);
  if (phase !== 'paused') return phase;
  return s.context.evaluation.eligible === true ? 'paused (eligible)' : 'paused (not eligible)';
}

/**
 * The part of an abstract state that decides what happens to sample `e`, read off `checkEvent` (a test
 * economy: the path replay checks every edge of the graph whatever this says), plus where the episode is (so
 * that every phase is probed with every sample). A type the state does not handle is refused whatever the
 * data; otherwise each rule reads only a few fields.
 */
function probeScope(
  s: Snapshot,
  where: string,
  k: AbstractState,
  e: EpisodeEvent,
  handled: ReadonlySet<string>,
) {
  const v = [s.value, where, k.history];
  if (!handled.has(e.type)) return v;
  // An in-session event reads the session it names, and whether another one is in progress.
  const i = sessionIndex(e);
  const named = [i >= 0 ? k.sessions[i] : null, k.sessions.some(inProgress)];
  switch (e.type) {
    case 'DosingSessionScheduled':
    case 'AdverseEventReported':
      return [...v, k.sessions];
    case 'VitalsRecorded':
    case 'DosingSessionCompleted':
    case 'DosingSessionAborted':
      return [...v, named];
    case 'DoseAdministered': {
      // The dose rules: the session, the supply on hand, plan, prescription and training, a preparation
      // before the first dose, an integration since the last one.
      const dosed = (k.dosed as number) > 0;
      return [
        ...v,
        named,
        k.onHand,
        k.plan,
        k.prescription,
        k.trained,
        dosed || (k.preparations as number) > 0,
        !dosed || (k.integrations as number) > 0,
      ];
    }
    case 'PrescriptionIssued':
      return [...v, k.plan];
    case 'MedicationDelivered':
      return [...v, k.prescription, k.authorizedLeft];
    case 'RefillIssued':
      return [...v, k.prescription, k.followUp];
    case 'SafetyFlagReviewed':
      return [...v, k.flagged];
    case 'IntegrationSessionCompleted':
      return [...v, k.sessions, k.dosed];
    case 'EpisodeCompleted':
      return [...v, k.dosed];
    default:
      return v;
  }
}

const T0 = Date.parse('2026-03-02T10:00:00Z');
const HOUR = 3_600_000;

/** Replays sample events through `decide` with fresh ids and increasing timestamps. */
class Replayer {
  constructor(
    readonly state: EpisodeState = initialEpisodeState,
    readonly depth = 0,
    /** Sample id → the fresh id it was replayed under (for SafetyFlagReviewed.assessmentEventId). */
    readonly ids: ReadonlyMap<string, string> = new Map(),
  ) {}

  /** The sample as `decide` sees it: fresh id, a timestamp after everything replayed so far. */
  fresh(e: EpisodeEvent, tag = ''): EpisodeEvent {
    const out = {
      ...e,
      id: `mb-${this.depth + 1}${tag}`,
      at: new Date(T0 + (this.depth + 1) * HOUR).toISOString(),
    } as EpisodeEvent;
    if (out.type === 'SafetyFlagReviewed') {
      return { ...out, assessmentEventId: this.ids.get(out.assessmentEventId) ?? out.assessmentEventId };
    }
    return out;
  }

  step(e: EpisodeEvent) {
    const input = this.fresh(e);
    const d = decide(this.state, input);
    const ids = new Map(this.ids).set(e.id, input.id);
    return { decision: d, next: d.ok ? new Replayer(d.state, this.depth + 1, ids) : undefined };
  }
}

/**
 * Replays paths through `decide`, memoising every prefix (paths share prefixes), so each edge is replayed once.
 * Throws, naming the step and the refusal, when decide refuses an event of a machine path.
 */
function createPathReplayer() {
  const replayed = new Map<string, Replayer>([['', new Replayer()]]);
  return (events: readonly EpisodeEvent[]): Replayer => {
    let prefix = '';
    let r = replayed.get('')!;
    for (const [i, e] of events.entries()) {
      const key = `${prefix}|${e.id}`;
      let next = replayed.get(key);
      if (!next) {
        const { decision, next: stepped } = r.step(e);
        if (!decision.ok) {
          throw new Error(
            `decide refused step ${i + 1} (${e.type}) of a machine path: ${decision.refusal.code}: ${decision.refusal.message}\n` +
              `path: ${events.map((x) => x.id).join(' → ')}`,
          );
        }
        next = stepped!;
        replayed.set(key, next);
      }
      prefix = key;
      r = next;
    }
    return r;
  };
}

/**
 * Replays every shortest path through decide (same abstract state, value and phase as the machine's), then, at
 * every vertex, probes every sample: decide must accept it exactly when the machine takes a transition for it,
 * reach the same abstract state when it does, and give a known refusal code and a message when it does not.
 * Throws on the first disagreement. Records what was accepted and refused where (`where:type`,
 * `where:type:code`). Memoised: several tests read its results.
 */
function replayAndProbe(paths: readonly Path[]) {
  const acceptedTypes = new Set<string>();
  const refusalsSeen = new Set<string>();
  const acceptedIn = new Set<string>();
  const refusedIn = new Set<string>();
  const replayPath = createPathReplayer();
  const sorted = [...paths].sort((a, b) => a.weight - b.weight);
  const probed = new Set<string>();
  let checked = 0;
  for (const p of sorted) {
    const r = replayPath(eventsOf(p));
    // Same abstract state, same state value, and a phase that matches it.
    expect(abstractKey(r.state)).toBe(abstractKey(p.state));
    expect(r.state.value).toEqual(p.state.value);
    expect(phaseOf(r.state)).toBe(phaseOf(p.state));

    // At this vertex, decide accepts a sample iff the machine takes a transition for it. A sample's outcome
    // depends on part of the abstract state only (`probeScope`): probe each sample once per such part.
    const handled = handledTypes(p.state);
    const key = abstractKey(p.state);
    const fields = JSON.parse(key) as AbstractState;
    const where = whereOf(p.state);
    for (const [j, e] of samplesFor(p.state).entries()) {
      const once = JSON.stringify([e.id, probeScope(p.state, where, fields, e, handled)]);
      if (probed.has(once)) continue;
      probed.add(once);
      checked++;
      const [machineNext] = transition(episodeMachine, p.state, e);
      const machineAccepts = machineNext.context !== p.state.context;
      const d = decide(r.state, r.fresh(e, `-probe${j}`));
      if (d.ok !== machineAccepts) {
        throw new Error(
          `${e.id} at ${key}: machine ${machineAccepts ? 'accepts' : 'refuses'}, decide ${d.ok ? 'accepts' : `refuses (${d.refusal.code})`}`,
        );
      }
      // Plain checks in this loop (expect() is slow over thousands of probes).
      if (d.ok) {
        acceptedTypes.add(e.type);
        acceptedIn.add(`${where}:${e.type}`);
        const [decided, machine] = [abstractKey(d.state), abstractKey(machineNext)];
        if (decided !== machine)
          throw new Error(`${e.id} at ${key}: decide → ${decided}, machine → ${machine}`);
        continue;
      }
      refusalsSeen.add(d.refusal.code);
      refusedIn.add(`${where}:${e.type}:${d.refusal.code}`);
      if (
        !Object.hasOwn(refusalCodes, d.refusal.code) ||
        d.refusal.message.length === 0 ||
        d.state !== r.state
      ) {
        throw new Error(`${e.id} at ${key}: bad refusal ${JSON.stringify(d.refusal)}`);
      }
    }
  }
  return { checked, acceptedTypes, refusalsSeen, acceptedIn, refusedIn };
}

const BETWEEN_SESSIONS = { open: { treatment: 'betweenSessions' } };
const IN_SESSION = ['VitalsRecorded', 'DoseAdministered', 'DosingSessionCompleted', 'DosingSessionAborted'];
/** The session an in-session sample names (its index in the abstract state's sessions), or -1. */
const sessionIndex = (e: EpisodeEvent) =>
  'sessionId' in e && typeof e.sessionId === 'string' && /^s\d+$/.test(e.sessionId)
    ? Number(e.sessionId.slice(1)) - 1
    : -1;

describe('the episode machine, traversed with xstate/graph', () => {
  const paths = getShortestPaths(episodeMachine, traversal) as Path[];
  const edges = [...explored.values()].filter((x): x is Edge => x !== null);
  let probed: ReturnType<typeof replayAndProbe> | undefined;
  const probe = () => {
    probed ??= replayAndProbe(paths);
    return probed;
  };

  it('has a finite, non-trivial abstract graph (one shortest path per abstract state)', () => {
    expect(paths.length).toBeGreaterThan(1_000);
    expect(paths.length).toBeLessThan(3_000);
    expect(new Set(paths.map((p) => abstractKey(p.state))).size).toBe(paths.length);
  });

  it('reaches every state node of the machine (history pseudo-state excluded) by a shortest path', () => {
    const nodes = stateNodes(episodeMachine.root);
    expect(nodes.map((n) => n.id)).toEqual(
      expect.arrayContaining([
        'kapEpisode.new',
        'kapEpisode.open.fitDiscussion',
        'kapEpisode.open.medicalEvaluation.ineligible',
        'kapEpisode.open.treatment.dosingSession.dosed',
        'kapEpisode.paused',
        'kapEpisode.completed',
        'kapEpisode.discontinued',
      ]),
    );
    const unreached = nodes.filter((n) => !paths.some((p) => p.state.matches(stateValueOf(n.path) as never)));
    expect(unreached.map((n) => n.id)).toEqual([]);
  });

  it('reaches completed and discontinued, and completes only after a dose', () => {
    const completed = paths.filter((p) => p.state.matches('completed'));
    const discontinued = paths.filter((p) => p.state.matches('discontinued'));
    expect(completed.length).toBeGreaterThan(0);
    expect(discontinued.length).toBeGreaterThan(0);
    for (const p of completed) {
      const events = eventsOf(p);
      expect(events.map((e) => e.type)).toContain('DoseAdministered');
      expect(events[events.length - 1]?.type).toBe('EpisodeCompleted');
    }
    // The shortest completed course: open, fit, evaluation scheduled and completed, plan, prescription,
    // delivery, training, preparation, session booked, pre-dose vitals (which start it), dose, session ended
    // (an abort after the dose is shorter than post-dose vitals and completion), completed.
    expect(completed).toHaveLength(1);
    expect(eventsOf(completed[0]!).map((e) => e.type)).toEqual([
      'EpisodeOpened',
      'FitAssessed',
      'MedicalEvaluationScheduled',
      'MedicalEvaluationCompleted',
      'TreatmentPlanCreated',
      'PrescriptionIssued',
      'MedicationDelivered',
      'SelfAdministrationTrained',
      'PreparationSessionCompleted',
      'DosingSessionScheduled',
      'VitalsRecorded',
      'DoseAdministered',
      'DosingSessionAborted',
      'EpisodeCompleted',
    ]);
    // Completing the session instead takes post-dose vitals first: every explored completion has them.
    const completions = edges.filter((x) => x.event.type === 'DosingSessionCompleted');
    expect(completions.length).toBeGreaterThan(0);
    for (const x of completions) {
      expect(x.from.sessions.find(inProgress)).toEqual({ dosed: true, post: true });
    }
  });

  it('resumes a paused episode where it was paused, at every phase that can pause', () => {
    const resume = fixedSamples.find((e) => e.type === 'EpisodeResumed')!;
    const pausedFrom = new Set<string>();
    for (const p of paths) {
      const events = eventsOf(p);
      if (!p.state.matches('paused') || events[events.length - 1]?.type !== 'EpisodePaused') continue;
      const beforePause = p.steps[p.steps.length - 2]!.state;
      const [resumed] = transition(episodeMachine, p.state, resume);
      expect(resumed.value).toEqual(beforePause.value);
      pausedFrom.add(JSON.stringify(beforePause.value));
    }
    expect([...pausedFrom].sort()).toEqual(
      [
        { open: 'fitDiscussion' },
        { open: { medicalEvaluation: 'toSchedule' } },
        { open: { medicalEvaluation: 'scheduled' } },
        { open: { medicalEvaluation: 'ineligible' } },
        BETWEEN_SESSIONS,
      ]
        .map((v) => JSON.stringify(v))
        .sort(),
    );
  });

  it('replays every shortest path through decide, and decide accepts exactly what the machine accepts', () => {
    const { checked } = probe();
    expect(checked).toBeGreaterThan(paths.length);
  }, 60_000);

  it('covers every event type with a sample that some state accepts', () => {
    const sampled = new Set([...fixedSamples, ...sessionSamples(1)].map((e) => e.type));
    expect([...sampled].sort()).toEqual([...eventTypes].sort());
    expect([...probe().acceptedTypes].sort()).toEqual([...eventTypes].sort());
  }, 60_000);

  it('gives every refusal code of the rules from some state (a code decide never gives is a wrong reason)', () => {
    // Refusals of the envelope (schema, ids, order, episode) and of a non-default policy come from
    // properties.test.ts, whose random logs produce them.
    const elsewhere = new Set([
      'invalid-event',
      'wrong-episode',
      'wrong-patient',
      'duplicate-event-id',
      'out-of-order',
      'follow-up-overdue',
    ]);
    const { refusalsSeen, refusedIn } = probe();
    const never = Object.keys(refusalCodes).filter((c) => !elsewhere.has(c) && !refusalsSeen.has(c));
    expect(never).toEqual([]);
    // The two reasons that machine version 1 could not give, where they belong.
    expect([...refusedIn]).toEqual(
      expect.arrayContaining([
        'dosing-session:DosingSessionCompleted:session-not-dosed',
        'medical-evaluation:MedicalEvaluationCompleted:evaluation-not-scheduled',
        'ineligible:MedicalEvaluationCompleted:evaluation-not-scheduled',
        'fit-discussion:MedicalEvaluationCompleted:fit-not-established',
      ]),
    );
  }, 60_000);

  it('books a dosing session without starting it: the state stays where it was, between sessions or in a session', () => {
    const bookings = edges.filter((x) => x.event.type === 'DosingSessionScheduled');
    expect(new Set(bookings.map((x) => x.fromWhere))).toEqual(
      new Set(['preparation', 'dosing-course', 'dosing-session']),
    );
    for (const x of bookings) {
      expect(x.to.value).toEqual(x.from.value);
      expect(x.toWhere).toBe(x.fromWhere);
      expect(x.to.sessions).toEqual([...x.from.sessions, 'booked']);
    }
    // Booking ahead while a session is in progress.
    expect(bookings.some((x) => x.from.sessions.some(inProgress))).toBe(true);
    // Booking before plan and prescription are in place is not explored, but accepted too.
    const { acceptedIn } = probe();
    for (const where of ['planning', 'preparation', 'dosing-course', 'dosing-session'])
      expect(acceptedIn.has(`${where}:DosingSessionScheduled`), where).toBe(true);
  }, 60_000);

  it('records preparation and integration sessions while a dosing session is booked ahead', () => {
    for (const type of ['PreparationSessionCompleted', 'IntegrationSessionCompleted']) {
      const withBooking = edges.filter(
        (x) =>
          x.event.type === type && x.from.sessions.includes('booked') && !x.from.sessions.some(inProgress),
      );
      expect(withBooking.length, type).toBeGreaterThan(0);
      for (const x of withBooking) {
        expect(x.to.value).toEqual(BETWEEN_SESSIONS);
        expect(x.to.sessions).toEqual(x.from.sessions);
      }
    }
    // …but not while a session is in progress.
    expect([...probe().acceptedIn]).not.toEqual(
      expect.arrayContaining(['dosing-session:PreparationSessionCompleted']),
    );
    expect([...probe().refusedIn]).toEqual(
      expect.arrayContaining([
        'dosing-session:PreparationSessionCompleted:session-in-progress',
        'dosing-session:IntegrationSessionCompleted:session-in-progress',
      ]),
    );
  }, 60_000);

  it('accepts in-session events only for the session in progress, or, when none is, for a booked one', () => {
    const inSession = edges.filter((x) => IN_SESSION.includes(x.event.type));
    expect(new Set(inSession.map((x) => x.event.type))).toEqual(new Set(IN_SESSION));
    for (const x of inSession) {
      const i = sessionIndex(x.event);
      const current = x.from.sessions.findIndex(inProgress);
      if (current >= 0) expect(i).toBe(current);
      else expect(x.from.sessions[i]).toBe('booked');
    }
  });

  it('starts a booked session with its pre-dose vitals, and in no other way', () => {
    const { refusedIn } = probe();
    let starts = 0;
    for (const x of edges) {
      const started = x.to.sessions.findIndex(inProgress);
      if (started < 0 || x.from.sessions.some(inProgress)) continue;
      starts++;
      // With the default policy a dose needs pre-dose vitals first, so only those start a session.
      expect(x.event.type).toBe('VitalsRecorded');
      expect(x.event.type === 'VitalsRecorded' && x.event.phase).toBe('pre');
      expect(sessionIndex(x.event)).toBe(started);
      expect(x.from.sessions[started]).toBe('booked');
      expect(x.from.value).toEqual(BETWEEN_SESSIONS);
      expect(x.to.value).toEqual({ open: { treatment: { dosingSession: 'awaitingDose' } } });
      expect(x.toWhere).toBe('dosing-session');
    }
    expect(starts).toBeGreaterThan(0);
    // Starting the second booked session first is allowed too.
    expect(edges.some((x) => x.from.sessions[0] === 'booked' && inProgress(x.to.sessions[1]!))).toBe(true);
    // What the other in-session events say about a booked session that has not started.
    expect([...refusedIn]).toEqual(
      expect.arrayContaining([
        'preparation:VitalsRecorded:vitals-before-dose',
        'preparation:DoseAdministered:pre-dose-vitals-required',
        'preparation:DoseAdministered:booster-without-dose',
        'preparation:DosingSessionCompleted:no-session-in-progress',
        'dosing-course:VitalsRecorded:no-session-in-progress',
        'dosing-course:VitalsRecorded:unknown-session',
        'dosing-session:VitalsRecorded:session-in-progress',
        'dosing-session:DoseAdministered:session-in-progress',
      ]),
    );
  }, 60_000);

  it('cancels a booked session that never started, staying between sessions; a session in progress is aborted', () => {
    const { refusedIn } = probe();
    const aborts = edges.filter((x) => x.event.type === 'DosingSessionAborted');
    const cancels = aborts.filter((x) => !x.from.sessions.some(inProgress));
    expect(cancels.length).toBeGreaterThan(0);
    for (const x of cancels) {
      const i = sessionIndex(x.event);
      expect(x.from.sessions[i]).toBe('booked');
      expect(x.to.sessions).toEqual(x.from.sessions.map((s, j) => (j === i ? 'ended' : s)));
      expect(x.to.value).toEqual(BETWEEN_SESSIONS);
    }
    for (const x of aborts.filter((y) => y.from.sessions.some(inProgress))) {
      const i = sessionIndex(x.event);
      expect(inProgress(x.from.sessions[i]!)).toBe(true);
      expect(x.to.sessions).toEqual(x.from.sessions.map((s, j) => (j === i ? 'ended' : s)));
      expect(x.to.value).toEqual(BETWEEN_SESSIONS);
    }
    // A booked session cannot be cancelled while another one is in progress, nor an ended one again.
    expect([...refusedIn]).toEqual(
      expect.arrayContaining([
        'dosing-session:DosingSessionAborted:session-in-progress',
        'dosing-course:DosingSessionAborted:no-session-in-progress',
        'preparation:DosingSessionAborted:unknown-session',
      ]),
    );
  }, 60_000);

  it('records adverse events in every open phase and while paused', () => {
    const { acceptedIn } = probe();
    const open = [
      'fit-discussion',
      'medical-evaluation',
      'ineligible',
      'planning',
      'preparation',
      'dosing-session',
      'dosing-course',
      'paused (eligible)',
      'paused (not eligible)',
    ];
    expect([...acceptedIn]).toEqual(expect.arrayContaining(open.map((w) => `${w}:AdverseEventReported`)));
    expect([...probe().refusedIn]).toEqual(
      expect.arrayContaining([
        'not-opened:AdverseEventReported:episode-not-opened',
        'paused (eligible):AdverseEventReported:unknown-session',
      ]),
    );
  }, 60_000);

  it('while paused, records monitoring and safety, and follow-ups, refills and deliveries only once eligible', () => {
    const { acceptedIn, refusedIn } = probe();
    const whilePaused = (w: string) =>
      [...acceptedIn]
        .filter((x) => x.startsWith(`${w}:`))
        .map((x) => x.slice(w.length + 1))
        .sort();
    // (The safety-flag branch is explored before treatment only: see withinBounds.)
    expect(whilePaused('paused (eligible)')).toEqual(
      [
        'AdverseEventReported',
        'AssessmentRecorded',
        'EpisodeDiscontinued',
        'EpisodeResumed',
        'MedicalFollowUpCompleted',
        'MedicationDelivered',
        'RefillIssued',
      ].sort(),
    );
    expect(whilePaused('paused (not eligible)')).toEqual(
      [
        'AdverseEventReported',
        'AssessmentRecorded',
        'EpisodeDiscontinued',
        'EpisodeResumed',
        'SafetyFlagReviewed',
      ].sort(),
    );
    expect([...refusedIn]).toEqual(
      expect.arrayContaining([
        'paused (not eligible):MedicalFollowUpCompleted:episode-paused',
        'paused (not eligible):RefillIssued:no-prescription',
        'paused (not eligible):MedicationDelivered:no-prescription',
        'paused (eligible):RefillIssued:refill-requires-follow-up',
        'paused (eligible):MedicationDelivered:supply-exceeds-authorized',
        'paused (eligible):SafetyFlagReviewed:unknown-safety-flag',
        'paused (eligible):DosingSessionScheduled:episode-paused',
        'paused (eligible):TreatmentPlanCreated:episode-paused',
      ]),
    );
  }, 60_000);
});

describe('all simple paths through the fit discussion and the medical evaluation', () => {
  // A small sub-model: the events of the phases before treatment, each sample used at most once (the evaluation
  // may be scheduled twice, to be rescheduled after an ineligible outcome). Keyed by the state and the samples
  // used so far, the graph is acyclic, so its simple paths are every way to eligibility.
  const phaseSamples = new Set<string>([
    'g-open',
    'g-fit-good',
    'g-fit-not',
    'g-eval-scheduled',
    'g-eval-eligible',
    'g-eval-ineligible',
    'g-paused',
    'g-resumed',
  ]);
  const used = (s: Snapshot, id: string) => s.context.eventIds.filter((x) => x === id).length;
  const toTreatment = getSimplePaths(episodeMachine, {
    events: samplesFor,
    serializeState: (s) =>
      JSON.stringify({ value: s.value, history: pausedHistory(s), used: [...s.context.eventIds].sort() }),
    filterEvents: (s, e) =>
      phaseSamples.has(e.id) && used(s, e.id) < (e.type === 'MedicalEvaluationScheduled' ? 2 : 1),
    toState: (s) => s.matches({ open: 'treatment' }),
  }) as Path[];

  it('lists every simple way to eligibility, each accepted by decide and ending in planning', () => {
    expect(toTreatment.length).toBeGreaterThan(20);
    const shapes = new Set<string>();
    const replayPath = createPathReplayer();
    for (const p of toTreatment) {
      const events = eventsOf(p);
      expect(phaseOf(replayPath(events).state)).toBe('planning');
      const ids = events.map((e) => e.id);
      // Eligibility always follows a good fit and a scheduled evaluation, in that order, and ends the path.
      expect(ids.indexOf('g-fit-good')).toBeGreaterThan(0);
      expect(ids.indexOf('g-fit-good')).toBeLessThan(ids.lastIndexOf('g-eval-scheduled'));
      expect(ids[ids.length - 1]).toBe('g-eval-eligible');
      // A resume always directly follows a pause.
      ids.forEach((id, i) => {
        if (id === 'g-resumed') expect(ids[i - 1]).toBe('g-paused');
      });
      shapes.add(ids.join(' '));
    }
    expect(shapes.size).toBe(toTreatment.length);
    // Among them: rescheduled after an ineligible outcome, and paused then resumed during the evaluation.
    expect([...shapes].some((x) => x.includes('g-eval-ineligible g-eval-scheduled'))).toBe(true);
    expect([...shapes].some((x) => x.includes('g-eval-scheduled g-paused g-resumed'))).toBe(true);
  });
});

/** Replay and insist that every event was accepted. */
function accepted(events: readonly unknown[]): EpisodeState {
  const r = replay(events);
  expect(r.refusals).toEqual([]);
  return r.state;
}

function refusalCode(state: EpisodeState, event: unknown): string | null {
  const d = decide(state, event);
  return d.ok ? null : d.refusal.code;
}

describe('machine version 2, event by event', () => {
  const vitals = { phase: 'pre', systolic: 120, diastolic: 80 };
  /** The refusal code of the event `type` appended to the story (then removed from it) at `minutes`. */
  function refusedAs(
    state: EpisodeState,
    s: Story,
    type: string,
    payload: Record<string, unknown>,
    minutes = 0,
  ) {
    s.add(type, payload, minutes);
    return refusalCode(state, s.events.pop());
  }
  const doseOf = (sessionId: string) => ({
    sessionId,
    kind: 'full',
    doseMg: 300,
    route: 'sublingual',
    formulation: 'sublingual-lozenge',
  });

  it('refuses completing a dosing session that had no dose as session-not-dosed', () => {
    const s = new Story().readyToDose().day(14);
    s.add('DosingSessionScheduled', { sessionId: 'x', scheduledFor: s.at(14), mode: 'in-person' });
    s.add('VitalsRecorded', { sessionId: 'x', phase: 'pre', systolic: 150, diastolic: 95 }, 5);
    const state = accepted(s.events);
    expect(phaseOf(state)).toBe('dosing-session');
    s.add('DosingSessionCompleted', { sessionId: 'x', durationMinutes: 30 }, 30);
    expect(refusalCode(state, s.last)).toBe('session-not-dosed');
    // The way out is an abort.
    s.events.pop();
    s.add('DosingSessionAborted', { sessionId: 'x', reason: 'vitals-hold' }, 30);
    expect(phaseOf(accepted(s.events))).toBe('preparation');
  });

  it('refuses completing a medical evaluation that was never scheduled as evaluation-not-scheduled', () => {
    const s = new Story().day(0).add('EpisodeOpened').add('FitAssessed', { outcome: 'good-fit' }, 60);
    const state = accepted(s.events);
    s.day(7).add('MedicalEvaluationCompleted', { eligible: true, contraindications: [] });
    expect(refusalCode(state, s.last)).toBe('evaluation-not-scheduled');
  });

  it('books two sessions ahead, prepares and integrates between them, and starts each with its pre-dose vitals', () => {
    const s = new Story().readyToDose().day(12);
    s.add('DosingSessionScheduled', { sessionId: 'a', scheduledFor: s.at(14), mode: 'in-person' }, 90);
    s.add('DosingSessionScheduled', { sessionId: 'b', scheduledFor: s.at(21), mode: 'telehealth' }, 95);
    s.add('PreparationSessionCompleted', { mode: 'telehealth', intentionsSet: true }, 120);
    let state = accepted(s.events);
    expect(state.value).toEqual(BETWEEN_SESSIONS);
    expect(phaseOf(state)).toBe('preparation');
    expect(state.context.currentSessionId).toBeNull();
    expect(state.context.sessions.map((x) => [x.sessionId, x.status])).toEqual([
      ['a', 'scheduled'],
      ['b', 'scheduled'],
    ]);
    // Booking the same id again is refused.
    s.add('DosingSessionScheduled', { sessionId: 'a', scheduledFor: s.at(15), mode: 'in-person' }, 130);
    expect(refusalCode(state, s.last)).toBe('duplicate-session');
    s.events.pop();

    s.day(14).add('VitalsRecorded', { sessionId: 'a', phase: 'pre', systolic: 120, diastolic: 80 });
    state = accepted(s.events);
    expect(phaseOf(state)).toBe('dosing-session');
    expect(state.context.currentSessionId).toBe('a');
    // While a is in progress, b cannot be started, nor cancelled.
    expect(refusedAs(state, s, 'VitalsRecorded', { sessionId: 'b', ...vitals }, 1)).toBe(
      'session-in-progress',
    );
    expect(refusedAs(state, s, 'DosingSessionAborted', { sessionId: 'b', reason: 'other' }, 1)).toBe(
      'session-in-progress',
    );
    s.add('DoseAdministered', doseOf('a'), 5);
    s.add('VitalsRecorded', { sessionId: 'a', phase: 'post', systolic: 125, diastolic: 80 }, 120);
    s.add('DosingSessionCompleted', { sessionId: 'a' }, 125);
    state = accepted(s.events);
    expect(phaseOf(state)).toBe('dosing-course');
    // a has ended: its events now say that no session is in progress; a never-booked session is unknown.
    expect(refusedAs(state, s, 'VitalsRecorded', { sessionId: 'a', ...vitals }, 130)).toBe(
      'no-session-in-progress',
    );
    expect(refusedAs(state, s, 'VitalsRecorded', { sessionId: 'nope', ...vitals }, 130)).toBe(
      'unknown-session',
    );
    s.day(16).add('IntegrationSessionCompleted', { mode: 'telehealth', sessionId: 'a' });
    s.day(21).add('VitalsRecorded', { sessionId: 'b', phase: 'pre', systolic: 118, diastolic: 76 });
    state = accepted(s.events);
    expect(phaseOf(state)).toBe('dosing-session');
    expect(state.context.currentSessionId).toBe('b');
  });

  it('starts a booked session with its dose when the policy does not ask for pre-dose vitals', () => {
    const s = new Story().readyToDose();
    s.events[0] = { ...s.events[0]!, policy: { requirePreDoseVitals: false } } as (typeof s.events)[0];
    s.day(14).add('DosingSessionScheduled', { sessionId: 'x', scheduledFor: s.at(14), mode: 'in-person' });
    s.add('DoseAdministered', { ...doseOf('x'), kind: 'half' }, 5);
    const state = accepted(s.events);
    expect(state.value).toEqual({ open: { treatment: { dosingSession: 'dosed' } } });
    expect(state.context.currentSessionId).toBe('x');
    // A half dose uses half a unit of supply by default.
    expect(dosesOnHand(state.context)).toBe(1.5);
  });

  it('cancels a booked session that never started, and refuses anything more for it', () => {
    const s = new Story().readyToDose().day(13);
    s.add('DosingSessionScheduled', { sessionId: 'x', scheduledFor: s.at(14), mode: 'in-person' });
    s.add('DosingSessionAborted', { sessionId: 'x', reason: 'patient-declined' }, 30);
    const state = accepted(s.events);
    expect(state.value).toEqual(BETWEEN_SESSIONS);
    expect(state.context.currentSessionId).toBeNull();
    expect(state.context.sessions[0]).toMatchObject({ status: 'aborted', abortReason: 'patient-declined' });
    s.day(14).add('VitalsRecorded', { sessionId: 'x', phase: 'pre', systolic: 120, diastolic: 80 });
    expect(refusalCode(state, s.last)).toBe('no-session-in-progress');
  });

  it('records adverse events before treatment and while paused, and medical follow-up while paused in treatment', () => {
    const s = new Story().day(0).add('EpisodeOpened');
    s.add('AdverseEventReported', { code: 'anxiety', severity: 'mild' }, 30);
    s.add('EpisodePaused', { reason: 'medical' }, 40);
    s.add('AdverseEventReported', { code: 'headache', severity: 'mild' }, 50);
    let state = accepted(s.events);
    expect(phaseOf(state)).toBe('paused');
    // Not found eligible: no follow-up while paused.
    s.add('MedicalFollowUpCompleted', { continueTreatment: true }, 60);
    expect(refusalCode(state, s.last)).toBe('episode-paused');

    const t = new Story().readyToDose().dosingSession(14).integration(16);
    t.day(17).add('EpisodePaused', { reason: 'financial' });
    t.day(18).add('AdverseEventReported', { code: 'nausea', severity: 'mild', sessionId: t.session(1) });
    t.day(20).add('MedicalFollowUpCompleted', { continueTreatment: true });
    t.add('RefillIssued', { dosesAuthorized: 2 }, 10).add('MedicationDelivered', { doses: 2 }, 20);
    state = accepted(t.events);
    expect(phaseOf(state)).toBe('paused');
    expect(state.context.dosesDelivered).toBe(4);
    t.add('DosingSessionScheduled', { sessionId: 'y', scheduledFor: t.at(21), mode: 'in-person' }, 30);
    expect(refusalCode(state, t.last)).toBe('episode-paused');
  });
});
