import type { ReliableChangeClass } from '@kapkit/analytics';
import type { BandDefinition, InstrumentRegistry } from '@kapkit/core/instruments';
import type { EpisodeContext } from '@kapkit/core/read';
import type { ChartConfiguration, ChartDataset, PointStyle } from 'chart.js';
import type { DescribedPoint } from '../format.js';

/** How the x axis of the outcome chart shows time. */
export type OutcomeXAxis = 'time' | 'days-since-baseline';

/** Input of {@link outcomeChartConfig} and {@link outcomeChartData}. */
export interface OutcomeChartInput {
  /** The episode, e.g. `replay(events).state.context`. */
  readonly context: EpisodeContext;
  /**
   * Instruments to chart (ids, case-insensitive, hyphens ignored), one panel each with its own score axis and
   * severity bands, the first one on top (the primary instrument). Default: PHQ-9 and GAD-7, those of the two that the episode has; if it has neither, every
   * instrument it has, in order of first assessment.
   */
  readonly instruments?: readonly string[];
  /** Calendar time (a chart.js `time` scale; needs the date-fns adapter) or days since baseline. Default `time`. */
  readonly xAxis?: OutcomeXAxis;
  /**
   * Show the episode as of this instant (ISO 8601 with offset): later assessments, doses and safety-flag
   * reviews are left out, a "today" line is drawn at it and critical-period shading stops there. Pass the
   * current time to chart a course in progress. Default: the episode's last event (no "today" line).
   */
  readonly asOf?: string;
  /** Where instrument ids are looked up; default: the built-in instruments. */
  readonly registry?: InstrumentRegistry;
  /**
   * Jacobson–Truax parameters per instrument id. Defaults: reliability r from the instrument definition
   * (`change.reliability`, e.g. PHQ-9 0.89, Kroenke et al. 2001); SD from the definition's general-population
   * norms (`change.norms.sd`, e.g. PHQ-9 3.52, Kocalevent et al. 2013). Pass the SD of baseline scores of your
   * own clinical cohort (e.g. `analyzeOutcomes(...).instruments.phq9.reliableChange.sd`) when you have one:
   * Jacobson & Truax define s1 on the pre-treatment population, and a normative SD is smaller, so it flags
   * smaller changes as reliable.
   */
  readonly reliableChange?: {
    readonly sd?: Readonly<Record<string, number>>;
    readonly reliability?: Readonly<Record<string, number>>;
  };
  /** Chart title; default names the instruments, the patient and the episode. */
  readonly title?: string;
}

/** A safety flag on a charted assessment, as of `asOf`. */
export interface OutcomeSafetyFlag {
  readonly rule: string;
  /** `positive` (e.g. PHQ-9 item 9 > 0) or `unanswered` (the safety item was left blank). */
  readonly kind: 'positive' | 'unanswered';
  readonly item: number;
  readonly value: number | null;
  /** A `SafetyFlagReviewed` event was recorded at or before `asOf`. */
  readonly reviewed: boolean;
  readonly message: string;
}

