import { createInstrumentRegistry } from '../instruments/builtin.js';
import type { InstrumentRegistry } from '../instruments/registry.js';
import { applyAccepted, type EpisodeContext, emptyContext } from './context.js';
import type { EpisodeEvent } from './events.js';
import type { EpisodePolicy } from './policy.js';
import { assessmentScorer } from './rules.js';

/**
 * Read-side projection: fold events that were already accepted (e.g. read back from the event store) into
 * episode contexts, without running the state machine or re-validating. Events of different episodes may be
 * interleaved; each episode's events must be in the order they were accepted (recording order). Late entries
 * and voids are applied as the machine applied them (the episode is rebuilt in clinical order), so the result
 * equals the machine's context. Use `replay`/`decide` for anything that is not yet known to be valid.
 *
 * @example
 * ```ts
 * const episodes = projectEpisodes(store.streamAll());
 * for (const [id, c] of episodes) console.log(id, c.assessments.length);
 * ```
 */
export function projectEpisodes(
  events: Iterable<EpisodeEvent>,
  options: { registry?: InstrumentRegistry; policy?: Partial<EpisodePolicy> } = {},
): Map<string, EpisodeContext> {
  const score = assessmentScorer(options.registry ?? createInstrumentRegistry());
  const empty = emptyContext(options.policy);
  const out = new Map<string, EpisodeContext>();
  // The contexts this fold builds are its own until it returns: each one replaces the last of its episode, so
  // they (and their arrays) grow in place instead of being copied at every event. `empty` is not in it.
  const owned = new WeakSet<object>();
  for (const e of events) {
    out.set(e.episodeId, applyAccepted(empty, out.get(e.episodeId) ?? empty, e, score, owned));
  }
  return out;
}
