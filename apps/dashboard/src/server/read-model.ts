import { type EpisodeContext, type EpisodeEvent, type EpisodeState, projectEpisodes } from '@kapkit/core';
import type { InstrumentRegistry } from '@kapkit/core/instruments';
import type { EventStore, LoadedEpisode, StoredSafetySignal } from '@kapkit/store';
import type { CaseloadRow, CohortInstrument } from '../shared/api.js';
import { type CaseloadScores, caseloadRow, caseloadScores } from './views/caseload.js';
import { cohortInstruments } from './views/cohort.js';

/*
 * The dashboard's read side: what the routes read besides one episode's state. An index of episodes and
 * patients caught up from the store's global stream, and the cohort analysis over the read-side projection
 * (`projectEpisodes`: the accepted events folded without the machine), recomputed only when the store has new
 * events.
 */

/** Episodes known to the dashboard: caught up from the store's global stream on each request. */
export class EpisodeIndex {
  #position = 0;
  readonly episodes = new Map<
    string,
    { patientId: string; openedAt: string | null; synthetic: boolean; version: number }
  >();
  readonly byPatient = new Map<string, string[]>();
  #pending: Promise<void> | null = null;

  constructor(readonly store: EventStore) {}

  /** Read the events committed since the last call (only their ids are kept). */
  refresh(): Promise<void> {
    this.#pending ??= (async () => {
      try {
        for await (const s of this.store.streamAll({ fromPosition: this.#position, batchSize: 2000 })) {
          this.#position = s.position;
          const known = this.episodes.get(s.episodeId);
          if (known) {
            if (s.event.synthetic === true) known.synthetic = true;
            known.version = s.version;
          } else {
            this.episodes.set(s.episodeId, {
              patientId: s.event.patientId,
              openedAt: s.event.type === 'EpisodeOpened' ? s.event.at : null,
              synthetic: s.event.synthetic === true,
              version: s.version,
            });
            const list = this.byPatient.get(s.event.patientId);
            if (list) list.push(s.episodeId);
            else this.byPatient.set(s.event.patientId, [s.episodeId]);
          }
        }
      } finally {
        this.#pending = null;
      }
    })();
    return this.#pending;
  }

  get position(): number {
    return this.#position;
  }

  /** The patient's episodes, latest opened last. */
  episodesOf(patientId: string): string[] {
    const list = this.byPatient.get(patientId) ?? [];
    return [...list].sort(
      (a, b) =>
        Date.parse(this.episodes.get(a)?.openedAt ?? '1970-01-01T00:00:00Z') -
        Date.parse(this.episodes.get(b)?.openedAt ?? '1970-01-01T00:00:00Z'),
    );
  }
}

/** The cohort analysis as the cohort page shows it. */
export interface CohortView {
  readonly position: number;
  readonly instruments: CohortInstrument[];
  readonly records: number;
  readonly notes: readonly string[];
  /** SD of baseline scores per instrument (Jacobson–Truax s1 of this clinic's cohort). */
  readonly baselineSd: Record<string, number>;
}

/** How long the patient page reuses the cohort's baseline SD before asking for a fresh analysis. */
const BASELINE_SD_REUSE_MS = 10 * 60_000;

/** The read model over one store. */
export class DashboardReadModel {
  readonly index: EpisodeIndex;
  #cohort: CohortView | null = null;
  #baselineSdAt = 0;
  /** Each episode's state as last loaded, reused while the index has seen no newer event of it. */
  readonly #states = new Map<string, LoadedEpisode>();
  /** The caseload's scores of each cached state (a new version is a new state object). */
  readonly #scores = new WeakMap<EpisodeState, CaseloadScores>();

  constructor(
    readonly store: EventStore,
    readonly registry: InstrumentRegistry,
  ) {
    this.index = new EpisodeIndex(store);
  }

  /** Catch up with the store (the first call reads every event id). */
  refresh(): Promise<void> {
    return this.index.refresh();
  }

  /**
   * An episode's state and version, folded by the store once per episode version: while the index (caught up
   * by `refresh`) has seen no newer event of the episode, the state loaded before is the current one, and a
   * caseload of hundreds of patients answers without asking the store about each of them again.
   */
  async loadEpisode(episodeId: string): Promise<LoadedEpisode> {
    const known = this.index.episodes.get(episodeId)?.version ?? 0;
    const cached = this.#states.get(episodeId);
    if (cached && cached.version >= known) return cached;
    const loaded = await this.store.loadEpisode(episodeId);
    this.#states.set(episodeId, loaded);
    return loaded;
  }