/** One assessment as the chart shows it: one row of the accessible data table. */
export interface OutcomeChartRow {
  readonly instrument: string;
  readonly instrumentName: string;
  readonly eventId: string;
  /** The assessment's timestamp, as recorded. */
  readonly at: string;
  /** Its x value on the chart: epoch ms (`time` axis) or days since baseline. */
  readonly x: number;
  /** Days since the chart's origin (the primary instrument's baseline; see {@link OutcomeChartData.origin}). */
  readonly day: number;
  /** Total score, exact (prorated totals are not rounded); null when the assessment was not scorable. */
  readonly total: number | null;
  /** Severity band id (`moderate`), or null. */
  readonly severity: string | null;
  /** Severity band label (`Moderate`), or null. */
  readonly severityLabel: string | null;
  /** This is the instrument's baseline assessment. */
  readonly baseline: boolean;
  /** total − baseline total, at or after the baseline; null otherwise (and for uncharted instruments). */
  readonly change: number | null;
  /** Dosing sessions with a dose at or before the assessment (0 before the first dose). */
  readonly doseNumber: number;
  readonly daysSinceLastDose: number | null;
  /** Inside a critical-period window; null when there are no doses. */
  readonly inCriticalPeriod: boolean | null;
  /**
   * Jacobson–Truax class against the instrument's baseline: `baseline` for the baseline itself, null before
   * the baseline, for an unscorable assessment, or without reliability and SD.
   */
  readonly reliableChange: ReliableChangeClass | 'baseline' | null;
  /** Reliable change index (change / Sdiff), or null. */
  readonly rci: number | null;
  /** Total ≤ response fraction × baseline (after baseline, baseline > 0, higher-is-worse measures), or null. */
  readonly response: boolean | null;
  /** Total below the remission threshold (after baseline), or null when there is none. */
  readonly remission: boolean | null;
  /** The most important safety flag of the assessment (positive before unanswered), or null. */
  readonly safetyFlag: OutcomeSafetyFlag | null;
  /** False for an assessment of an instrument that is not charted, kept because it carries a safety flag. */
  readonly charted: boolean;
  /** The row in words (tooltip, table caption, screen readers). */
  readonly description: string;
}

/** One dosing session with a dose, as the chart shows it. */
export interface OutcomeChartDose {
  readonly doseNumber: number;
  readonly sessionId: string;
  /** Time of the session's first dose. */
  readonly at: string;
  readonly x: number;
  readonly kind: 'full' | 'half' | 'booster';
  readonly doseMg: number;
  /** Boosters given later in the same session, mg. */
  readonly boostersMg: readonly number[];
  /** The treatment plan's titration step for this dose, mg; null without titration. */
  readonly plannedDoseMg: number | null;
  /** A dose step: the first dose differs from the previous session's (`up` or `down`); null for the first dose or none. */
  readonly step: 'up' | 'down' | null;
  /** A maintenance session (after the initial course). */
  readonly maintenance: boolean;
  readonly description: string;
}

/** One critical-period window `[start, end)` on the chart. */
export interface OutcomeChartWindow {
  readonly doseNumber: number;
  readonly start: string;
  readonly end: string;
  readonly xMin: number;
  readonly xMax: number;
  /** Where the shading stops: `xMax`, or the "today" line when the window runs past it. */
  readonly drawnXMax: number;
}

/** One severity band of an instrument's panel: `[yMin, yMax)` shaded in `color`. */
export type OutcomeChartBand = BandDefinition & {
  readonly yMin: number;
  readonly yMax: number;
  readonly color: string;
};

/** What the chart knows about one instrument. */
export interface OutcomeChartInstrument {
  readonly id: string;
  readonly name: string;
  readonly direction: 'higher-is-worse' | 'higher-is-better';
  readonly range: { readonly min: number; readonly max: number };
  readonly color: string;
  /** The id of its panel's y scale in the configuration (`y-phq9`). */
  readonly scaleId: string;
  /** Its own severity bands (drawn on its own panel), with their source. */
  readonly bands: readonly OutcomeChartBand[];
  readonly bandsSource: string | null;
  readonly baseline: null | { readonly eventId: string; readonly at: string; readonly total: number };
  /** The response line: `fraction × baseline`; null without a baseline > 0 or for higher-is-better. */
  readonly responseThreshold: number | null;
  /** Response fraction of baseline, with its source; null when the instrument does not define response. */
  readonly responseFraction: number | null;
  readonly responseSource: string | null;
  /** The remission line (total below it); null when the instrument has no remission threshold. */
  readonly remissionBelow: number | null;
  readonly remissionSource: string | null;
  readonly reliableChange: null | {
    readonly reliability: number;
    readonly reliabilitySource: string;
    readonly sd: number;
    readonly sdSource: string;
    /** |RCI| beyond this is reliable (the definition's `outcomes.reliableChange.critical`, 1.96). */
    readonly critical: number;
    /** Points of change needed for reliable change (critical · Sdiff). */
    readonly pointsNeeded: number;
  };
  /** What the instrument's definition leaves undefined (response, remission, reliable change), in words. */
  readonly notDefined: readonly string[];
  /** The patient's outcome on this instrument (`patientOutcome`), or null without scored assessments. */
  readonly outcome: null | {
    readonly evaluable: boolean;
    readonly latest: number | null;
    readonly response: boolean | null;
    readonly remission: boolean | null;
    readonly firstResponseDay: number | null;
  };
}

