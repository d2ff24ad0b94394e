import {
  createEpisodeModel,
  type DecideOptions,
  type EpisodeModel,
  type EpisodeState,
  inPlaceDecide,
  ownedState,
} from '../episode/decide.js';
import type { EpisodeEvent } from '../episode/events.js';
import { type Refusal, type SafetySignal, safetySignalsOf, safetyText } from '../episode/rules.js';

/** One line of a log that was not accepted, and why. */
export interface LogProblem {
  /** 1-based line number in the input. */
  readonly line: number;
  readonly episodeId: string | null;
  readonly eventId: string | null;
  /** A refusal code of the episode model, or `invalid-json` / `invalid-event` for lines it never saw. */
  readonly code: string;
  readonly message: string;
  /** `malformed`: not JSON or not an event of any episode; `refused`: the episode machine refused it. */
  readonly kind: 'malformed' | 'refused';
  /** The refusal, for refused events (safety signals included). */
  readonly refusal?: Refusal;
  /** Safety signals the line carries, whatever the reason it was not accepted. */
  readonly safetyFlags?: readonly SafetySignal[];
}

/** One episode of a folded log. */
export interface LogEpisode {
  readonly episodeId: string;
  state: EpisodeState;
  accepted: number;
  refused: number;
}

/** What a fold has seen so far. */
export interface LogCounts {
  /** Non-blank lines. */
  records: number;
  /** Lines that are objects naming an episode. */
  events: number;
  accepted: number;
  refused: number;
  malformed: number;
}

/**
 * An episode of the fold. Its state is written in place while nobody else has it (no copy of the context per
 * accepted event); once read through `state` it is the reader's snapshot, and the next accepted event first
 * takes an owned copy to write into, so a state handed out never changes.
 */
class FoldEpisode implements LogEpisode {
  readonly episodeId: string;
  accepted = 0;
  refused = 0;
  #state: EpisodeState;
  /** Whether `#state` has been handed out (then it is never written again). */
  #published = true;

  constructor(episodeId: string, initial: EpisodeState) {
    this.episodeId = episodeId;
    this.#state = initial;
  }

  get state(): EpisodeState {
    this.#published = true;
    return this.#state;
  }

  set state(s: EpisodeState) {
    this.#state = s;
    this.#published = true;
  }

  /** The state to decide with, without handing it out. */
  get current(): EpisodeState {
    return this.#state;
  }

  /** The state to write the next event into: the fold's own. */
  owned(): EpisodeState {
    if (this.#published) {
      this.#state = ownedState(this.#state);
      this.#published = false;
    }
    return this.#state;
  }

  /** The state after an accepted event (written into `owned()`, or built from it by the machine). */
  advance(next: EpisodeState): void {
    this.#state = next;
  }
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * The one reading of an event log shared by every kapkit command (`validate`, `analyze`, `export`) and the
 * dashboard's import: every event is decided by the episode machine against its episode (episodes may be
 * interleaved), so a refused event (an id seen before, an event after closure, an out-of-order entry that
 * would invalidate history) never counts, and voided events leave the episode's state. Feed it lines (e.g.
 * from `ndjsonLines`); it keeps one state per episode and counts exclusions by reason.
 *
 * @example
 * ```ts
 * const fold = new EventLogFold();
 * for await (const l of ndjsonLines(stream)) fold.add(l);
 * for (const ep of fold.episodes.values()) console.log(ep.episodeId, ep.state.context.assessments.length);
 * ```
 */
export class EventLogFold {
  readonly model: EpisodeModel;
  /** The episodes under way, by episode id (a state read from one is a snapshot that never changes). */
  readonly episodes: Map<string, LogEpisode> = new Map<string, FoldEpisode>();
  readonly counts: LogCounts = { records: 0, events: 0, accepted: 0, refused: 0, malformed: 0 };
  /** Excluded lines by code (`invalid-json`, `invalid-event`, or a refusal code). */
  readonly byCode: Record<string, number> = {};
  readonly #decide: DecideOptions;
  readonly #decideInPlace: ReturnType<typeof inPlaceDecide>;

