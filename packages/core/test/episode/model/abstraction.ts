import { type AnyStateNode, getNextTransitions } from 'xstate';
import {
  bookedSession,
  type DosingSessionRecord,
  dosedSessions,
  dosesOnHand,
  type EpisodeContext,
} from '../../../src/episode/context.js';
import { phaseOf } from '../../../src/episode/decide.js';
import type { EpisodeEvent } from '../../../src/episode/events.js';
import { defaultPolicy } from '../../../src/episode/policy.js';
import { supplyTypes } from '../event-groups.js';
import { BETWEEN_SESSIONS } from './probes.js';
import {
  FLAG_ASSESSMENT_ID,
  MAX_AUTHORIZED_LEFT,
  MAX_ON_HAND,
  MAX_SESSIONS,
  type Path,
  pausedHistory,
  SEVERE_ADVERSE_ID,
  type Snapshot,
  samplesFor,
} from './samples.js';

// The abstraction of a snapshot that keeps the graph finite, and the traversal options.

/**
 * A dosing session as the rules see it: booked and not started (an event may start or cancel it), in progress
 * (before its dose the rules read its pre-dose vitals; after it, its boosters and post-dose vitals), or ended
 * (completed or aborted: only its id still matters).
 */
export type SessionKey =
  | 'booked'
  | 'ended'
  | { pre: boolean; hold: boolean }
  | { dosed: true; boosters: number; post: boolean; high: boolean };

function sessionKey(c: EpisodeContext, s: DosingSessionRecord): SessionKey {
  if (s.sessionId === c.currentSessionId) {
    if (s.doses.length === 0)
      return { pre: s.preVitals.length > 0, hold: s.preVitals[s.preVitals.length - 1]?.aboveHold ?? false };
    const post = s.otherVitals.filter((v) => v.phase === 'post');
    const last = post[post.length - 1];
    return {
      dosed: true,
      boosters: s.doses.filter((d) => d.kind === 'booster').length,
      post: last !== undefined,
      high:
        last !== undefined &&
        (last.systolic > defaultPolicy.holdSystolicAbove ||
          last.diastolic > defaultPolicy.holdDiastolicAbove),
    };
  }
  return bookedSession(c, s.sessionId) ? 'booked' : 'ended';
}

export const inProgress = (k: SessionKey) => typeof k === 'object';

/** The review status of safety signals: none raised, some raised and unreviewed, all reviewed. */
type Review = 'none' | 'open' | 'reviewed';
/**
 * The safety signals the guards read (ids aside: the replay gives events fresh ids): positive flags and adverse
 * events that need a review. The traversal raises one of each at most (the flag and the severe adverse event of
 * the samples, which the review samples name), so their status says which reviews are accepted; an open one
 * holds the next dose.
 */
function safetyKey(c: EpisodeContext) {
  const status = (xs: readonly { reviewed: unknown }[]): Review =>
    xs.length === 0 ? 'none' : xs.some((x) => x.reviewed === null) ? 'open' : 'reviewed';
  return {
    flag: status(c.safetyFlags.filter((f) => f.kind === 'positive')),
    adverse: status(c.adverseEvents.filter((a) => a.needsReview)),
  };
}

/**
 * The abstraction of a snapshot: its state value plus exactly the data the guards (`checkEvent`) read. Counters
 * are exact, not capped (the bounds are enforced by `withinBounds`), so two snapshots with the same key accept
 * the same sample events and move to snapshots with the same key: a shortest path of the abstract graph is a
 * path of the real machine. (xstate/graph keeps the last concrete snapshot seen for a key and the steps of the
 * first shortest path to it, so a coarser key would pair a path with a snapshot it does not lead to.) Time is
 * not in it: samples are a day apart, so the time rules (24 h between sessions, observation time, follow-up,
 * what was known when) always pass. A closed episode records safety events only: its key is its value and what
 * the reviews read.
 */
export function abstractKey(s: Snapshot): string {
  let key = abstractKeys.get(s);
  if (key === undefined) {
    key = computeAbstractKey(s);
    abstractKeys.set(s, key);
  }
  return key;
}
const abstractKeys = new WeakMap<Snapshot, string>();

