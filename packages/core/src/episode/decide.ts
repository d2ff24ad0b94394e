import { createActor, getNextTransitions, initialTransition, type SnapshotFrom } from 'xstate';
import { describeValue, KapkitError, type ValidationIssue } from '../errors.js';
import { createInstrumentRegistry } from '../instruments/builtin.js';
import type { InstrumentRegistry } from '../instruments/registry.js';
import { dosedSessions, type EpisodeContext, hasEventId } from './context.js';
import { instantMs } from './event-time.js';
import { parseEventFast } from './event-validator.js';
import type { EpisodeEvent } from './events.js';
import { evolveInPlace, needsRebuild, ownedCopy, rebuildList } from './evolve.js';
import { createFastStep } from './fast-step.js';
import {
  createEpisodeMachine,
  EPISODE_MACHINE_VERSION,
  type EpisodeMachine,
  type EpisodeMachineOptions,
} from './machine.js';
import { defaultPermissions, mayRecord, type PermissionTable } from './permissions.js';
import { createPhaseReader, type EpisodePhase } from './phases.js';
import {
  assessmentScorer,
  carryingScore,
  checkEvent,
  type Refusal,
  refusal,
  safetySignalsOf,
  safetyText,
  scoreAssessment,
} from './rules.js';

/** The state of an episode: an XState snapshot of the episode machine (context = everything folded so far). */
export type EpisodeState = SnapshotFrom<EpisodeMachine>;

/** The outcome of `decide`: the next state, or a typed refusal and the unchanged state. */
export type Decision =
  | { readonly ok: true; readonly state: EpisodeState; readonly event: EpisodeEvent }
  | { readonly ok: false; readonly state: EpisodeState; readonly refusal: Refusal };

/** The result of replaying a log. */
export interface ReplayResult {
  readonly state: EpisodeState;
  readonly accepted: number;
  /** Refused events, with their 0-based index in the input. Replay skips them and goes on. */
  readonly refusals: readonly (Refusal & { readonly index: number })[];
}

/** A persisted episode snapshot, tagged with the machine version that produced it. */
export interface PersistedEpisode {
  readonly machineVersion: number;
  readonly snapshot: unknown;
}

/** A persisted snapshot from another machine version; rebuild it by replaying the episode's events. */
export class SnapshotVersionError extends KapkitError {
  readonly found: unknown;
  constructor(found: unknown) {
    super(
      'snapshot-version-mismatch',
      `Episode snapshot was made by machine version ${describeValue(found)}, this is version ${EPISODE_MACHINE_VERSION}: replay the events instead.`,
    );
    this.name = 'SnapshotVersionError';
    this.found = found;
  }
}

function zodIssues(error: {
  issues: readonly { path: readonly PropertyKey[]; message: string }[];
}): ValidationIssue[] {
  return error.issues.map((i) => {
    const path = i.path.map((p) => (typeof p === 'number' ? p : String(p)));
    const where = path.length ? path.join('.') : '(event)';
    return {
      path,
      code: 'invalid-type',
      expected: i.message,
      received: '',
      message: `${where}: ${i.message}`,
    };
  });
}

/** Envelope rules that do not depend on the phase: episode, patient, id, role, clock. */
function checkEnvelope(
  c: EpisodeContext,
  e: EpisodeEvent,
  now: number | null,
  permissions: PermissionTable,
): Refusal | null {
  if (c.episodeId !== null && e.episodeId !== c.episodeId) {
    return refusal('wrong-episode', `Event is for episode "${e.episodeId}", not "${c.episodeId}".`, e);
  }
  if (c.patientId !== null && e.patientId !== c.patientId) {
    return refusal('wrong-patient', 'Event names another patient than the episode.', e);
  }
  if (hasEventId(c, e.id)) {
    return refusal('duplicate-event-id', `Event id "${e.id}" was already accepted.`, e);
  }
  if (!mayRecord(e.type, e.recordedBy, permissions)) {
    return refusal(
      'not-permitted',
      `${e.type} may be recorded by ${permissions[e.type].join(' or ')}, not by "${e.recordedBy}" (permission table).`,
      e,
    );
  }
  const tolerance = c.policy.clockToleranceMinutes * 60_000;
  const atMs = instantMs(e.at);
  const recordedMs = instantMs(e.recordedAt);
  if (atMs > recordedMs + tolerance) {
    return refusal(
      'future-event',
      `Event dated ${e.at} is later than when it was recorded (${e.recordedAt}); only scheduling fields may lie in the future.`,
      e,
    );
  }
  if (now !== null && (atMs > now + tolerance || recordedMs > now + tolerance)) {
    return refusal(
      'future-event',
      `Event dated ${e.at} (recorded ${e.recordedAt}) is in the future of the checking clock (${new Date(now).toISOString()}); only scheduling fields may lie in the future.`,
      e,
    );
  }
  if (e.type === 'EventVoided') {
    const voidRefusal = checkVoid(c, e);
    if (voidRefusal) return voidRefusal;
  }
  if (e.type === 'EpisodeOpened' && c.episodeId !== null) {
    return refusal('already-opened', 'The episode is already open.', e);
  }
  return null;
}

