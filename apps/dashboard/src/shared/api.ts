/**
 * The JSON API of the dashboard: what the server sends and the browser reads. Types only (no runtime code),
 * shared by `src/server` and `src/client` so both sides agree on every field.
 */
import type { AnalysisReport, InstrumentReport, MeanInterval, Proportion } from '@kapkit/analytics';
import type { OutcomeChartData } from '@kapkit/charts';
import type { InstrumentDefinition } from '@kapkit/core/instruments';
import type { EpisodeAssessment, EpisodeContext } from '@kapkit/core/read';

type Severity = 'urgent' | 'warning' | 'info';

export interface Alert {
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
}

/** One field that failed validation: where (`events[0].responses[8]`) and why. */
export interface FieldIssue {
  readonly path: string;
  readonly message: string;
}

/** Every error body of the API. */
export interface ApiError {
  readonly error:
    | 'invalid-input'
    | 'invalid-json'
    | 'not-found'
    | 'concurrency-conflict'
    | 'event-id-conflict'
    | 'event-refused'
    | 'payload-too-large'
    | 'unavailable'
    | 'unauthenticated'
    | 'forbidden'
    | 'internal-error';
  readonly message: string;
  /** `invalid-input`: each field and why. */
  readonly issues?: readonly FieldIssue[];
  /** `event-refused`: the episode machine's reason. */
  readonly refusal?: {
    readonly code: string;
    readonly message: string;
    readonly issues?: readonly FieldIssue[];
    /** The later event a late entry or a void would invalidate. */
    readonly invalidates?: {
      readonly eventId: string;
      readonly type: string;
      readonly at: string;
      readonly code: string;
      readonly message: string;
    };
    /** Safety signals the refused event carries (a positive item 9, a serious adverse event, alarming vitals). */
    readonly safetyFlags?: readonly {
      readonly rule: string;
      readonly kind: string;
      readonly item?: number;
      readonly message: string;
      readonly value: number | string | null;
    }[];
  };
  /** `event-refused`: 0-based index of the refused event in the batch. */
  readonly index?: number;
  /** `concurrency-conflict`: the version the caller sent and the episode's version now. */
  readonly expectedVersion?: number;
  readonly actualVersion?: number;
  /** For a concurrency conflict: what was recorded since the form was loaded. */
  readonly changes?: readonly RecordedChange[];
}

/** `GET /api/instruments`: the registered instrument definitions (plain JSON), forms and charts derive from them. */
export type InstrumentsResponse = readonly InstrumentDefinition[];

export interface MetaResponse {
  readonly app: 'kapkit dashboard';
  /** True when any episode in the store is synthetic (demo data). */
  readonly demo: boolean;
  readonly engine: 'pglite' | 'postgres';
  /** The instant the dashboard reports status for ("now"), ISO 8601 with offset. */
  readonly asOf: string;
  readonly patients: number;
  readonly episodes: number;
  readonly bodyLimitBytes: number;
  readonly export: {
    readonly available: boolean;
    readonly formats: readonly string[];
    readonly note: string;
  };
}

interface AnswerOptionView {
  readonly value: number;
  readonly label: string;
}

export interface ScaleView {
  readonly min: number;
  readonly max: number;
  readonly options: readonly AnswerOptionView[] | null;
  readonly anchors: { readonly min: string; readonly max: string } | null;
}

export interface BandView {
  readonly id: string;
  readonly label: string;
  readonly min: number;
  readonly max: number;
}

/** An instrument as the forms and charts need it, derived from its kapkit definition. */
export interface InstrumentView {
  readonly id: string;
  readonly name: string;
  readonly title: string;
  readonly purpose: 'outcome' | 'session';
  readonly direction: 'higher-is-worse' | 'higher-is-better';
  readonly recall: string;
  readonly stem: string | null;
  /** False: the licence does not let kapkit ship the item text; items are shown as "Item n". */
  readonly itemTextIncluded: boolean;
  readonly licence: { readonly holder: string; readonly terms: string; readonly url: string | null };
  readonly items: readonly {
    readonly number: number;
    readonly id: string;
    readonly text: string;
    readonly scale: ScaleView;
  }[];
  readonly supplementary: readonly {
    readonly id: string;
    readonly text: string;
    readonly scale: ScaleView;
  }[];
  readonly range: { readonly min: number; readonly max: number };
  readonly bands: readonly BandView[];
  readonly safetyItems: readonly number[];
}