function computeAbstractKey(s: Snapshot): string {
  const c = s.context;
  if (c.closed !== null) return JSON.stringify({ value: s.value, safety: safetyKey(c) });
  const dosed = dosedSessions(c).length;
  const rx = c.prescription;
  return JSON.stringify({
    value: s.value,
    // While paused: where the episode resumes, which also says whether the patient was found eligible (the
    // guard of follow-ups, refills and deliveries while paused).
    history: pausedHistory(s),
    planned: c.plan?.plannedDosingSessions ?? null,
    // The active prescription: a dose must match its route, formulation and mg.
    rx: rx === null ? null : `${rx.route} ${rx.formulation} ${rx.doseMg} mg`,
    trained: c.trained,
    // Preparation sessions only matter before the first dose.
    preparations: dosed === 0 ? c.preparationSessions : undefined,
    onHand: dosesOnHand(c),
    authorizedLeft: c.dosesAuthorized - c.dosesDelivered,
    followUp: c.followUpSinceAuthorization,
    dosed,
    integrations: c.integrationsSinceLastDosing,
    safety: safetyKey(c),
    stopped: c.treatmentStopped?.by ?? null,
    // In booking order: s1, s2, …
    sessions: c.sessions.map((x) => sessionKey(c, x)),
  });
}

/** The parsed abstract key of a snapshot (closed ones have only `value` and `safety`). */
export interface AbstractState {
  readonly value: unknown;
  readonly sessions: readonly SessionKey[];
  readonly safety: ReturnType<typeof safetyKey>;
  readonly [field: string]: unknown;
}

/** The medical team's decisions that the graph explores between sessions only (to keep it small). */
const adminEvents = new Set<string>([...supplyTypes, 'MedicalEvaluationCompleted']);
/** What the flag branch explores while the flag is on record (it is orthogonal to the treatment). */
const flagBranch = new Set<string>([
  'AssessmentRecorded',
  'SafetyFlagReviewed',
  'EpisodePaused',
  'EpisodeResumed',
  'EpisodeDiscontinued',
]);
/** What the severe adverse event branch explores: its review, the dose it holds, the end of that session. */
const adverseBranch = new Set<string>([
  'AdverseEventReviewed',
  'DoseAdministered',
  'VitalsRecorded',
  'DosingSessionCompleted',
  'DosingSessionAborted',
  'EpisodeCompleted',
  'EpisodeDiscontinued',
]);
/** What the treatment-stop branch explores: what lifts the stop, starting a booked session, pausing, ending. */
const stopBranch = new Set<string>([
  'g-follow-up',
  'g-eval-eligible',
  'g-rx',
  'g-vitals-pre-s1',
  'g-vitals-pre-s2',
  'g-session-aborted-s1',
  'g-session-aborted-s2',
  'g-paused',
  'g-resumed',
  'g-completed-reason',
  'g-discontinued',
]);

/** Keeps every exact counter of `abstractKey` bounded, and the orthogonal branches small. */
function withinBounds(s: Snapshot, e: EpisodeEvent): boolean {
  const c = s.context;
  const safety = safetyKey(c);
  // Voids are decided by `decide`, not by the machine alone: probed, never explored.
  if (e.type === 'EventVoided') return false;
  // A closed episode: the severe adverse event, reported late, and its review.
  if (c.closed !== null) return e.id === SEVERE_ADVERSE_ID || e.id === 'g-adverse-reviewed';
  // The safety-flag branch is explored around the fit discussion only (it is orthogonal to the treatment).
  if (e.id === FLAG_ASSESSMENT_ID) return safety.flag === 'none' && s.matches({ open: 'fitDiscussion' });
  if (safety.flag !== 'none') return flagBranch.has(e.type);
  // The severe adverse event: reported when the first session is about to dose (it holds the dose until a
  // clinician reviews it); then that session and the end of the course only.
  const current = c.sessions.find((x) => x.sessionId === c.currentSessionId);
  if (e.id === SEVERE_ADVERSE_ID)
    return (
      c.treatmentStopped === null &&
      dosedSessions(c).length === 0 &&
      current !== undefined &&
      current.doses.length === 0 &&
      current.preVitals.length > 0 &&
      !current.preVitals[current.preVitals.length - 1]!.aboveHold
    );
  if (safety.adverse !== 'none' && !adverseBranch.has(e.type)) return false;
  // A treatment stop (a follow-up that does not continue, a re-evaluation that finds the patient not eligible),
  // between sessions; then what lifts it, and starting a booked session (whose dose the stop holds).
  const stops =
    e.id === 'g-follow-up-stop' || (e.id === 'g-eval-ineligible' && c.evaluation.eligible === true);
  if (stops) return c.treatmentStopped === null && s.matches(BETWEEN_SESSIONS) && safety.adverse === 'none';
  if (c.treatmentStopped !== null && !stopBranch.has(e.id)) return false;
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
    case 'MedicalEvaluationCompleted':
      // Re-evaluations are explored by the stop branch (eligible ones only lift a stop).
      return c.evaluation.eligible !== true || c.treatmentStopped !== null;
    case 'VitalsRecorded':
      // Post-dose vitals still above the hold only once per session, before any booster.
      return !(e.phase === 'post' && e.systolic > 140 && current?.doses.some((d) => d.kind === 'booster'));
    default:
      return true;
  }
}