/** A void must name an accepted event of the episode, and neither its opening nor another void. */
function checkVoid(c: EpisodeContext, e: Extract<EpisodeEvent, { type: 'EventVoided' }>): Refusal | null {
  const target = c.history.find((h) => h.id === e.voidedEventId);
  if (!target) {
    return refusal(
      'unknown-event',
      c.voidedEventIds.includes(e.voidedEventId)
        ? `Event "${e.voidedEventId}" is already voided.`
        : `No accepted event "${e.voidedEventId}" in this episode to void.`,
      e,
    );
  }
  if (target.type === 'EpisodeOpened' || target.type === 'EventVoided') {
    return refusal(
      'cannot-void',
      target.type === 'EpisodeOpened'
        ? 'EpisodeOpened cannot be voided: discontinue the episode (reason "other") and open the right one.'
        : 'A void cannot be voided: record the event again under a new id.',
      e,
    );
  }
  return null;
}

/**
 * XState's pure `transition()` builds a throwaway actor and actor system on every call, which dominated replay
 * time. This machine invokes no actors and its only actions are `assign`, so one inert actor scope is built once
 * per machine and reused (the same idea as statelyai/xstate#5632 upstream). Equivalence with `transition()` is
 * covered by the episode tests and the replay benchmark's equal-work check.
 */
function inertScope(machine: EpisodeMachine) {
  const self = createActor(machine);
  const noop = () => {};
  return {
    self,
    defer: noop,
    id: '',
    logger: noop,
    sessionId: '',
    stopChild: noop,
    system: self.system,
    emit: noop,
    actionExecutor: noop,
  } as unknown as Parameters<EpisodeMachine['transition']>[2];
}

/**
 * How one machine steps an episode, shared by `decide` and `replay`: the initial state, the phase, a step through
 * the machine (on a copy of the context, or in place), why the machine refuses an event, and the rebuild of a
 * late entry or a void.
 */
function createEpisodeStepper(machine: EpisodeMachine, registry: InstrumentRegistry) {
  const env = { registry };
  const [initial] = initialTransition(machine);
  const scope = inertScope(machine);
  const phases = createPhaseReader(machine);

  /** The phase: the deepest active state's `meta.phase`; between sessions, told apart by the episode's facts. */
  function phaseOf(state: EpisodeState): EpisodePhase {
    const phase = phases.phaseOfNodes(state);
    if (phase !== 'treatment') return phase;
    const c = state.context;
    if (c.maintenance !== null) return 'maintenance';
    if (dosedSessions(c).length > 0) return 'dosing-course';
    return c.plan !== null && c.prescription !== null ? 'preparation' : 'planning';
  }

  /** Apply an event through the machine; the next state, or null when the machine did not take it. */
  function xstateStep(state: EpisodeState, e: EpisodeEvent): EpisodeState | null {
    if (state.status !== 'active') return null;
    // Accepted events always produce a new context (evolve); anything else was not taken.
    const next = machine.transition(state, e, scope);
    return next !== state && next.context !== state.context ? next : null;
  }
  // The same step without XState's per-event overhead (see fast-step.ts); XState works out new configurations.
  const step = createFastStep(machine, xstateStep);
  // And once more writing the context in place, for folds that own their state (`replay`, `EventLogFold`):
  // no copy of the context per event (see evolve.ts). The machine's scorer is this one's twin (same registry).
  const score = assessmentScorer(registry);
  const stepInPlace = createFastStep(machine, xstateStep, (c, e) => evolveInPlace(c, e, score));

  /** Why the machine does not take `e` in `state`. Phase and handled types are only worked out here (rare). */
  function explain(state: EpisodeState, e: EpisodeEvent): Refusal {
    const phase = phaseOf(state);
    const handled =
      state.status === 'active' && getNextTransitions(state).some((t) => t.eventType === e.type);
    if (!handled || phase === 'not-opened') return phases.phaseRefusal(state, phase, e);
    return checkEvent(state.context, e, env) ?? phases.phaseRefusal(state, phase, e);
  }

  /**
   * A late entry or a void: rebuild the episode in clinical order with `e` in its place (and without the event
   * a void names). Every later event must still be accepted, else the refusal names the first one that is not.
   */
  function rebuild(c: EpisodeContext, e: EpisodeEvent, inPlace: boolean): Decision {
    let next = inPlace ? ownedState(initial) : initial;
    const stepWith = inPlace ? stepInPlace : step;
    for (const x of rebuildList(c, e)) {
      const after = stepWith(next, x);
      if (after) {
        next = after;
        continue;
      }
      const why = explain(next, x);
      if (x === e) {
        // The late entry itself does not fit where its time puts it: say so with its own reason.
        const where =
          e.type === 'EventVoided'
            ? ''
            : ` (dated ${e.at}, earlier than accepted events: judged at its place in clinical time)`;
        return { ok: false, state: next, refusal: { ...why, message: `${why.message}${where}` } };
      }
      const invalidates = { eventId: x.id, type: x.type, at: x.at, code: why.code, message: why.message };
      const message =
        e.type === 'EventVoided'
          ? `Voiding "${e.voidedEventId}" would invalidate the later ${x.type} "${x.id}" at ${x.at} (${why.code}: ${why.message}); void that one first.`
          : `Event at ${e.at} is earlier than accepted events and would invalidate the later ${x.type} "${x.id}" at ${x.at} (${why.code}: ${why.message}).`;
      return {
        ok: false,
        state: next,
        refusal: refusal(e.type === 'EventVoided' ? 'void-would-invalidate' : 'out-of-order', message, e, {
          invalidates,
        }),
      };
    }
    return { ok: true, state: next, event: e };
  }

  return { initial, phaseOf, step, stepInPlace, explain, rebuild };
}

