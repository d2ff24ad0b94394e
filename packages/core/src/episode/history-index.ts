import type { EpisodeEvent } from './events.js';

/**
 * The ids of an episode history (and its treatment-stop events), as a Set per history array, so that "was this id accepted before" (asked for
 * every event) is one look-up instead of a scan of the whole history. A history only ever grows at its end
 * (a fold writing in place pushes to it; a copying step appends to a copy), so the Set remembers how many
 * events it holds and takes in the ones appended since. When a copying step appends one event
 * (`[...history, e]`) the Set moves to the new array (`carryHistoryIndex`), and the old array builds its own
 * again if it is ever asked (a refused decision from an older state). The entry is a hidden property of the
 * array (a non-enumerable symbol key: deep equality, JSON and copies do not see it), so a history nobody keeps
 * takes its Set with it; a look-up in a WeakMap keyed by every history cost more than the Set look-up itself,
 * and weak tables slow every garbage collection down.
 */
interface HistoryIds {
  readonly ids: Set<string>;
  /** The events that start or lift a treatment stop, in history order (see {@link historyStopEvents}). */
  readonly stops: EpisodeEvent[];
  /** How many events of the array are in `ids` (and `stops`). */
  n: number;
}
const ENTRY: unique symbol = Symbol('kapkit history index');
type Indexed = readonly EpisodeEvent[] & { [ENTRY]?: HistoryIds | undefined };
// Histories that cannot take a property (frozen by their owner) keep their entry here.
const frozen = new WeakMap<readonly EpisodeEvent[], HistoryIds>();

function getEntry(history: readonly EpisodeEvent[]): HistoryIds | undefined {
  return (history as Indexed)[ENTRY] ?? frozen.get(history);
}

function setEntry(history: readonly EpisodeEvent[], entry: HistoryIds | undefined): void {
  if (Object.hasOwn(history, ENTRY)) (history as { [ENTRY]?: HistoryIds | undefined })[ENTRY] = entry;
  else if (!Object.isExtensible(history)) {
    if (entry === undefined) frozen.delete(history);
    else frozen.set(history, entry);
  } else if (entry !== undefined) {
    Object.defineProperty(history, ENTRY, {
      value: entry,
      writable: true,
      enumerable: false,
      configurable: true,
    });
  }
}

/** The entry of a history, caught up with the events appended since it was last asked. */
function entryOf(history: readonly EpisodeEvent[]): HistoryIds {
  let entry = getEntry(history);
  if (entry === undefined) {
    entry = { ids: new Set(), stops: [], n: 0 };
    setEntry(history, entry);
  }
  for (; entry.n < history.length; entry.n++) {
    const e = history[entry.n]!;
    entry.ids.add(e.id);
    if (
      e.type === 'MedicalEvaluationCompleted' ||
      e.type === 'PrescriptionIssued' ||
      e.type === 'MedicalFollowUpCompleted'
    ) {
      entry.stops.push(e);
    }
  }
  return entry;
}

/** Whether the history holds an event with this id. */
export function historyHasId(history: readonly EpisodeEvent[], id: string): boolean {
  return entryOf(history).ids.has(id);
}

/**
 * The events of the history that start or lift a treatment stop (medical evaluations, prescriptions, follow-ups),
 * in history order: what the treatment-stop rule reads at every booking and dose, without a scan of the whole
 * history each time. Do not change the array.
 */
export function historyStopEvents(history: readonly EpisodeEvent[]): readonly EpisodeEvent[] {
  return entryOf(history).stops;
}

/** `next` is `prev` with one event appended: move the Set of `prev` (if any) to `next`. */
export function carryHistoryIndex(prev: readonly EpisodeEvent[], next: readonly EpisodeEvent[]): void {
  if (prev === next || next.length !== prev.length + 1) return;
  if (prev.length > 0 && prev[prev.length - 1] !== next[prev.length - 1]) return;
  const entry = getEntry(prev);
  if (entry === undefined || entry.n !== prev.length) return;
  setEntry(prev, undefined);
  setEntry(next, entry);
}
