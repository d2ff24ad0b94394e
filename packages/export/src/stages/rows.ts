import type { EpisodeContext, EpisodeModel, EventOf, LogEpisode } from '@kapkit/core';
import { safeScoreResponse } from '@kapkit/core/instruments';
import { researchConsentWithdrawn } from '@kapkit/core/read';
import type { ColumnSelection, TableName } from '../columns.js';
import type { IdMapper } from '../pseudonym.js';
import {
  type AssessmentFacts,
  assessmentRow,
  EpisodeTrack,
  episodeRow,
  type Row,
  sessionRow,
} from '../rows.js';
import type { FhirSink, RowSink } from '../sinks.js';

/*
 * Stage 3 of an export, rows: an episode whose last line has been read becomes its table rows (dosing sessions,
 * assessments, the episode) and its FHIR resources, handed to the sinks.
 */

/** A voided assessment, scored as it was when accepted (it is no longer in the episode's context). */
function voidedAssessment(model: EpisodeModel, e: EventOf<'AssessmentRecorded'>): AssessmentFacts {
  const d = model.registry.get(e.instrument);
  const r = safeScoreResponse(d, { responses: e.responses, supplementary: e.supplementary });
  const scored = r.ok ? r.value : null;
  return {
    assessment: {
      eventId: e.id,
      at: e.at,
      recordedAt: e.recordedAt,
      recordedBy: e.recordedBy,
      instrument: d.id,
      responses: e.responses,
      status: scored?.status ?? 'not-scorable',
      total: scored?.total ?? null,
      severity: scored?.severity ?? null,
      context: e.context ?? null,
    },
    flags: (scored?.safetyFlags ?? []).map((f) => ({ kind: f.kind, rule: f.rule })),
    note: e.note ?? null,
    actorId: e.actorId ?? null,
    voided: true,
  };
}

/** The context handed to the FHIR writer: in de-identified exports every identifier is already a pseudonym. */
function contextForFhir(c: EpisodeContext, ids: IdMapper): EpisodeContext {
  if (!ids.deidentified) return c;
  const session = (s: string) => ids.id('session', s);
  const event = (e: string) => ids.id('event', e);
  return {
    ...c,
    episodeId: c.episodeId === null ? null : ids.id('episode', c.episodeId),
    patientId: c.patientId === null ? null : ids.id('patient', c.patientId),
    history: [],
    voidedEventIds: c.voidedEventIds.map(event),
    currentSessionId: c.currentSessionId === null ? null : session(c.currentSessionId),
    sessions: c.sessions.map((s) => ({
      ...s,
      sessionId: session(s.sessionId),
      doses: s.doses.map((d) => ({ ...d, eventId: event(d.eventId) })),
    })),
    assessments: c.assessments.map((a) => ({ ...a, eventId: event(a.eventId) })),
    safetyFlags: c.safetyFlags.map((f) => ({
      ...f,
      assessmentEventId: event(f.assessmentEventId),
      reviewed: f.reviewed && { ...f.reviewed, eventId: event(f.reviewed.eventId) },
    })),
    adverseEvents: c.adverseEvents.map((a) => ({
      ...a,
      eventId: event(a.eventId),
      sessionId: a.sessionId === null ? null : session(a.sessionId),
      reviewed: a.reviewed && { ...a.reviewed, eventId: event(a.reviewed.eventId) },
    })),
  };
}

/** Where an episode's rows go: the open table sinks and the FHIR sink of this export. */
export interface EpisodeSinks {
  readonly tables: Partial<Record<TableName, RowSink>>;
  readonly fhir: FhirSink | null;
}

/** Writes finished episodes to the sinks, keeping the counts the manifest reports. */
export class EpisodeRowWriter {
  /** Table rows written. */
  rows = 0;
  readonly counts = { episodes: 0, openAtEnd: 0, consentWithdrawn: 0 };
  /** Accepted assessments that a void names (kept for `includeVoided`), by episode. */
  readonly #voidable = new Map<string, EventOf<'AssessmentRecorded'>[]>();

  constructor(
    private readonly model: EpisodeModel,
    private readonly sinks: EpisodeSinks,
    private readonly ids: IdMapper,
    private readonly selection: ColumnSelection,
  ) {}

  /** Keep an accepted assessment that a later void names, to export it as voided. */
  keepVoidable(episodeId: string, e: EventOf<'AssessmentRecorded'>): void {
    const list = this.#voidable.get(episodeId) ?? [];
    list.push(e);
    this.#voidable.set(episodeId, list);
  }

  async #write(table: TableName, row: Row): Promise<void> {
    const sink = this.sinks.tables[table];
    if (!sink) return;
    this.rows++;
    await sink.write(row);
  }

  /** Write an episode whose last line has been read: sessions, assessments, the episode row, FHIR. */
  async finish(e: LogEpisode): Promise<void> {
    const { ids, selection, sinks } = this;
    const c = e.state.context;
    const kept = this.#voidable.get(e.episodeId) ?? [];
    this.#voidable.delete(e.episodeId);
    if (c.openedAt === null) return;
    // A patient who withdrew consent to research use is left out of research (de-identified) exports.
    if (ids.deidentified && researchConsentWithdrawn(c)) {
      this.counts.consentWithdrawn++;
      return;
    }
    this.counts.episodes++;
    if (c.closed === null) this.counts.openAtEnd++;
    const track = new EpisodeTrack(c, ids, selection.includeFreeText);
    const voided = selection.includeVoided
      ? kept.filter((x) => c.voidedEventIds.includes(x.id)).map((x) => voidedAssessment(this.model, x))
      : [];
    if (sinks.tables.dosing_sessions) {
      for (let i = 0; i < c.sessions.length; i++) {
        await this.#write('dosing_sessions', sessionRow(c, c.sessions[i]!, i + 1, track, ids));
      }
    }
    if (sinks.tables.assessments) {
      for (const a of c.assessments) {
        const event = track.assessmentEvents.get(a.eventId);
        const facts = {
          assessment: a,
          flags: c.safetyFlags.filter((f) => f.assessmentEventId === a.eventId),
          note: event?.note ?? null,
          actorId: event?.actorId ?? null,
          voided: false,
        };
        await this.#write('assessments', assessmentRow(facts, track, ids));
      }
      for (const v of voided) await this.#write('assessments', assessmentRow(v, track, ids));
    }
    await this.#write('episodes', episodeRow(c, this.model.phaseOf(e.state), track));
    if (sinks.fhir) {
      await sinks.fhir.addEpisode({
        patientRef: track.patientRef,
        episodeRef: track.episodeRef,
        context: contextForFhir(c, ids),
        dayOf: (iso: string) => track.dayOf(iso),
        ...(voided.length
          ? {
              enteredInError: voided.map((v) => ({
                ...v.assessment,
                eventId: ids.id('event', v.assessment.eventId),
              })),
            }
          : {}),
      });
    }
  }
}
