import { createInstrumentRegistry } from '../instruments/builtin.js';
import type { InstrumentRegistry } from '../instruments/registry.js';
import { type EpisodeContext, emptyContext } from './context.js';
import type { EpisodeEvent } from './events.js';
import { applyAccepted, ownedCopy } from './evolve.js';
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
  // Each episode's context is this fold's own until it returns (an owned copy of the empty context, or a rebuild
  // from one), so every event is written into it in place: no copy of the context or its arrays per event.
  // Nothing else sees a context before the fold returns, and the fold never writes to one after.
  for (const e of events) {
    let c = out.get(e.episodeId);
    if (c === undefined) {
      c = ownedCopy(empty);
      out.set(e.episodeId, c);
    }
    const next = applyAccepted(empty, c, e, score, true);
    if (next !== c) out.set(e.episodeId, next);
  }
  return out;
}
