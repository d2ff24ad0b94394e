import type { EpisodeEvent } from './events.js';

/**
 * The ids of an episode history, as a Set per history array, so that "was this id accepted before" (asked for
 * every event) is one look-up instead of a scan of the whole history. A history only ever grows at its end
 * (a fold writing in place pushes to it; a copying step appends to a copy), so the Set remembers how many
 * events it holds and takes in the ones appended since. When a copying step appends one event
 * (`[...history, e]`) the Set moves to the new array (`carryHistoryIndex`), and the old array builds its own
 * again if it is ever asked (a refused decision from an older state). Weakly held: a history nobody keeps
 * takes its Set with it.
 */
interface HistoryIds {
  readonly ids: Set<string>;
  /** How many events of the array are in `ids`. */
  n: number;
}
const index = new WeakMap<readonly EpisodeEvent[], HistoryIds>();

/** Whether the history holds an event with this id. */
export function historyHasId(history: readonly EpisodeEvent[], id: string): boolean {
  let entry = index.get(history);
  if (entry === undefined) {
    entry = { ids: new Set(), n: 0 };
    index.set(history, entry);
  }
  for (; entry.n < history.length; entry.n++) entry.ids.add(history[entry.n]!.id);
  return entry.ids.has(id);
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