/** Latest score of one instrument (its latest scored assessment) and its change since baseline. */
export interface ScoreSummary extends Pick<EpisodeAssessment, 'instrument' | 'at' | 'severity'> {
  readonly total: number;
  readonly severityLabel: string | null;
  /** Baseline: the last assessment on or before the first dose, else the first. */
  readonly baseline: number | null;
  readonly baselineAt: string | null;
  /** latest − baseline; null with a single assessment. */
  readonly change: number | null;
  readonly percentChange: number | null;
  /** Direction of the change for the patient: better, worse or unchanged (null without a follow-up). */
  readonly trend: 'better' | 'worse' | 'unchanged' | null;
}

export interface CaseloadRow {
  readonly patientId: string;
  readonly episodeId: string;
  readonly synthetic: boolean;
  readonly phase: string;
  readonly openedAt: string | null;
  readonly lastEventAt: string | null;
  readonly phq9: ScoreSummary | null;
  readonly gad7: ScoreSummary | null;
  readonly dosesGiven: number;
  readonly plannedDosingSessions: number | null;
  readonly dosesOnHand: number;
  readonly nextDoseLatestDay: string | null;
  readonly followUpDueAt: string | null;
  readonly alerts: readonly Alert[];
}

export interface CaseloadResponse {
  readonly asOf: string;
  readonly demo: boolean;
  readonly rows: readonly CaseloadRow[];
}

export interface VitalsView {
  readonly sessionId: string;
  readonly doseNumber: number | null;
  readonly at: string;
  readonly phase: 'pre' | 'during' | 'post';
  readonly systolic: number;
  readonly diastolic: number;
  readonly heartRate: number | null;
  readonly spo2: number | null;
  readonly aboveHold: boolean;
}

export interface DoseView {
  readonly sessionId: string;
  readonly doseNumber: number;
  readonly at: string;
  readonly kind: string;
  readonly doseMg: number;
  readonly route: string;
  readonly vitalsOverride: boolean;
  /** End of the critical period this dose opened. */
  readonly windowEnd: string | null;
}

export interface TimelineEntry {
  /** The event this entry shows (a dosing session: its last event). */
  readonly eventId: string;
  readonly type: string;
  /** When it happened (clinical time). */
  readonly at: string;
  /** When it was written. */
  readonly recordedAt: string;
  readonly recordedBy: string;
  /** Written more than a day after it happened. */
  readonly late: boolean;
  /** Voided as entered in error (shown struck through), with when and why. */
  readonly voided: null | { readonly at: string; readonly reason: string };
  /** May be voided (not already voided; not the opening of the episode or a void). */
  readonly voidable: boolean;
  readonly kind:
    | 'course'
    | 'medical'
    | 'medication'
    | 'preparation'
    | 'dosing'
    | 'integration'
    | 'assessment'
    | 'safety'
    | 'adverse-event'
    | 'correction';
  readonly title: string;
  readonly detail: string;
}

interface EpisodeSummary {
  readonly episodeId: string;
  readonly openedAt: string | null;
  readonly phase: string;
}

