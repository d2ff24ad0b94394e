import { ols } from './ols.js';
import type { PatientOutcome, PatientOutcomeOptions } from './patient.js';

/**
 * The outcome of one patient on one instrument from their days and scores already sorted by day (ties in
 * input order): the one definition behind `patientOutcome` (rows as objects) and the report's columnar path.
 * Baseline = the last assessment on or before the first dose; without dose information (or none before it),
 * the first assessment. Latest = the last assessment after the baseline day.
 */
export function outcomeOfSortedDays(
  patientId: string,
  instrument: string,
  days: Float64Array,
  scores: Float64Array,
  firstDose: number | null,
  o: PatientOutcomeOptions,
): PatientOutcome {
  const n = days.length;
  if (n === 0) throw new RangeError('patientOutcome: no assessments');
  let base = 0;
  if (firstDose !== null) {
    for (let i = 0; i < n; i++) if (days[i]! <= firstDose) base = i;
  }
  const baseDay = days[base]!;
  const baseScore = scores[base]!;
  let latest = -1;
  let firstResponseDay: number | null = null;
  const worse = o.direction === 'higher-is-worse';
  const fraction = o.responseFraction;
  for (let i = 0; i < n; i++) {
    const day = days[i]!;
    if (day <= baseDay) continue;
    latest = i;
    if (
      worse &&
      fraction !== null &&
      firstResponseDay === null &&
      baseScore > 0 &&
      scores[i]! <= fraction * baseScore
    ) {
      firstResponseDay = day - baseDay;
    }
  }
  const trend = ols(days, scores);
  // One object literal with every key written out, for the evaluable patient and the other alike: a spread of
  // shared keys builds slow (dictionary-mode) objects in V8, which cost about 10 µs each to build and slow
  // every later read of them.
  const evaluable = latest >= 0;
  const latestDay = evaluable ? days[latest]! : null;
  const latestScore = evaluable ? scores[latest]! : null;
  const change = latestScore === null ? null : latestScore - baseScore;
  return {
    patientId,
    instrument,
    assessments: n,
    baselineDay: baseDay,
    baseline: baseScore,
    trend,
    evaluable,
    latestDay,
    latest: latestScore,
    change,
    percentChange: change === null || baseScore === 0 ? null : (100 * change) / baseScore,
    improvement: change === null ? null : worse ? -change : change,
    response:
      latestScore !== null && worse && fraction !== null && baseScore > 0
        ? latestScore <= fraction * baseScore
        : null,
    firstResponseDay,
    followUpDays: latestDay === null ? null : latestDay - baseDay,
    remission:
      latestScore === null || o.remissionBelow === null
        ? null
        : latestScore < o.remissionBelow &&
          (o.remissionRequiresBaselineAtLeast == null || baseScore >= o.remissionRequiresBaselineAtLeast),
  };
}
