import type { EpisodeEvent } from './events.js';

/**
 * The ids of an episode history (and its treatment-stop events), as a Set per history array, so that "was this id accepted before" (asked for
 * every event) is one look-up instead of a scan of the whole history. A history only ever grows at its end
 * (a fold writing in place pushes to it; a copying step appends to a copy), so the Set remembers how many
 * events it holds and takes in the ones appended since. When a copying step appends one event
 * (`[...history, e]`) the Set moves to the new array (`carryHistoryIndex`), and the old array builds its own
 * again if it is ever asked (a refused decision from an older state). Weakly held: a history nobody keeps
 * takes its Set with it.
 */
interface HistoryIds {
  readonly ids: Set<string>;
  /** The events that start or lift a treatment stop, in history order (see {@link historyStopEvents}). */
  readonly stops: EpisodeEvent[];
  /** How many events of the array are in `ids` (and `stops`). */
  n: number;
}
const index = new WeakMap<readonly EpisodeEvent[], HistoryIds>();

/** The entry of a history, caught up with the events appended since it was last asked. */
function entryOf(history: readonly EpisodeEvent[]): HistoryIds {
  let entry = index.get(history);
  if (entry === undefined) {
    entry = { ids: new Set(), stops: [], n: 0 };
    index.set(history, entry);
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
  const entry = index.get(prev);
  if (entry === undefined || entry.n !== prev.length) return;
  index.delete(prev);
  index.set(next, entry);
}
