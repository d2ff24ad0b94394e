import type { EpisodeEvent } from './events.js';

/**
 * The ids of an episode history, as a Set per history array, so that "was this id accepted before" (asked for
 * every event) is one look-up instead of a scan of the whole history. Histories are immutable arrays, so a Set
 * stays right for the array it belongs to; when a step appends one event (`[...history, e]`) the Set moves to
 * the new array with the id added (`carryHistoryIndex`), and the old array builds its own again if it is ever
 * asked (a refused decision from an older state). Weakly held: a history nobody keeps takes its Set with it.
 */
const index = new WeakMap<readonly EpisodeEvent[], Set<string>>();

/** Whether the history holds an event with this id. */
export function historyHasId(history: readonly EpisodeEvent[], id: string): boolean {
  let ids = index.get(history);
  if (ids === undefined) {
    ids = new Set();
    for (const h of history) ids.add(h.id);
    index.set(history, ids);
  }
  return ids.has(id);
}

/** `next` is `prev` with one event appended: move the Set of `prev` (if any) to `next`. */
export function carryHistoryIndex(prev: readonly EpisodeEvent[], next: readonly EpisodeEvent[]): void {
  if (next.length !== prev.length + 1) return;
  if (prev.length > 0 && prev[prev.length - 1] !== next[prev.length - 1]) return;
  const ids = index.get(prev);
  if (ids === undefined) return;
  ids.add(next[prev.length]!.id);
  index.delete(prev);
  index.set(next, ids);
}