  constructor(options: { model?: EpisodeModel; now?: string | number } = {}) {
    this.model = options.model ?? defaultModel();
    this.#decide = options.now === undefined ? {} : { now: options.now };
    this.#decideInPlace = inPlaceDecide(this.model);
  }

  /**
   * Decide one line. Returns the accepted event with its episode, or the problem (also counted). Never throws
   * on bad input.
   */
  add(
    l: { readonly line: number } & (
      | { readonly ok: true; readonly value: unknown }
      | { readonly ok: false; readonly message: string }
    ),
  ): { ok: true; event: EpisodeEvent; episode: LogEpisode } | { ok: false; problem: LogProblem } {
    this.counts.records++;
    if (!l.ok) {
      return this.#problem({
        line: l.line,
        episodeId: null,
        eventId: null,
        code: 'invalid-json',
        message: l.message,
        kind: 'malformed',
      });
    }
    const value = l.value;
    const eventId = isRecord(value) && typeof value.id === 'string' ? value.id : null;
    const episodeId =
      isRecord(value) && typeof value.episodeId === 'string' && value.episodeId !== ''
        ? value.episodeId
        : null;
    if (episodeId === null) {
      // Not an event of any episode; its safety signals are still read (an assessment without an episode id).
      const signals = safetySignalsOf(value, this.model.registry, this.model.initial.context.policy);
      return this.#problem({
        line: l.line,
        episodeId: null,
        eventId,
        code: 'invalid-event',
        message: isRecord(value)
          ? `the event has no episodeId (a non-empty string), so it belongs to no episode${safetyText(signals)}`
          : `expected a JSON object per line, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`,
        kind: 'malformed',
        ...(signals.length ? { safetyFlags: signals } : {}),
      });
    }
    this.counts.events++;
    let episode = this.episodes.get(episodeId) as FoldEpisode | undefined;
    if (episode === undefined) {
      episode = new FoldEpisode(episodeId, this.model.initial);
      this.episodes.set(episodeId, episode);
    }
    // A refusal leaves the state as it was (nothing is written before the event is accepted), so the state is
    // copied only when it was handed out and an event may be written into it.
    const d = this.#decideInPlace(episode.owned(), value, this.#decide);
    if (!d.ok) {
      episode.refused++;
      return this.#problem({
        line: l.line,
        episodeId,
        eventId,
        code: d.refusal.code,
        message: d.refusal.message,
        kind: d.refusal.code === 'invalid-event' ? 'malformed' : 'refused',
        refusal: d.refusal,
        ...(d.refusal.safetyFlags ? { safetyFlags: d.refusal.safetyFlags } : {}),
      });
    }
    episode.advance(d.state);
    episode.accepted++;
    this.counts.accepted++;
    return { ok: true, event: d.event, episode };
  }

  /**
   * Forget an episode whose last event has been read (a streaming reader that knows it, like the export, keeps
   * memory bounded by the episodes still under way). Its voided events stay counted in `voidedReleased`.
   */
  release(episodeId: string): void {
    const e = this.episodes.get(episodeId) as FoldEpisode | undefined;
    if (!e) return;
    this.#voidedReleased += e.current.context.voidedEventIds.length;
    this.episodes.delete(episodeId);
  }

  #voidedReleased = 0;

  /** Voided events across all episodes (each was accepted, then entered in error). */
  get voided(): number {
    let n = this.#voidedReleased;
    for (const e of this.episodes.values()) n += (e as FoldEpisode).current.context.voidedEventIds.length;
    return n;
  }

  #problem(p: LogProblem): { ok: false; problem: LogProblem } {
    if (p.kind === 'malformed') this.counts.malformed++;
    else this.counts.refused++;
    this.byCode[p.code] = (this.byCode[p.code] ?? 0) + 1;
    return { ok: false, problem: p };
  }
}

let shared: EpisodeModel | null = null;
function defaultModel(): EpisodeModel {
  shared ??= createEpisodeModel();
  return shared;
}
