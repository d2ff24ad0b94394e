import type { PatientCourse } from '../records.js';
import type { PatientOutcome } from './patient.js';
import { type Proportion, wilson } from './proportion.js';
import { finiteOrNull, type MeanInterval, mean, meanInterval, qt } from './stats.js';

/** Outcomes of the patients of one group (with or without a medication class). */
export interface MedicationGroup {
  /** Patients with a follow-up after baseline (evaluable). */
  readonly patients: number;
  readonly responders: number;
  readonly responseRate: Proportion;
  readonly remitters: number;
  /** Null when the instrument has no remission definition. */
  readonly remissionRate: Proportion | null;
  /** Change (latest − baseline) with its t 95% CI. */
  readonly change: MeanInterval;
}

/** Welch's two-sample t interval for a difference in means (as R's `t.test(x, y)$conf.int`). */
export interface WelchDifference {
  /** mean(with) − mean(without). */
  readonly estimate: number | null;
  readonly lower: number | null;
  readonly upper: number | null;
  /** Welch–Satterthwaite degrees of freedom. */
  readonly df: number | null;
}

/** Outcomes with and without one concurrent-medication class. */
export interface MedicationClassComparison {
  readonly class: string;
  readonly with: MedicationGroup;
  readonly without: MedicationGroup;
  /** Difference in mean change, with minus without, Welch 95% CI. */
  readonly changeDifference: WelchDifference;
}

/** The comparison by medication class, labelled as observational. */
export interface MedicationClassAnalysis {
  readonly note: string;
  /** Evaluable patients with a recorded medication review (the rest are left out). */
  readonly patientsWithReview: number;
  readonly patientsWithoutReview: number;
  readonly classes: readonly MedicationClassComparison[];
}

export const MEDICATION_CLASS_NOTE =
  'Observational: patients were not randomised to their medications, and those who take a class differ from those who do not in ways that also affect outcomes (e.g. anxiety severity for benzodiazepines). These are associations, not effects of the medication. Medication classes are those of the review in force at the first dose (else the first review).';

/** Welch's t interval for mean(x) − mean(y); nulls when either group has fewer than 2 values. */
export function welchDifference(
  x: readonly number[],
  y: readonly number[],
  confLevel = 0.95,
): WelchDifference {
  const nx = x.length;
  const ny = y.length;
  if (nx === 0 || ny === 0) return { estimate: null, lower: null, upper: null, df: null };
  const estimate = mean(x) - mean(y);
  if (nx < 2 || ny < 2) return { estimate, lower: null, upper: null, df: null };
  const vx = meanInterval(x).sd! ** 2 / nx;
  const vy = meanInterval(y).sd! ** 2 / ny;
  const se = Math.sqrt(vx + vy);
  if (se === 0) return { estimate, lower: estimate, upper: estimate, df: null };
  const df = (vx + vy) ** 2 / (vx ** 2 / (nx - 1) + vy ** 2 / (ny - 1));
  const half = qt(1 - (1 - confLevel) / 2, df) * se;
  return { estimate, lower: estimate - half, upper: estimate + half, df: finiteOrNull(df) };
}

function group(list: readonly PatientOutcome[], hasRemission: boolean): MedicationGroup {
  const responders = list.filter((o) => o.response === true).length;
  const canRespond = list.filter((o) => o.response !== null).length;
  const remitters = list.filter((o) => o.remission === true).length;
  const canRemit = list.filter((o) => o.remission !== null).length;
  return {
    patients: list.length,
    responders,
    responseRate: wilson(responders, canRespond),
    remitters,
    remissionRate: hasRemission ? wilson(remitters, canRemit) : null,
    change: meanInterval(list.map((o) => o.change!)),
  };
}

/**
 * Response, remission and change of evaluable patients with and without each concurrent-medication class (the
 * classes of `PatientCourse.medicationClasses`), with Welch's 95% CI for the difference in mean change.
 * Patients without a recorded review are left out (counted). Observational; see {@link MEDICATION_CLASS_NOTE}.
 */
export function byMedicationClass(
  outcomes: ReadonlyMap<string, PatientOutcome>,
  courses: ReadonlyMap<string, PatientCourse>,
  hasRemission: boolean,
): MedicationClassAnalysis | null {
  const reviewed: { o: PatientOutcome; classes: readonly string[] }[] = [];
  let without = 0;
  for (const o of outcomes.values()) {
    if (!o.evaluable || o.change === null) continue;
    const classes = courses.get(o.patientId)?.medicationClasses;
    if (classes == null) without++;
    else reviewed.push({ o, classes });
  }
  if (reviewed.length === 0) return null;
  const present = [...new Set(reviewed.flatMap((r) => r.classes))].sort();
  return {
    note: MEDICATION_CLASS_NOTE,
    patientsWithReview: reviewed.length,
    patientsWithoutReview: without,
    classes: present.map((cls) => {
      const w = reviewed.filter((r) => r.classes.includes(cls)).map((r) => r.o);
      const wo = reviewed.filter((r) => !r.classes.includes(cls)).map((r) => r.o);
      return {
        class: cls,
        with: group(w, hasRemission),
        without: group(wo, hasRemission),
        changeDifference: welchDifference(
          w.map((o) => o.change!),
          wo.map((o) => o.change!),
        ),
      };
    }),
  };
}