/** The numbers behind the outcome chart; render it as a table for people who cannot see the chart. */
export interface OutcomeChartData {
  readonly episodeId: string | null;
  readonly patientId: string | null;
  readonly synthetic: boolean;
  /** The instant the chart is for (input `asOf`, else the last event), or null for an empty episode. */
  readonly asOf: string | null;
  readonly xAxis: OutcomeXAxis;
  /** Day 0 of `day` (and of the x axis in `days-since-baseline` mode). */
  readonly origin: {
    readonly kind: 'baseline' | 'first-dose' | 'opened' | 'none';
    readonly at: string | null;
  };
  /** The primary instrument (the top panel). */
  readonly primary: string;
  /** One panel each, top to bottom. */
  readonly instruments: readonly OutcomeChartInstrument[];
  /** The primary instrument's bands (each instrument's own are in `instruments[i].bands`). */
  readonly bands: readonly OutcomeChartBand[];
  readonly bandsSource: string | null;
  /** The "today" line: the `asOf` input, when given; null otherwise. */
  readonly today: null | { readonly at: string; readonly x: number };
  readonly rows: readonly OutcomeChartRow[];
  readonly doses: readonly OutcomeChartDose[];
  readonly criticalPeriodDays: number;
  readonly windows: readonly OutcomeChartWindow[];
  /** Consecutive windows that overlap (`from` → `to`, overlap in days). */
  readonly overlaps: readonly { readonly from: number; readonly to: number; readonly days: number }[];
  /** Stretches between windows covered by none. */
  readonly gaps: readonly {
    readonly afterDose: number;
    readonly start: string;
    readonly end: string;
    readonly days: number;
  }[];
  /** Axis ranges the chart uses (`y`: the lowest and highest of the panels' ranges). */
  readonly x: { readonly min: number; readonly max: number };
  readonly y: { readonly min: number; readonly max: number };
}

/** Roles of the datasets of the outcome chart (`kapkitRole` on each dataset). */
export type OutcomeDatasetRole =
  | 'instrument'
  | 'dose'
  | 'critical-period'
  | 'today'
  | 'reliable-improvement'
  | 'reliable-deterioration'
  | 'safety-positive'
  | 'safety-unanswered';

/** A point of the outcome chart: coordinates, the row or dose it shows, and its description. */
export interface OutcomePoint extends DescribedPoint {
  readonly eventId?: string;
  readonly instrument?: string;
}

/** A dataset of the outcome chart, tagged with its role (and instrument) so code can find it. */
export type OutcomeDataset = ChartDataset<'line', OutcomePoint[]> & {
  readonly kapkitRole: OutcomeDatasetRole;
  readonly instrument?: string;
  /** A further panel's part of a role already in the legend: left out of the legend. */
  readonly kapkitLegend?: false;
};

/** The chart.js configuration of the outcome chart. */
export type OutcomeChartConfiguration = ChartConfiguration<'line', OutcomePoint[]>;

/** Point styles of the outcome chart: meaning is carried by shape, not colour alone. */
export const OUTCOME_POINT_STYLES = {
  instrument: ['circle', 'rect', 'rectRounded', 'star', 'cross'] as readonly PointStyle[],
  dose: 'line' as PointStyle,
  reliableImprovement: 'triangle' as PointStyle,
  /** A triangle rotated 180° (pointing down). */
  reliableDeterioration: 'triangle' as PointStyle,
  safetyPositive: 'crossRot' as PointStyle,
  safetyUnanswered: 'rectRot' as PointStyle,
} as const;
