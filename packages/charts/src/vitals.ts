import type { DosingSessionRecord, EpisodeContext, VitalsReading } from '@kapkit/core/read';
import { offsetOf } from '@kapkit/core/time';
import type { ChartConfiguration, ChartDataset } from 'chart.js';
import type { AnnotationOptions } from 'chartjs-plugin-annotation';
import { type DescribedPoint, localDate, localDateTime } from './format.js';
import { linearAxis, lineChartConfig } from './line-chart.js';
import { categoryAxis, palette } from './palette.js';

/** Options of {@link vitalsChartConfig}. */
export interface VitalsChartOptions {
  /** Leave out sessions and readings after this instant (ISO 8601 with offset). */
  readonly asOf?: string;
  readonly title?: string;
}

/** A point of the vitals chart: x is the session's index on the category axis. */
export interface VitalsPoint extends DescribedPoint {
  readonly sessionId: string;
}

/** Roles of the datasets of the vitals chart. */
export type VitalsDatasetRole =
  | 'systolic-pre'
  | 'systolic-post'
  | 'diastolic-pre'
  | 'diastolic-post'
  | 'above-hold';

export type VitalsDataset = ChartDataset<'line', VitalsPoint[]> & { readonly kapkitRole: VitalsDatasetRole };

/** The chart.js configuration of the vitals chart. */
export type VitalsChartConfiguration = ChartConfiguration<'line', VitalsPoint[], string[]>;

function last<T>(list: readonly T[]): T | undefined {
  return list[list.length - 1];
}

function sessionLabel(s: DosingSessionRecord, firstAt: string): string[] {
  const head =
    s.doseNumber !== null
      ? `Dose ${s.doseNumber}`
      : s.status === 'aborted'
        ? `Aborted${s.abortReason ? ` (${s.abortReason})` : ''}`
        : 'No dose yet';
  return [head, localDate(firstAt)];
}

/**
 * Blood pressure before and after dosing, per dosing session (sessions with at least one reading, in time
 * order, aborted ones included), with the episode policy's hold thresholds (`holdSystolicAbove`,
 * `holdDiastolicAbove`; default 140/90 mmHg) as labelled lines. The "before" value is the last pre-dose
 * reading (the one the hold is judged on) and the "after" value the last post-dose reading. Every pre-dose
 * reading above a threshold is also marked with a triangle (shape and legend entry, not colour alone).
 * Systolic and diastolic differ by colour and by their labels; before and after by point style and dash.
 *
 * @example
 * ```ts
 * const config = vitalsChartConfig(replay(events).state.context);
 * config.options?.plugins?.annotation?.annotations; // { 'hold-systolic': { value: 140, … }, 'hold-diastolic': … }
 * ```
 * @throws {InvalidTimestampError} when `asOf` is not an ISO 8601 date-time with an offset.
 */
export function vitalsChartConfig(
  context: EpisodeContext,
  options: VitalsChartOptions = {},
): VitalsChartConfiguration {
  if (options.asOf !== undefined) offsetOf(options.asOf);
  const asOfMs = options.asOf === undefined ? Number.POSITIVE_INFINITY : Date.parse(options.asOf);
  const { holdSystolicAbove, holdDiastolicAbove } = context.policy;
  const sessions = sessionsWithVitals(context, asOfMs);
  const labels = sessions.map((e) => sessionLabel(e.s, e.firstAt));
  const series = vitalsSeries(sessions, labels, context.policy);

  const values = [...series.sysPre, ...series.sysPost, ...series.diaPre, ...series.diaPost].map((p) => p.y);
  const yMin = Math.min(60, ...values.map((v) => Math.floor((v - 10) / 10) * 10));
  const yMax = Math.max(170, ...values.map((v) => Math.ceil((v + 10) / 10) * 10));
  return lineChartConfig({
    labels,
    datasets: vitalsDatasets(series),
    x: categoryAxis('Dosing session'),
    y: linearAxis('Blood pressure (mmHg)', { min: yMin, max: yMax }, { stepSize: 10 }),
    title: options.title ?? 'Blood pressure per dosing session',
    subtitle: [
      `Patient ${context.patientId ?? '-'}, episode ${context.episodeId ?? '-'}${context.synthetic ? ' (SYNTHETIC DEMO DATA)' : ''}`,
      `Hold thresholds from the episode policy: ${holdSystolicAbove}/${holdDiastolicAbove} mmHg (a clinician can override with a reason)`,
    ],
    legend: { usePointStyle: true },
    annotations: {
      'hold-systolic': holdLine(holdSystolicAbove, 'systolic'),
      'hold-diastolic': holdLine(holdDiastolicAbove, 'diastolic'),
    },
  });
}

/** A dosing session with its readings up to the chart's instant, and the time of its first reading. */
interface SessionVitals {
  readonly s: DosingSessionRecord;
  readonly pre: readonly VitalsReading[];
  readonly post: readonly VitalsReading[];
  readonly firstDose: DosingSessionRecord['doses'][number] | undefined;
  readonly firstAt: string;
}

/** The sessions with at least one reading up to `asOfMs`, in the order of their first reading. */
function sessionsWithVitals(context: EpisodeContext, asOfMs: number): SessionVitals[] {
  const inTime = (r: { readonly at: string }) => Date.parse(r.at) <= asOfMs;
  return context.sessions
    .map((s) => ({
      s,
      pre: s.preVitals.filter(inTime),
      post: s.otherVitals.filter((v) => v.phase === 'post' && inTime(v)),
      firstDose: s.doses.find(inTime),
    }))
    .filter((e) => e.pre.length > 0 || e.post.length > 0)
    .map((e) => ({
      ...e,
      firstAt: [...e.pre, ...e.post].map((r) => r.at).sort((a, b) => Date.parse(a) - Date.parse(b))[0]!,
    }))
    .sort((a, b) => Date.parse(a.firstAt) - Date.parse(b.firstAt));
}