/** The event types a snapshot has transitions for (guards aside). */
export const handledTypes = (s: Snapshot) => new Set(getNextTransitions(s).map((t) => t.eventType));

/**
 * Samples that are probed at every vertex but not explored: they are always refused, or lead back to the same
 * abstract state, or lead where another sample leads too (a test economy: the traversal is the slow part).
 */
const probeOnly =
  /^g-(assessment|assessment-invalid|assessment-unknown|half-trained|fit-more|delivered-1|adverse|adverse-unknown|adverse-ideation|adverse-in-session-.*|adverse-reviewed-unknown|eval-contraindicated|eval-override|completed|.*-unknown(-session)?|schedule-duplicate-.*|schedule-remote-.*|schedule-unchaperoned-.*|vitals-pre-at-threshold-.*|vitals-pre-hold-pulse-.*|vitals-during-alert-.*|dose-half-.*|dose-two-units-.*|dose-too-much-.*|dose-iv-.*|dose-override-therapist-.*|dose-override-short-.*|booster-too-much-.*)$/;

/** An accepted transition of the traversal, between abstract states. */
export interface Edge {
  readonly from: AbstractState;
  readonly fromWhere: string;
  readonly event: EpisodeEvent;
  readonly to: AbstractState;
  readonly toWhere: string;
}

/** Every transition the traversal explored, keyed by abstract source and sample: the accepted ones as edges. */
export const explored = new Map<string, Edge | null>();

export const traversal = {
  // Samples of types the state does not handle at all are self-loops: leave them out of the traversal (the
  // replay test still probes them).
  events: (s: Snapshot) => {
    const handled = handledTypes(s);
    return samplesFor(s).filter((e) => handled.has(e.type) && !probeOnly.test(e.id));
  },
  filterEvents: withinBounds,
  serializeEvent: (e: EpisodeEvent) => e.id,
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
        const accepted = s.context !== prev.context;
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
export const eventsOf = (p: Path) => p.steps.slice(1).map((s) => s.event);

/** A state value from a state node path, e.g. ['open', 'treatment'] → { open: 'treatment' }. */
export function stateValueOf(path: readonly string[]): string | Record<string, unknown> {
  let value: string | Record<string, unknown> = path[path.length - 1]!;
  for (let i = path.length - 2; i >= 0; i--) value = { [path[i]!]: value };
  return value;
}

/** Every state node under `node` (not the root), except history pseudo-states. */
export function stateNodes(node: AnyStateNode): AnyStateNode[] {
  return Object.values(node.states).flatMap((child) =>
    child.type === 'history' ? [] : [child, ...stateNodes(child)],
  );
}

/**
 * Where an episode is, for the per-phase checks: its phase, and for a paused episode whether the patient was
 * found eligible (follow-ups, refills and deliveries while paused depend on it).
 */
export function whereOf(s: Snapshot): string {
  const phase = phaseOf(s);
  if (phase !== 'paused') return phase;
  return s.context.evaluation.eligible === true ? 'paused (eligible)' : 'paused (not eligible)';
}
