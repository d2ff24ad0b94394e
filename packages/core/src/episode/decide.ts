import { createActor, getNextTransitions, initialTransition, type SnapshotFrom } from 'xstate';
import { describeValue, KapkitError, type ValidationIssue } from '../errors.js';
import { createInstrumentRegistry } from '../instruments/builtin.js';
import { safetyFlagsOf } from '../instruments/scoring.js';
import { dosedSessions } from './context.js';
import { type EpisodeEvent, episodeEventSchema } from './events.js';
import {
  createEpisodeMachine,
  EPISODE_MACHINE_VERSION,
  type EpisodeMachine,
  type EpisodeMachineOptions,
} from './machine.js';
import { checkEvent, phaseRefusal, type Refusal, refusal } from './rules.js';

/** The state of an episode: an XState snapshot of the episode machine (context = everything folded so far). */
export type EpisodeState = SnapshotFrom<EpisodeMachine>;

/** Where an episode is in its course. */
export type EpisodePhase =
  | 'not-opened'
  | 'fit-discussion'
  | 'medical-evaluation'
  | 'ineligible'
  | 'planning'
  | 'preparation'
  | 'dosing-session'
  | 'dosing-course'
  | 'paused'
  | 'completed'
  | 'discontinued';

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

/**
 * The episode model bound to one machine (instrument registry and policy defaults): decide, replay, phase,
 * persist and restore. The module-level functions (`decide`, `replay`, …) use the default model.
 */
export function createEpisodeModel(options: EpisodeMachineOptions = {}) {
  const registry = options.registry ?? createInstrumentRegistry();
  const machine = createEpisodeMachine({ ...options, registry });
  const env = { registry };
  const [initial] = initialTransition(machine);
  // XState's pure `transition()` builds a throwaway actor and actor system on every call, which dominated
  // replay time. This machine invokes no actors and its only actions are `assign`, so one inert actor scope
  // is built once and reused (the same idea as statelyai/xstate#5632 upstream). Equivalence with
  // `transition()` is covered by the episode tests and the replay benchmark's equal-work check.
  const self = createActor(machine);
  const noop = () => {};
  const scope = {
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

  function phaseOf(state: EpisodeState): EpisodePhase {
    if (state.matches('new')) return 'not-opened';
    if (state.matches('paused')) return 'paused';
    if (state.matches('completed')) return 'completed';
    if (state.matches('discontinued')) return 'discontinued';
    if (state.matches({ open: 'fitDiscussion' })) return 'fit-discussion';
    if (state.matches({ open: { medicalEvaluation: 'ineligible' } })) return 'ineligible';
    if (state.matches({ open: 'medicalEvaluation' })) return 'medical-evaluation';
    if (state.matches({ open: { treatment: 'dosingSession' } })) return 'dosing-session';
    const c = state.context;
    if (dosedSessions(c).length > 0) return 'dosing-course';
    return c.plan !== null && c.prescription !== null ? 'preparation' : 'planning';
  }

  /**
   * Decide whether `input` may be appended to the episode. Returns the next state, or a refusal with a typed
   * reason (`code`, human `message`, the `event`). Never a silent no-op: an event the current phase does not
   * handle is refused, not ignored.
   *
   * @example
   * ```ts
   * const d = decide(state, { type: 'DoseAdministered', ... });
   * if (!d.ok) console.log(d.refusal.code); // 'vitals-hold'
   * ```
   */
  function decide(state: EpisodeState, input: unknown): Decision {
    const parsed = episodeEventSchema.safeParse(input);
    if (!parsed.success) {
      const record = input as { type?: unknown; instrument?: unknown; responses?: unknown } | null;
      let safetyFlags: ReturnType<typeof safetyFlagsOf> = [];
      if (record && record.type === 'AssessmentRecorded' && typeof record.instrument === 'string') {
        const definition = registry.find(record.instrument);
        if (definition) safetyFlags = safetyFlagsOf(definition, record.responses);
      }
      const issues = zodIssues(parsed.error);
      const positive = safetyFlags.filter((f) => f.kind === 'positive');
      return {
        ok: false,
        state,
        refusal: refusal(
          'invalid-event',
          `Invalid event: ${issues.map((i) => i.message).join('; ')}${positive.length ? ` — SAFETY: ${positive.map((f) => `${f.rule} (item ${f.item} = ${f.value})`).join(', ')} in the refused record` : ''}`,
          input,
          { issues, ...(safetyFlags.length ? { safetyFlags } : {}) },
        ),
      };
    }
    const e = parsed.data as EpisodeEvent;
    const c = state.context;
    if (c.episodeId !== null && e.episodeId !== c.episodeId) {
      return {
        ok: false,
        state,
        refusal: refusal('wrong-episode', `Event is for episode "${e.episodeId}", not "${c.episodeId}".`, e),
      };
    }
    if (c.patientId !== null && e.patientId !== c.patientId) {
      return {
        ok: false,
        state,
        refusal: refusal('wrong-patient', 'Event names another patient than the episode.', e),
      };
    }
    if (c.eventIds.includes(e.id)) {
      return {
        ok: false,
        state,
        refusal: refusal('duplicate-event-id', `Event id "${e.id}" was already accepted.`, e),
      };
    }
    if (c.lastEventMs !== null && Date.parse(e.at) < c.lastEventMs) {
      return {
        ok: false,
        state,
        refusal: refusal(
          'out-of-order',
          `Event at ${e.at} is earlier than the last accepted event (${c.lastEventAt}).`,
          e,
        ),
      };
    }
    if (state.status === 'active') {
      // Accepted events always produce a new context (evolve); anything else was not taken.
      const next = machine.transition(state, e, scope);
      if (next !== state && next.context !== c) return { ok: true, state: next, event: e };
    }
    // Refused: say why. Phase and the handled event types are only worked out on this (rare) path.
    const phase = phaseOf(state);
    const handled =
      state.status === 'active' && getNextTransitions(state).some((t) => t.eventType === e.type);
    if (!handled) return { ok: false, state, refusal: phaseRefusal(phase, e) };
    return { ok: false, state, refusal: checkEvent(c, e, env) ?? phaseRefusal(phase, e) };
  }

  /**
   * Fold a log of events into an episode state. Refused events are reported (with their index) and skipped;
   * replay never throws on a bad event.
   */
  function replay(events: Iterable<unknown>, from: EpisodeState = initial): ReplayResult {
    let state = from;
    let accepted = 0;
    const refusals: (Refusal & { index: number })[] = [];
    let index = 0;
    for (const event of events) {
      const d = decide(state, event);
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

  return { machine, registry, initial, phaseOf, decide, replay, persist, restore };
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