/** The points of the chart, by series. */
interface VitalsSeries {
  readonly sysPre: VitalsPoint[];
  readonly sysPost: VitalsPoint[];
  readonly diaPre: VitalsPoint[];
  readonly diaPost: VitalsPoint[];
  readonly aboveHold: VitalsPoint[];
}

/**
 * Per session: the judged pre-dose reading, the last post-dose reading, and every pre-dose reading above a
 * hold threshold, each as a described point at the session's index.
 */
function vitalsSeries(
  sessions: readonly SessionVitals[],
  labels: readonly string[][],
  policy: EpisodeContext['policy'],
): VitalsSeries {
  const { holdSystolicAbove, holdDiastolicAbove } = policy;
  const point = (
    i: number,
    sessionId: string,
    r: VitalsReading,
    which: 'systolic' | 'diastolic',
    phase: string,
    extra = '',
  ): VitalsPoint => ({
    x: i,
    y: r[which],
    sessionId,
    description: `${labels[i]![0]}: ${which} ${r[which]} mmHg ${phase} (${r.systolic}/${r.diastolic} at ${localDateTime(r.at)})${extra}`,
  });

  const series: VitalsSeries = { sysPre: [], sysPost: [], diaPre: [], diaPost: [], aboveHold: [] };
  sessions.forEach((e, i) => {
    // The reading the hold is judged on: the last pre-dose reading before the dose (or the last one).
    const judged =
      last(e.firstDose ? e.pre.filter((r) => Date.parse(r.at) <= Date.parse(e.firstDose!.at)) : e.pre) ??
      last(e.pre);
    if (judged) {
      const note = judged.aboveHold
        ? e.firstDose?.vitalsOverride
          ? '; above the hold threshold, dose given with a clinician override'
          : '; above the hold threshold'
        : '';
      series.sysPre.push(point(i, e.s.sessionId, judged, 'systolic', 'before dose', note));
      series.diaPre.push(point(i, e.s.sessionId, judged, 'diastolic', 'before dose', note));
    }
    for (const r of e.pre) {
      if (r.systolic > holdSystolicAbove)
        series.aboveHold.push(
          point(
            i,
            e.s.sessionId,
            r,
            'systolic',
            'before dose',
            `; above the hold threshold ${holdSystolicAbove}`,
          ),
        );
      if (r.diastolic > holdDiastolicAbove)
        series.aboveHold.push(
          point(
            i,
            e.s.sessionId,
            r,
            'diastolic',
            'before dose',
            `; above the hold threshold ${holdDiastolicAbove}`,
          ),
        );
    }
    const post = last(e.post);
    if (post) {
      series.sysPost.push(point(i, e.s.sessionId, post, 'systolic', 'after dose'));
      series.diaPost.push(point(i, e.s.sessionId, post, 'diastolic', 'after dose'));
    }
  });
  return series;
}

/** The four lines (systolic and diastolic, before and after dose), after the above-hold marks when any. */
function vitalsDatasets(series: VitalsSeries): VitalsDataset[] {
  const [sysColor, diaColor] = palette.vitals;
  const line = (
    kapkitRole: VitalsDatasetRole,
    label: string,
    data: VitalsPoint[],
    color: string,
    post: boolean,
  ): VitalsDataset => ({
    kapkitRole,
    label,
    data,
    borderColor: color,
    backgroundColor: post ? '#ffffff' : color,
    borderWidth: 2,
    borderDash: post ? [6, 4] : [],
    pointStyle: post ? 'rect' : 'circle',
    pointRadius: 5,
    pointBorderWidth: 2,
    spanGaps: true,
    tension: 0,
  });
  const datasets: VitalsDataset[] = [
    line('systolic-pre', 'Systolic before dose', series.sysPre, sysColor, false),
    line('systolic-post', 'Systolic after dose', series.sysPost, sysColor, true),
    line('diastolic-pre', 'Diastolic before dose', series.diaPre, diaColor, false),
    line('diastolic-post', 'Diastolic after dose', series.diaPost, diaColor, true),
  ];
  if (series.aboveHold.length > 0) {
    datasets.unshift({
      kapkitRole: 'above-hold',
      label: '▲ Before dose, above the hold threshold',
      data: series.aboveHold,
      showLine: false,
      pointStyle: 'triangle',
      pointRadius: 10,
      backgroundColor: palette.hold,
      borderColor: '#ffffff',
      borderWidth: 1,
    });
  }
  return datasets;
}

/** A labelled hold threshold line. */
function holdLine(value: number, what: 'systolic' | 'diastolic'): AnnotationOptions {
  return {
    type: 'line',
    drawTime: 'beforeDatasetsDraw',
    yMin: value,
    yMax: value,
    borderColor: palette.hold,
    borderWidth: 2,
    borderDash: what === 'systolic' ? [10, 5] : [3, 3],
    label: {
      display: true,
      content: `Hold dosing if pre-dose ${what} > ${value} mmHg`,
      position: 'start',
      yAdjust: -10,
      color: palette.text,
      backgroundColor: 'rgba(255, 255, 255, 0.9)',
      font: { size: 11 },
      padding: 3,
    },
  };
}
