import { beforeAll, expect } from 'vitest';
import { transition } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import {
  decide,
  type EpisodeState,
  initialEpisodeState,
  phaseOf,
  replay,
} from '../../../src/episode/decide.js';
import type { EpisodeEvent } from '../../../src/episode/events.js';
import { episodeMachine } from '../../../src/episode/machine.js';
import { refusalCodes } from '../../../src/episode/rules.js';
import { statusAt } from '../../../src/episode/status.js';
import { inSessionTypes } from '../event-groups.js';
import {
  type AbstractState,
  abstractKey,
  type Edge,
  eventsOf,
  explored,
  handledTypes,
  inProgress,
  traversal,
  whereOf,
} from './abstraction.js';
import {
  DAY,
  FLAG_ASSESSMENT_ID,
  fixedSamples,
  type Path,
  SEVERE_ADVERSE_ID,
  type Snapshot,
  samplesFor,
  stamp,
  timeOf,
  VOID,
} from './samples.js';

// Replaying the shortest paths through decide and probing every vertex with the samples, late entries and voids.

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
  // Closed: only safety reporting and reviews are handled.
  if (k.sessions === undefined) return [...v, k.safety];
  // An in-session event reads the session it names, and whether another one is in progress.
  const i = sessionIndex(e);
  const named = [i >= 0 ? k.sessions[i] : null, k.sessions.some(inProgress)];
  switch (e.type) {
    case 'DosingSessionScheduled':
      return [...v, k.sessions, k.stopped];
    case 'VitalsRecorded':
    case 'DosingSessionCompleted':
    case 'DosingSessionAborted':
      return [...v, named];
    case 'DoseAdministered': {
      // The dose rules: the session, the gates (stop, unreviewed signals), the prescription, the supply on
      // hand, plan and training, a preparation before the first dose, an integration since the last one.
      const dosed = (k.dosed as number) > 0;
      return [
        ...v,
        named,
        k.stopped,
        k.safety,
        k.rx,
        k.onHand,
        k.planned,
        k.trained,
        dosed || (k.preparations as number) > 0,
        !dosed || (k.integrations as number) > 0,
      ];
    }
    case 'PrescriptionIssued':
      return [...v, k.planned, k.rx, k.followUp];
    case 'MedicationDelivered':
      return [...v, k.rx, k.authorizedLeft];
    case 'RefillIssued':
      return [...v, k.rx, k.followUp, k.stopped];
    case 'SafetyFlagReviewed':
    case 'AdverseEventReviewed':
      return [...v, k.safety];
    case 'IntegrationSessionCompleted':
      return [...v, k.sessions, k.dosed];
    case 'EpisodeCompleted':
      return [...v, k.dosed, k.planned];
    case 'MedicalEvaluationCompleted':
      return [...v, k.stopped];
    default:
      return v;
  }
}

/** Replays sample events through `decide` with fresh ids, a day apart. */
export class Replayer {
  constructor(
    readonly state: EpisodeState = initialEpisodeState,
    /** The events accepted so far, as decided (fresh ids). */
    readonly events: readonly EpisodeEvent[] = [],
    /** Sample id → the fresh id it was replayed under (for the ids events refer to). */
    readonly ids: ReadonlyMap<string, string> = new Map(),
  ) {}

  get depth(): number {
    return this.events.length;
  }

  /** The sample as `decide` sees it: a fresh id, dated (and recorded) a day after everything replayed so far. */
  fresh(e: EpisodeEvent, tag = ''): EpisodeEvent {
    const out = stamp({ ...e, id: `mb-${this.depth + 1}${tag}` } as EpisodeEvent, this.depth + 1);
    const ref = (id: string) => this.ids.get(id) ?? id;
    if (out.type === 'SafetyFlagReviewed') return { ...out, assessmentEventId: ref(out.assessmentEventId) };
    if (out.type === 'AdverseEventReviewed') return { ...out, adverseEventId: ref(out.adverseEventId) };
    if (out.type === 'EventVoided') return { ...out, voidedEventId: ref(out.voidedEventId) };
    return out;
  }

  step(e: EpisodeEvent) {
    const input = this.fresh(e);
    const d = decide(this.state, input);
    const ids = new Map(this.ids).set(e.id, input.id);
    return { decision: d, next: d.ok ? new Replayer(d.state, [...this.events, d.event], ids) : undefined };
  }
}

/**
 * Replays paths through `decide`, memoising every prefix (paths share prefixes), so each edge is replayed once.
 * Throws, naming the step and the refusal, when decide refuses an event of a machine path.
 */
