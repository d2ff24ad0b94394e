import type { EpisodeContext } from './context.js';
import type { EpisodeState } from './decide.js';
import type { EpisodeEvent } from './events.js';
import { carryHistoryIndex } from './history-index.js';
import type { EpisodeMachine } from './machine.js';

/** One step of the episode machine: the next state, or null when the machine does not take the event. */
export type EpisodeStep = (state: EpisodeState, e: EpisodeEvent) => EpisodeState | null;

// The parts of XState's state nodes and transitions this module reads (public fields of `StateNode`).
interface NodeLike {
  readonly type: string;
  readonly parent?: NodeLike;
  readonly states: Record<string, NodeLike>;
  readonly transitions: Map<string, readonly TransitionLike[]>;
  readonly always?: readonly unknown[];
  readonly entry: readonly unknown[];
  readonly exit: readonly unknown[];
  readonly invoke: readonly unknown[];
  readonly config: { readonly after?: unknown };
}
interface TransitionLike {
  readonly guard?: unknown;
  readonly target?: readonly unknown[] | undefined;
  readonly actions: readonly unknown[];
  readonly reenter?: boolean;
}
type Guard = (args: { context: EpisodeContext; event: EpisodeEvent }, params: undefined) => boolean;
type Assigner = (args: { context: EpisodeContext; event: EpisodeEvent }) => EpisodeContext;

/** A candidate transition for an event type in one configuration, in XState's order of selection. */
interface Candidate {
  readonly guard: Guard | null;
  /** Index among the candidates (the key of the cached configuration it leads to). */
  readonly index: number;
  /** Targetless: the configuration stays as it is and only the context changes. */
  readonly internal: boolean;
}

/** The configuration part of a snapshot (everything but the context). */
interface Shape {
  readonly value: EpisodeState['value'];
  readonly _nodes: EpisodeState['_nodes'];
  readonly tags: EpisodeState['tags'];
  readonly historyValue: EpisodeState['historyValue'];
}

/**
 * The machine's structure allows the fast step: no parallel states, eventless, delayed or invoked transitions,
 * no entry or exit actions, no wildcard event descriptors, guards by name with plain functions, and every
 * transition runs exactly the one `assign` action `evolve`. Returns the assigner, or null when any of it fails
 * (the fast step then simply is XState's).
 */
function fastAssigner(machine: EpisodeMachine): Assigner | null {
  const impl = machine.implementations as unknown as {
    guards: Record<string, unknown>;
    actions: Record<string, unknown>;
  };
  const evolveAction = impl.actions.evolve as { type?: string; assignment?: unknown } | undefined;
  if (evolveAction?.type !== 'xstate.assign' || typeof evolveAction.assignment !== 'function') return null;
  const ok = (node: NodeLike): boolean => {
    if (node.type === 'parallel' || node.type === 'final') return false;
    if (node.always?.length || node.entry.length || node.exit.length || node.invoke.length) return false;
    if (node.config.after) return false;
    for (const [type, ts] of node.transitions) {
      if (type.includes('*')) return false;
      for (const t of ts) {
        if (t.reenter) return false;
        if (t.actions.length !== 1 || t.actions[0] !== 'evolve') return false;
        if (t.guard !== undefined) {
          if (typeof t.guard !== 'string') return false;
          const g = impl.guards[t.guard];
          if (typeof g !== 'function' || 'check' in g) return false;
        }
      }
    }
    return Object.values(node.states).every(ok);
  };
  return ok(machine.root as unknown as NodeLike) ? (evolveAction.assignment as Assigner) : null;
}

/** The next state, its history's id index carried over from the state before (see history-index.ts). */
function carry(state: EpisodeState, next: EpisodeState): EpisodeState {
  carryHistoryIndex(state.context.history, next.context.history);
  return next;
}

/** The content of a history value: per history node, the ids of the state nodes it remembers. */
function historyKey(h: EpisodeState['historyValue']): string {
  let out = '';
  for (const [id, nodes] of Object.entries(h)) {
    out += `${id}=${(nodes as readonly { id: string }[]).map((n) => n.id).join(',')};`;
  }
  return out;
}