export interface EpisodeView {
  readonly episodeId: string;
  readonly patientId: string;
  /** The episode's version: send it back as `expectedVersion` when recording. */
  readonly version: number;
  readonly synthetic: boolean;
  readonly phase: string;
  readonly openedAt: string | null;
  readonly closed: null | { readonly kind: string; readonly at: string; readonly reason: string | null };
  readonly paused: null | { readonly at: string; readonly reason: string };
  readonly dosesGiven: number;
  readonly plannedDosingSessions: number | null;
  readonly dosesOnHand: number;
  readonly dosesAuthorized: number;
  readonly followUp: null | {
    readonly lastAt: string | null;
    readonly dueAt: string;
    readonly overdue: boolean;
  };
  readonly measures: readonly {
    readonly instrument: string;
    readonly rule: string;
    readonly dueAt: string | null;
    readonly status: string;
  }[];
  readonly criticalPeriods: {
    readonly windowDays: number;
    readonly nextDoseBefore: string | null;
    readonly nextDoseLatestDay: string | null;
    readonly coverage: number | null;
    readonly windows: readonly {
      readonly doseNumber: number;
      readonly start: string;
      readonly end: string;
    }[];
  };
  readonly prescription: null | {
    readonly route: string;
    readonly formulation: string;
    readonly doseMg: number;
  };
  /** Informed consent: scopes in force and withdrawn (kap, remote-sessions, research-use). */
  readonly consent: {
    readonly required: boolean;
    readonly inForce: readonly string[];
    readonly withdrawn: readonly string[];
    readonly documentVersion: string | null;
    readonly recordedAt: string | null;
  };
  /** Concurrent medications of the latest review, and what the medical team should look at. */
  readonly medications: {
    readonly reviewedAt: string | null;
    readonly list: readonly {
      readonly name: string;
      readonly class: string;
      readonly dailyDose: number | null;
      readonly unit: string | null;
    }[];
    readonly diazepamEquivalentMgPerDay: number | null;
    readonly findings: readonly string[];
  };
  /** The treatment plan's titration steps, if any. */
  readonly titration: readonly { readonly fromSession: number; readonly doseMg: number }[] | null;
  /** The planned first dose (mg) of the next dosing session under the titration; null without titration. */
  readonly nextPlannedDoseMg: number | null;
  /** The maintenance phase; null when none is planned. */
  readonly maintenance: null | {
    readonly intervalDays: number;
    readonly sessions: number;
    readonly lastDoseAt: string | null;
    readonly nextDueAt: string;
    readonly status: string;
  };
  readonly currentSessionId: string | null;
  readonly vitalsHold: boolean;
  readonly policy: {
    readonly holdSystolicAbove: number;
    readonly holdDiastolicAbove: number;
    readonly criticalPeriodDays: number;
  };
  readonly alerts: readonly Alert[];
  /**
   * Safety signals of submissions the episode machine refused (kept by the store, nothing else of the record):
   * urgent until a clinician reviews them.
   */
  readonly safetySignals: readonly {
    readonly id: string;
    readonly eventType: string | null;
    readonly eventAt: string | null;
    readonly refusalCode: string;
    readonly recordedAt: string;
    /** Who recorded the refused record (`patient` for the patient's own answers), or null when unknown. */
    readonly recordedBy: string | null;
    readonly signals: readonly {
      readonly rule: string;
      readonly value: number | string | null;
      readonly message: string;
    }[];
    readonly review: null | { readonly outcome: string; readonly reviewedBy: string; readonly at: string };
  }[];
  readonly unreviewedSafetyFlags: readonly {
    readonly assessmentEventId: string;
    readonly rule: string;
    readonly instrument: string;
    readonly item: number;
    readonly value: number | null;
    readonly at: string;
    readonly kind: string;
  }[];
  /** Adverse events waiting for a clinician's review (severe, serious, suicidal ideation, moderate). */
  readonly unreviewedAdverseEvents: readonly {
    readonly eventId: string;
    readonly at: string;
    readonly code: string;
    readonly severity: string;
    readonly sessionId: string | null;
    readonly unknownSession: boolean;
    readonly recordedBy: string;
  }[];
  /** The medical team's treatment stop in force, if any. */
  readonly treatmentStopped: null | { readonly at: string; readonly by: string };
  readonly doses: readonly DoseView[];
  readonly vitals: readonly VitalsView[];
  readonly timeline: readonly TimelineEntry[];
  /**
   * The numbers of the outcome chart (`outcomeChartData` of @kapkit/charts, computed on the server): rows,
   * doses, critical-period windows, baselines, response/remission/reliable-change with their sources.
   */
  readonly chart: OutcomeChartData;
  /** Every assessment in force (voided ones left out), oldest first: for corrections. */
  readonly assessments: readonly {
    readonly eventId: string;
    readonly at: string;
    readonly instrument: string;
    readonly responses: readonly (number | null)[];
    readonly context: string | null;
    readonly recordedBy: string;
  }[];
  /** The latest assessment of each instrument (for the item chart), oldest first. */
  readonly latestAssessments: readonly EpisodeAssessment[];
  /**
   * The folded episode (plain JSON) for the vitals chart, without its assessments (they are in `chart.rows`)
   * and event ids, which a long course would make large.
   */
  readonly context: EpisodeContext;
}