/** Options of `decide`. */
export interface DecideOptions {
  /**
   * The clock of whoever checks the event (the store's or server's time), as an ISO instant or epoch ms. An event
   * dated (or recorded) later than it by more than the policy clock tolerance is refused as `future-event`.
   * Without it only `at` against the event's own `recordedAt` is checked.
   */
  readonly now?: string | number;
}

/**
 * The episode model bound to one machine (instrument registry, policy defaults and permission table): decide,
 * replay, phase, persist and restore. The module-level functions (`decide`, `replay`, …) use the default model.
 */
export function createEpisodeModel(options: EpisodeMachineOptions & { permissions?: PermissionTable } = {}) {
  const registry = options.registry ?? createInstrumentRegistry();
  const permissions = options.permissions ?? defaultPermissions;
  const machine = createEpisodeMachine({ ...options, registry });
  const env = { registry };
  const { initial, phaseOf, step, stepInPlace, explain, rebuild } = createEpisodeStepper(machine, registry);

  /**
   * Decide whether `input` may be appended to the episode. Returns the next state, or a refusal with a typed
   * reason (`code`, human `message`, the `event`). Never a silent no-op: an event the current phase does not
   * handle is refused, not ignored. Version 1 events are upcast first (`upcastEvent`). An event dated before
   * the latest accepted one is a late entry: accepted when the history in clinical order is still valid with
   * it. An `EventVoided` rebuilds the episode without the voided event. Every refusal carries the safety
   * signals of the refused event (`safetyFlags`), whatever its code.
   *
   * @example
   * ```ts
   * const d = decide(state, { type: 'DoseAdministered', ... });
   * if (!d.ok) console.log(d.refusal.code); // 'vitals-hold'
   * ```
   */
  function decide(state: EpisodeState, input: unknown, options: DecideOptions = {}): Decision {
    return decideWith(state, input, options, false);
  }

  /** A refusal of `input` in `state`, with the safety signals `input` carries (whatever the refusal's code). */
  function refuse(state: EpisodeState, input: unknown, r: Refusal): Decision {
    const signals = safetySignalsOf(input, registry, state.context.policy);
    if (signals.length === 0) return { ok: false, state, refusal: r };
    return {
      ok: false,
      state,
      refusal: { ...r, message: `${r.message}${safetyText(signals)}`, safetyFlags: signals },
    };
  }

  /** {@link decide}; in place, `state` is the caller's own and an accepted event is written into its context. */
  function decideWith(
    state: EpisodeState,
    input: unknown,
    options: DecideOptions,
    inPlace: boolean,
  ): Decision {
    const parsed = parseEventFast(input, permissions);
    if (!parsed.success) {
      const issues = zodIssues(parsed.error);
      return refuse(
        state,
        input,
        refusal('invalid-event', `Invalid event: ${issues.map((i) => i.message).join('; ')}`, input, {
          issues,
        }),
      );
    }
    const e = parsed.data as EpisodeEvent;
    // An assessment is checked and scored once, here; the machine's guard and fold read the score carried.
    if (e.type === 'AssessmentRecorded') {
      const scored = scoreAssessment(e, env);
      if (scored.ok)
        return decideParsed(state, input, carryingScore(e, input, scored.scored), options, inPlace);
    }
    return decideParsed(state, input, e, options, inPlace);
  }

  /** {@link decideWith} after the event's schema check (and an assessment's scoring). */
  function decideParsed(
    state: EpisodeState,
    input: unknown,
    e: EpisodeEvent,
    options: DecideOptions,
    inPlace: boolean,
  ): Decision {
    const c = state.context;
    const now =
      options.now === undefined
        ? null
        : typeof options.now === 'number'
          ? options.now
          : Date.parse(options.now);
    const envelope = checkEnvelope(c, e, now !== null && Number.isNaN(now) ? null : now, permissions);
    if (envelope) return refuse(state, input, envelope);
    if (needsRebuild(c, e)) {
      const d = rebuild(c, e, inPlace);
      return d.ok ? d : refuse(state, input, d.refusal);
    }
    const next = (inPlace ? stepInPlace : step)(state, e);
    if (next) return { ok: true, state: next, event: e };
    return refuse(state, input, explain(state, e));
  }

  /**
   * Fold a log of events into an episode state. Refused events are reported (with their index) and skipped;
   * replay never throws on a bad event.
   */
  function replay(
    events: Iterable<unknown>,
    from: EpisodeState = initial,
    options: DecideOptions = {},
  ): ReplayResult {
    // The states between the first and the last event are nobody else's: each event is written into one owned
    // copy of `from` (no copy of the context per event); the last one is handed out and never written again.
    let state = from;
    let owned = false;
    let accepted = 0;
    const refusals: (Refusal & { index: number })[] = [];
    let index = 0;
    for (const event of events) {
      if (!owned) {
        state = ownedState(state);
        owned = true;
      }
      const d = decideWith(state, event, options, true);
      if (d.ok) {
        state = d.state;
        accepted++;
      } else {
        refusals.push({ ...d.refusal, index });
      }
      index++;
    }
    return { state, accepted, refusals };
  }

  /** A JSON-serialisable snapshot of the episode, tagged with the machine version. */
  function persist(state: EpisodeState): PersistedEpisode {
    return { machineVersion: EPISODE_MACHINE_VERSION, snapshot: machine.getPersistedSnapshot(state) };
  }

  /**
   * Restore a persisted episode.
   * @throws {SnapshotVersionError} when it was made by another machine version (replay the events instead).
   */
  function restore(persisted: PersistedEpisode): EpisodeState {
    if (persisted.machineVersion !== EPISODE_MACHINE_VERSION)
      throw new SnapshotVersionError(persisted.machineVersion);
    // Restoring through an actor (never started) keeps history values, so a paused episode resumes where it was.
    return createActor(machine, { snapshot: persisted.snapshot as EpisodeState }).getSnapshot();
  }

  const model = { machine, registry, permissions, initial, phaseOf, decide, replay, persist, restore };
  inPlaceDeciders.set(model, (state, input, options) => decideWith(state, input, options, true));
  return model;
}