/**
 * A step equal to XState's `machine.transition` for the episode machine, without its per-event overhead (it was
 * most of the cost of deciding an event). The transition is selected as XState selects it: the candidates for the
 * event type from the active atomic state up to the root, in document order, the first whose guard passes
 * (guards are the machine's own implementations). The context is the machine's own `evolve` assignment. The
 * configuration after a transition that has a target (state value, active nodes, history) is computed by XState
 * the first time it occurs and reused after that; a targetless transition keeps the configuration. When the
 * machine's structure has anything this does not model (see `fastAssigner`), XState does every step.
 *
 * The episode tests and the replay benchmark check it against XState state by state.
 */
export function createFastStep(
  machine: EpisodeMachine,
  slow: EpisodeStep,
  /**
   * The machine's `evolve` written in place, for a fold that owns its state's context (see evolve.ts): used
   * instead of the machine's own copying assignment. XState's steps (new configurations) still copy.
   */
  inPlace?: (context: EpisodeContext, event: EpisodeEvent) => EpisodeContext,
): EpisodeStep {
  const machineAssign = fastAssigner(machine);
  if (machineAssign === null) return slow;
  const assign: Assigner =
    inPlace === undefined ? machineAssign : ({ context, event }) => inPlace(context, event);
  const guards = (machine.implementations as unknown as { guards: Record<string, Guard> }).guards;
  // Per active-node list: the candidates by event type.
  const candidatesByNodes = new WeakMap<object, Map<string, readonly Candidate[]>>();
  // Per active-node list: the shape after an event type's candidate from a history value (by content).
  const shapes = new WeakMap<object, Map<string, Shape>>();
  // One active-node list per configuration, so that the caches above hit.
  const canonical = new Map<string, Shape>();

  function candidates(state: EpisodeState, type: string): readonly Candidate[] | null {
    const nodes = state._nodes as unknown as readonly NodeLike[];
    let byType = candidatesByNodes.get(nodes);
    if (byType === undefined) {
      byType = new Map();
      candidatesByNodes.set(nodes, byType);
    }
    let list = byType.get(type);
    if (list !== undefined) return list;
    const atomic = nodes.filter((n) => n.type === 'atomic');
    if (atomic.length !== 1) return null;
    const out: Candidate[] = [];
    for (let n: NodeLike | undefined = atomic[0]; n !== undefined; n = n.parent) {
      for (const t of n.transitions.get(type) ?? []) {
        out.push({
          guard: t.guard === undefined ? null : (guards[t.guard as string] as Guard),
          index: out.length,
          internal: t.target === undefined || t.target.length === 0,
        });
      }
    }
    list = out;
    byType.set(type, list);
    return list;
  }

  function canonicalShape(s: EpisodeState): Shape {
    const key = JSON.stringify(s.value);
    let shape = canonical.get(key);
    if (shape === undefined) {
      shape = { value: s.value, _nodes: s._nodes, tags: s.tags, historyValue: s.historyValue };
      canonical.set(key, shape);
    }
    return shape;
  }

  return (state, e) => {
    if (state.status !== 'active') return null;
    const list = candidates(state, e.type);
    if (list === null) return slow(state, e);
    const context = state.context;
    let chosen: Candidate | undefined;
    for (const c of list) {
      if (c.guard === null || c.guard({ context, event: e }, undefined)) {
        chosen = c;
        break;
      }
    }
    if (chosen === undefined) return null;
    if (chosen.internal) {
      // In place, the state is the fold's own and only its context changes: it is written, not copied.
      if (inPlace !== undefined) {
        const written = inPlace(context, e);
        return written === context ? state : { ...state, context: written };
      }
      return carry(state, { ...state, context: assign({ context, event: e }) });
    }
    // A transition with a target: its configuration from the cache, else from XState (then cached).
    const key = `${e.type}\u0000${chosen.index}\u0000${historyKey(state.historyValue)}`;
    let byKey = shapes.get(state._nodes);
    const hit = byKey?.get(key);
    if (hit !== undefined) {
      return carry(state, {
        ...state,
        value: hit.value,
        _nodes: hit._nodes,
        tags: hit.tags,
        historyValue: hit.historyValue,
        context: assign({ context, event: e }),
      });
    }
    const next = slow(state, e);
    if (next === null) return null;
    const shape = canonicalShape(next);
    const fixed: Shape = { ...shape, historyValue: next.historyValue };
    if (byKey === undefined) {
      byKey = new Map();
      shapes.set(state._nodes, byKey);
    }
    byKey.set(key, fixed);
    return carry(state, { ...next, _nodes: fixed._nodes, tags: fixed.tags });
  };
}