export function createPathReplayer() {
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

/** The first event `replay` refuses in `events` (in order, no late entries), or null when it accepts them all. */
function firstRefused(events: readonly EpisodeEvent[]) {
  const r = replay(events);
  const first = r.refusals[0];
  return {
    state: r.state,
    refused: first === undefined ? null : { event: events[first.index]!, code: first.code },
  };
}

/** What the void and late-entry probes saw (see `probeVoids` and `probeLateEntries`). */
interface TimeProbes {
  /** `where:type:outcome`, outcome an accepted void or late entry, or the refusal code. */
  readonly seen: Set<string>;
  /** Late entries accepted that raised a `late-entry` alert (a dose went ahead without knowing them). */
  lateEntryAlerts: number;
  checked: number;
}

/**
 * Voids at a vertex reached by `r`: of its last event and of one halfway. A void is decided as the history
 * without the voided event: accepted, with the same context as `replay` of the events without it (plus the void),
 * when every later event is still accepted; else refused `void-would-invalidate`, naming the first later event
 * replay refuses and why. EpisodeOpened and voids cannot be voided; an unknown or voided id is `unknown-event`.
 */
function probeVoids(r: Replayer, where: string, seen: TimeProbes, once: Set<string>) {
  const n = r.events.length;
  const targets = new Set([n - 1, Math.floor(n / 2)]);
  for (const i of targets) {
    const target = r.events[i];
    if (target === undefined) continue;
    const key = `void|${where}|${target.type}|${i === n - 1}`;
    if (once.has(key)) continue;
    once.add(key);
    seen.checked++;
    const v = { ...r.fresh(VOID, `-void${i}`), voidedEventId: target.id } as EpisodeEvent;
    const d = decide(r.state, v);
    if (target.type === 'EpisodeOpened') {
      if (d.ok || d.refusal.code !== 'cannot-void')
        throw new Error(`void of EpisodeOpened at ${where}: not cannot-void`);
      seen.seen.add(`${where}:EventVoided:cannot-void`);
      continue;
    }
    const without = firstRefused(r.events.filter((_, j) => j !== i));
    if (without.refused === null) {
      if (!d.ok)
        throw new Error(
          `void of ${target.type} at ${where}: refused ${d.refusal.code}: ${d.refusal.message}`,
        );
      // The history without the voided event, the void recorded.
      const [expected] = transition(episodeMachine, without.state, v);
      expect(d.state.context).toEqual(expected.context);
      expect(d.state.value).toEqual(expected.value);
      seen.seen.add(`${where}:EventVoided:accepted`);
      // The void is in the history; the voided event is not, and cannot be voided again, nor the void.
      const again = decide(d.state, {
        ...v,
        id: `${v.id}-again`,
        at: timeOf(n + 2),
        recordedAt: timeOf(n + 2),
      });
      const ofVoid = decide(d.state, {
        ...v,
        id: `${v.id}-of-void`,
        voidedEventId: v.id,
        at: timeOf(n + 2),
        recordedAt: timeOf(n + 2),
      });
      if (again.ok || again.refusal.code !== 'unknown-event') throw new Error('a voided event voided again');
      if (ofVoid.ok || ofVoid.refusal.code !== 'cannot-void') throw new Error('a void voided');
      seen.seen.add(`${where}:EventVoided:unknown-event`);
      seen.seen.add(`${where}:EventVoided:cannot-void`);
    } else {
      if (d.ok)
        throw new Error(`void of ${target.type} at ${where}: accepted, but ${without.refused.code} after`);
      expect(d.refusal.code).toBe('void-would-invalidate');
      expect(d.refusal.invalidates).toMatchObject({
        eventId: without.refused.event.id,
        type: without.refused.event.type,
        code: without.refused.code,
      });
      expect(d.refusal.message).toContain(without.refused.event.id);
      expect(d.state).toBe(r.state);
      seen.seen.add(`${where}:EventVoided:void-would-invalidate`);
    }
  }
}

/** Samples entered late at every vertex: what a clinic records after the fact. */
const LATE = [
  'g-assessment',
  FLAG_ASSESSMENT_ID,
  SEVERE_ADVERSE_ID,
  'g-follow-up-stop',
  'g-paused',
  'g-prep',
  'g-completed-reason',
].map((id) => fixedSamples.find((e) => e.id === id)!);

/**
 * Late entries at a vertex reached by `r`: each `LATE` sample dated between the last two events, recorded now
 * (after them) or back-dated (recorded when it happened, as an upcast version 1 event is). A late entry is
 * decided as the history in clinical order with it: accepted, with the same context as `replay` of that history,
 * when every event is accepted; refused with its own code when it is itself refused there; else refused
 * `out-of-order`, naming the later event replay refuses and why.
 */
function probeLateEntries(r: Replayer, where: string, seen: TimeProbes, once: Set<string>) {
  const n = r.events.length;
  if (n < 2) return;
  const last = r.events[n - 1]!;
  for (const x of LATE) {
    for (const recorded of ['now', 'back-dated'] as const) {
      const key = `late|${where}|${x.id}|${recorded}|${last.type}`;
      if (once.has(key)) continue;
      once.add(key);
      seen.checked++;
      // Dated half a day before the last event; recorded after it, or when it happened.
      const at = new Date(Date.parse(last.at) - DAY / 2).toISOString();
      const late = {
        ...r.fresh(x, '-late'),
        at,
        recordedAt: recorded === 'now' ? timeOf(n + 1) : at,
      } as EpisodeEvent;
      const d = decide(r.state, late);
      const inOrder = firstRefused([...r.events.slice(0, -1), late, last]);
      if (inOrder.refused === null) {
        if (!d.ok)
          throw new Error(`late ${x.id} at ${where}: refused ${d.refusal.code}: ${d.refusal.message}`);
        expect(d.state.context).toEqual(inOrder.state.context);
        expect(d.state.value).toEqual(inOrder.state.value);
        seen.seen.add(`${where}:${x.type}:accepted`);
        if (statusAt(d.state, timeOf(n + 1)).alerts.some((a) => a.code === 'late-entry')) {
          seen.lateEntryAlerts++;
          // Only a signal or a stop unknown when a later dose was recorded raises it.
          expect(recorded).toBe('now');
          expect(last.type).toBe('DoseAdministered');
        }
      } else if (d.ok) {
        throw new Error(`late ${x.id} at ${where}: accepted, but ${inOrder.refused.code} in clinical order`);
      } else if (inOrder.refused.event === late) {
        expect(d.refusal.code).toBe(inOrder.refused.code);
        expect(d.refusal.invalidates).toBeUndefined();
      } else {
        expect(d.refusal.code).toBe('out-of-order');
        expect(d.refusal.invalidates).toMatchObject({
          eventId: last.id,
          type: last.type,
          code: inOrder.refused.code,
        });
        seen.seen.add(`${where}:${x.type}:out-of-order:${inOrder.refused.code}`);
      }
    }
  }
}

/**
 * Replays every shortest path through decide (same abstract state, value and phase as the machine's), then, at
 * every vertex, probes every sample: decide must accept it exactly when the machine takes a transition for it,
 * reach the same abstract state when it does, and give a known refusal code and a message when it does not.
 * Then probes voids and late entries there. Throws on the first disagreement. Records what was accepted and
 * refused where (`where:type`, `where:type:code`). Memoised: several tests read its results.
 */
function replayAndProbe(paths: readonly Path[]) {
  const acceptedTypes = new Set<string>();
  const refusalsSeen = new Set<string>();
  const acceptedIn = new Set<string>();
  const refusedIn = new Set<string>();
  const time: TimeProbes = { seen: new Set(), lateEntryAlerts: 0, checked: 0 };
  const timeOnce = new Set<string>();
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
          `${e.id} at ${key}: machine ${machineAccepts ? 'accepts' : 'refuses'}, decide ${d.ok ? 'accepts' : `refuses (${d.refusal.code}: ${d.refusal.message})`}`,
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
    probeVoids(r, where, time, timeOnce);
    probeLateEntries(r, where, time, timeOnce);
  }
  // Late entries and voids are decided in clinical order, not in the phase of the vertex: their outcomes count
  // for the codes and types seen, not for what each phase accepts.
  for (const x of time.seen) {
    const [, type, outcome] = x.split(':') as [string, string, string];
    if (outcome === 'accepted') acceptedTypes.add(type);
    else refusalsSeen.add(outcome);
  }
  return { checked, acceptedTypes, refusalsSeen, acceptedIn, refusedIn, time };
}