export interface PatientResponse {
  readonly asOf: string;
  /** The server's clock when it answered, to the millisecond: forms time their records by it. */
  readonly serverTime: string;
  readonly patientId: string;
  readonly synthetic: boolean;
  readonly episodes: readonly EpisodeSummary[];
  readonly episode: EpisodeView;
}

/** Body of `POST /api/episodes/:episodeId/events`. */
export interface AppendRequest {
  /** The episode version the form was filled against (from `EpisodeView.version`). */
  readonly expectedVersion: number;
  /** Events without the envelope the server fills in (`episodeId`, `patientId`, `v`; `id` and `at` optional). */
  readonly events: readonly Record<string, unknown>[];
}

/** One event recorded by someone else since a form was loaded (no content: its type, time and role). */
export interface RecordedChange {
  readonly type: string;
  readonly at: string;
  readonly recordedBy: string;
}

export interface AppendResponse {
  readonly status: 'appended' | 'duplicate';
  readonly version: number;
  /**
   * The form was filled against an older version: its events were decided again against the latest state and
   * were still allowed. `changes` is what was recorded meanwhile.
   */
  readonly rebased?: null | { readonly fromVersion: number; readonly changes: readonly RecordedChange[] };
  readonly events: readonly { readonly id: string; readonly type: string; readonly at: string }[];
  /** Alerts of the episode after the append. */
  readonly alerts: readonly Alert[];
}

/** A rate of the cohort (responders, remitters) with its confidence interval and its definition. */
/** A proportion of the cohort with its 95% interval and the definition it counts. */
type CohortRate = Proportion & { readonly definition: string };

/** A count of the cohort out of `of`, without its interval. */
type CohortCount = Omit<Proportion, 'lower' | 'upper'>;

/** One instrument of the cohort page: `analyzeOutcomes`' {@link InstrumentReport}, reduced to what it shows. */
export interface CohortInstrument
  extends Pick<
    InstrumentReport,
    'instrument' | 'name' | 'patients' | 'evaluable' | 'baseline' | 'latest' | 'trajectory' | 'timeToResponse'
  > {
  readonly change: Omit<MeanInterval, 'sd'>;
  readonly response: CohortRate;
  readonly remission: null | CohortRate;
  readonly reliableImprovement: CohortCount & {
    readonly pointsNeeded: number | null;
    /** |RCI| beyond this is reliable change (the instrument definition's, or 1.96). */
    readonly critical: number;
  };
  readonly reliableDeterioration: CohortCount;
  readonly effectSize: Pick<InstrumentReport['effectSize'], 'label' | 'n' | 'dz' | 'gav'>;
  readonly mixedModel: null | {
    readonly slopePerWeek: number;
    readonly slopePerWeekSE: number;
    readonly converged: boolean;
  };
}

/** `GET /api/cohort`: the report's record count and notes, with its instruments as the page shows them. */
export interface CohortResponse extends Pick<AnalysisReport, 'records' | 'notes'> {
  readonly asOf: string;
  readonly demo: boolean;
  readonly episodes: number;
  readonly instruments: readonly CohortInstrument[];
}

/** `GET /api/session`: the signed-in account and the token writes must send in `X-CSRF-Token`. */
export interface SessionResponse {
  readonly user: {
    readonly id: string;
    readonly email: string;
    readonly displayName: string;
    readonly role: 'admin' | 'therapist' | 'medical' | 'researcher';
  };
  readonly csrfToken: string;
  readonly idleMinutes: number;
  readonly expiresAt: string;
}