  /**
   * The caseload row of an episode as of `asOf`. Only the status (`statusAt`: alerts, doses, follow-up) is
   * worked out on each request; the state and the scores with their trend are reused until the episode changes.
   */
  async caseloadRow(
    episodeId: string,
    asOf: string,
    signals: readonly StoredSafetySignal[],
  ): Promise<CaseloadRow> {
    const { state } = await this.loadEpisode(episodeId);
    let scores = this.#scores.get(state);
    if (!scores) {
      scores = caseloadScores(state.context, this.registry);
      this.#scores.set(state, scores);
    }
    return caseloadRow(state, asOf, scores, signals);
  }

  /**
   * Load every patient's latest episode and its caseload scores ahead of the first caseload request, so that
   * the first therapist to open the dashboard after a restart does not wait for hundreds of episodes to be
   * folded. One episode at a time, so requests that arrive meanwhile are served between them; it stops between
   * two episodes once `signal` is aborted.
   */
  async warm(signal?: AbortSignal): Promise<void> {
    await this.index.refresh();
    for (const patientId of [...this.index.byPatient.keys()]) {
      if (signal?.aborted) return;
      const latest = this.index.episodesOf(patientId).at(-1);
      if (!latest) continue;
      const { state } = await this.loadEpisode(latest);
      if (!this.#scores.has(state)) this.#scores.set(state, caseloadScores(state.context, this.registry));
    }
  }

  /** True when any episode seen so far is synthetic (demo data). */
  isDemo(): boolean {
    return [...this.index.episodes.values()].some((e) => e.synthetic);
  }

  /** Patients with synthetic (demo) episodes, as seen so far. */
  syntheticPatients(): string[] {
    return [...new Set([...this.index.episodes.values()].filter((e) => e.synthetic).map((e) => e.patientId))];
  }

  /** Every patient with an episode, sorted. */
  async patientIds(): Promise<string[]> {
    await this.index.refresh();
    return [...this.index.byPatient.keys()].sort();
  }

  /** The cohort analysis, recomputed from the projection only when the store has new events. */
  async cohort(): Promise<CohortView> {
    await this.index.refresh();
    if (!this.#cohort || this.#cohort.position !== this.index.position) {
      const position = this.index.position;
      const collected: EpisodeEvent[] = [];
      for await (const s of this.store.streamAll({ batchSize: 2000 })) {
        if (s.position > position) break;
        collected.push(s.event);
      }
      const contexts: EpisodeContext[] = [
        ...projectEpisodes(collected, { registry: this.registry }).values(),
      ];
      const { report, instruments } = cohortInstruments(contexts, this.registry);
      const baselineSd: Record<string, number> = {};
      for (const [id, r] of Object.entries(report.instruments)) {
        if (r.reliableChange.sd !== null && r.reliableChange.sd > 0) baselineSd[id] = r.reliableChange.sd;
      }
      this.#cohort = { position, instruments, records: report.records, notes: report.notes, baselineSd };
    }
    this.#baselineSdAt = Date.now();
    return this.#cohort;
  }

  /**
   * The cohort's baseline SD for the patient page's reliable change: it moves slowly, so the last value is
   * reused for up to 10 minutes instead of re-analysing the cohort after every write.
   */
  async baselineSd(): Promise<Record<string, number>> {
    return this.#cohort && Date.now() - this.#baselineSdAt < BASELINE_SD_REUSE_MS
      ? this.#cohort.baselineSd
      : (await this.cohort()).baselineSd;
  }

  /** Unreviewed safety signals of refused submissions, by the patient they concern. */
  async signalsByPatient(): Promise<Map<string, StoredSafetySignal[]>> {
    const out = new Map<string, StoredSafetySignal[]>();
    for (const s of await this.store.safetySignals({ unreviewed: true })) {
      const patientId = s.patientId ?? this.index.episodes.get(s.episodeId)?.patientId;
      if (!patientId) continue;
      out.set(patientId, [...(out.get(patientId) ?? []), s]);
    }
    return out;
  }

  /** The patient a stored safety signal concerns, when known. */
  patientOfSignal(s: StoredSafetySignal): string | null {
    return s.patientId ?? this.index.episodes.get(s.episodeId)?.patientId ?? null;
  }
}
