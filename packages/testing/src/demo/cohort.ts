import { dayNumberOf } from './clock.js';
import { generateEpisode } from './episode.js';
import { mergeByTime } from './merge.js';
import {
  DEMO_DEFAULT_START,
  DEMO_MAX_PATIENTS,
  type DemoCohortOptions,
  type DemoEpisode,
  type DemoEvent,
} from './types.js';

/**
 * Generate a synthetic cohort, one episode per patient, in patient order (enrolment days never decrease).
 * Each episode's events are in time order. Deterministic: same options, same episodes.
 *
 * @example
 * ```ts
 * for (const ep of generateDemoCohort({ patients: 10, seed: 42 })) console.log(ep.episodeId, ep.events.length);
 * ```
 * @throws {RangeError} when `patients` is not a whole number from 1 to 100,000 or `start` is not a date.
 */
export function* generateDemoCohort(options: DemoCohortOptions): Generator<DemoEpisode> {
  const { patients } = options;
  if (!Number.isInteger(patients) || patients < 1 || patients > DEMO_MAX_PATIENTS) {
    throw new RangeError(`patients must be a whole number from 1 to ${DEMO_MAX_PATIENTS}, got ${patients}`);
  }
  const seed = String(options.seed);
  const start = options.start ?? DEMO_DEFAULT_START;
  const firstDay = dayNumberOf(/^\d{4}-\d{2}-\d{2}T/.test(start) ? start.slice(0, 10) : start);
  const width = Math.max(4, String(patients).length);
  for (let i = 0; i < patients; i++) yield generateEpisode(i, seed, firstDay, width, patients);
}

/**
 * Merge episodes into one stream in global time order, as an event store would stream them (ties: earlier
 * episode first). Episodes must come in non-decreasing `notBeforeMs` order, as `generateDemoCohort` yields
 * them; only the episodes under way are held in memory.
 */
export function* interleaveEpisodes(episodes: Iterable<DemoEpisode>): Generator<DemoEvent> {
  yield* mergeByTime(
    (function* () {
      for (const ep of episodes) yield { ...ep, items: ep.events };
    })(),
  );
}

/** Options of {@link generateDemoEvents}. */
export interface DemoEventsOptions extends DemoCohortOptions {
  /** Interleave episodes in global time order (default), or write them one episode after another. */
  readonly interleave?: boolean;
}

/** Every event of a synthetic cohort, interleaved in global time order unless `interleave: false`. */
export function* generateDemoEvents(options: DemoEventsOptions): Generator<DemoEvent> {
  const cohort = generateDemoCohort(options);
  if (options.interleave === false) {
    for (const ep of cohort) yield* ep.events;
  } else {
    yield* interleaveEpisodes(cohort);
  }
}