/** `s` with an owned copy of its context (see `ownedCopy`), for a fold that writes it in place. */
export function ownedState(s: EpisodeState): EpisodeState {
  return { ...s, context: ownedCopy(s.context) };
}

type InPlaceDecide = (state: EpisodeState, input: unknown, options: DecideOptions) => Decision;
// Internal, so that the public model stays as it is: each model's decide that writes an owned state in place.
const inPlaceDeciders = new WeakMap<object, InPlaceDecide>();

/**
 * The model's `decide` for a fold that owns `state` (see `ownedState`): an accepted event is written into its
 * context, and the decision's state is that same context's. Never hand out a state you keep deciding with. A
 * model not made by `createEpisodeModel` (e.g. one with its own `decide`) keeps deciding with its `decide`.
 */
export function inPlaceDecide(model: EpisodeModel): InPlaceDecide {
  return inPlaceDeciders.get(model) ?? ((state, input, options) => model.decide(state, input, options));
}

export type EpisodeModel = ReturnType<typeof createEpisodeModel>;

const defaultModel = createEpisodeModel();

/** The state of an episode before any event (default model). */
export const initialEpisodeState: EpisodeState = defaultModel.initial;
/** Decide whether an event may be appended (default model: built-in instruments, default policy). */
export const decide: EpisodeModel['decide'] = defaultModel.decide;
/** Fold a log of events (default model). */
export const replay: EpisodeModel['replay'] = defaultModel.replay;
/** The phase of an episode (default model). */
export const phaseOf: EpisodeModel['phaseOf'] = defaultModel.phaseOf;
/** Persist an episode snapshot (default model). */
export const persistEpisode: EpisodeModel['persist'] = defaultModel.persist;
/** Restore a persisted episode snapshot (default model). */
export const restoreEpisode: EpisodeModel['restore'] = defaultModel.restore;