export const BETWEEN_SESSIONS = { open: { treatment: 'betweenSessions' } } as const;
export const IN_SESSION: readonly string[] = inSessionTypes;
/** The session an in-session sample names (its index in the abstract state's sessions), or -1. */
export const sessionIndex = (e: EpisodeEvent) =>
  'sessionId' in e && typeof e.sessionId === 'string' && /^s\d+$/.test(e.sessionId)
    ? Number(e.sessionId.slice(1)) - 1
    : -1;

/**
 * The machine traversed with xstate/graph: its shortest paths and the edges explored, and (after the `beforeAll`
 * this registers) every path replayed and probed through decide.
 */
export function traverseMachine() {
  const paths = getShortestPaths(episodeMachine, traversal) as Path[];
  const edges = [...explored.values()].filter((x): x is Edge => x !== null);
  let probed: ReturnType<typeof replayAndProbe> | undefined;
  // Replaying and probing every path is the heavy part (tens of seconds on a loaded 2-core machine): it runs
  // once, in a hook with a generous limit, so that no test's own time limit depends on the machine's speed.
  beforeAll(() => {
    probed = replayAndProbe(paths);
  }, 600_000);
  const probe = () => {
    if (!probed) throw new Error('the paths were not replayed (beforeAll did not run)');
    return probed;
  };
  return { paths, edges, probe };
}

/** Asserts that every one of `wanted` (strings, or matchers) is among the `seen` outcomes. */
export function expectAmong(seen: Iterable<string>, wanted: readonly unknown[]): void {
  expect([...seen]).toEqual(expect.arrayContaining([...wanted]));
}
