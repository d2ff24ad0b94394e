import type { AnyStateMachine, StateNode } from 'xstate';
import type { EpisodeEvent } from './events.js';
import { type Refusal, type RefusalCode, refusal } from './rules.js';

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
  | 'maintenance'
  | 'paused'
  | 'completed'
  | 'discontinued';

/**
 * What a state of the episode machine says about itself, in its `meta`: the phase it stands for and why it
 * refuses the event types it does not take. `decide` explains every refusal of the machine from these alone, so
 * the machine's states are the one place where the course's phases and their refusals are written down.
 */
export interface EpisodeStateMeta {
  /**
   * The phase when this is the deepest active state that names one. `treatment` (between dosing sessions) is
   * told apart from the episode's facts: planning, preparation, dosing course or maintenance.
   */
  readonly phase?: EpisodePhase | 'treatment';
  /** Refusals for event types that no active state takes. */
  readonly refuse?: {
    /** This state is active: the code for these event types. */
    readonly events?: Partial<Record<EpisodeEvent['type'], RefusalCode>>;
    /** This state is active: the code for every other event type it does not take. */
    readonly other?: RefusalCode;
    /**
     * This state is not active: the code for the event types it or its children take (one code for all, or a
     * code per event type).
     */
    readonly inactive?: RefusalCode | Partial<Record<EpisodeEvent['type'], RefusalCode>>;
  };
}

type Node = StateNode<never, never>;

function metaOf(node: Node): EpisodeStateMeta {
  return (node.meta ?? {}) as EpisodeStateMeta;
}

/** Every state node of the machine, parents before children. */
function allNodes(machine: AnyStateMachine): Node[] {
  const out: Node[] = [];
  const walk = (n: Node) => {
    out.push(n);
    for (const child of Object.values(n.states)) walk(child as Node);
  };
  walk(machine.root as unknown as Node);
  return out;
}

/** The sentence for a refusal code given by a phase (codes given by the data rules have their own). */
function phaseMessage(code: RefusalCode, phase: EpisodePhase, e: EpisodeEvent): string {
  switch (code) {
    case 'episode-closed':
      return `The episode is ${phase}; ${e.type} cannot be recorded.`;
    case 'episode-not-opened':
      return `${e.type} before EpisodeOpened.`;
    case 'already-opened':
      return 'The episode is already open.';
    case 'episode-paused':
      return `The episode is paused; ${e.type} cannot be recorded until EpisodeResumed.`;
    case 'not-paused':
      return 'The episode is not paused.';
    case 'fit-not-established':
      return e.type === 'MedicalEvaluationScheduled'
        ? 'Schedule the medical evaluation after a good-fit assessment.'
        : 'The medical evaluation needs a good-fit assessment first.';
    case 'evaluation-not-scheduled':
      return 'Schedule the medical evaluation (MedicalEvaluationScheduled) before completing it.';
    case 'not-eligible':
      return `${e.type} refused: the medical evaluation has not found the patient eligible (phase: ${phase}).`;
    case 'session-in-progress':
      return `${e.type} refused: a dosing session is in progress; complete or abort it first.`;
    case 'no-session-in-progress':
      return `${e.type} refused: no dosing session is in progress.`;
    default:
      return phase === 'paused'
        ? `${e.type} is not allowed while paused.`
        : `${e.type} is not allowed in phase "${phase}".`;
  }
}

/**
 * Phases and phase refusals read off a machine's state `meta` (see {@link EpisodeStateMeta}). Refusals are looked
 * up in this order: the active states from the deepest up (`events`, then `other`); then the outermost inactive
 * state that takes the event type and says why it is not active (`inactive`); else `not-allowed-in-phase`.
 */
export function createPhaseReader(machine: AnyStateMachine) {
  const nodes = allNodes(machine);
  // Inactive-state rules, outermost first (document order puts parents before children).
  const inactiveRules: { node: Node; codes: Map<string, RefusalCode> }[] = [];
  for (const node of nodes) {
    const inactive = metaOf(node).refuse?.inactive;
    if (inactive === undefined) continue;
    const codes = new Map<string, RefusalCode>(
      typeof inactive === 'string'
        ? node.events.map((t) => [t, inactive])
        : (Object.entries(inactive) as [string, RefusalCode][]),
    );
    inactiveRules.push({ node, codes });
  }

  /** Active state nodes, deepest first. */
  function activeNodes(state: { _nodes: readonly unknown[] }): Node[] {
    return [...(state._nodes as readonly Node[])].reverse();
  }

  /** The phase a state stands for; `treatment` is refined by the caller from the episode's facts. */
  function phaseOfNodes(state: { _nodes: readonly unknown[] }): EpisodePhase | 'treatment' {
    for (const n of activeNodes(state)) {
      const phase = metaOf(n).phase;
      if (phase !== undefined) return phase;
    }
    return 'not-opened';
  }

  /** Why no active state takes `e` (the machine has no transition for it, or its guards refuse it). */
  function phaseRefusal(
    state: { _nodes: readonly unknown[] },
    phase: EpisodePhase,
    e: EpisodeEvent,
  ): Refusal {
    const active = activeNodes(state);
    let code: RefusalCode | undefined;
    for (const n of active) {
      const r = metaOf(n).refuse;
      code = r?.events?.[e.type] ?? r?.other;
      if (code !== undefined) break;
    }
    if (code === undefined) {
      const activeSet = new Set(active);
      code = inactiveRules.find((r) => !activeSet.has(r.node) && r.codes.has(e.type))?.codes.get(e.type);
    }
    const c = code ?? 'not-allowed-in-phase';
    return refusal(c, phaseMessage(c, phase, e), e);
  }

  return { phaseOfNodes, phaseRefusal };
}
