/**
 * The tidy input of every analysis: one row per scored assessment. Rows come from an event log (see
 * `recordsFromEpisodes`) or a tidy CSV (`patient_id,instrument,day,score`).
 */
export interface OutcomeRecord {
  /** The unit of analysis: a patient (or one course of treatment). */
  readonly patientId: string;
  /** Canonical instrument id (`phq9`). */
  readonly instrument: string;
  /** Days from any fixed origin of this patient (fractional allowed); analyses use days since baseline. */
  readonly day: number;
  /** Total score (exact; prorated totals are not rounded). */
  readonly score: number;
  /** Day of the first dose on the same axis; null/undefined when unknown or no dose was given. */
  readonly firstDoseDay?: number | null;
  /** Doses (dosing sessions) given at or before this assessment. */
  readonly doseNumber?: number | null;
  /** Days since the last dose at this assessment. */
  readonly daysSinceLastDose?: number | null;
  /** Whether the assessment fell inside a critical-period window. */
  readonly inCriticalPeriod?: boolean | null;
}

/** Per-patient critical-period facts for KAP-specific analysis. */
export interface PatientCourse {
  readonly patientId: string;
  readonly doses: number;
  /** Fraction of the span from the first dose to the end of follow-up covered by critical periods. */
  readonly coverage: number | null;
  /** Doses in the longest chain of overlapping critical periods. */
  readonly longestChain: number;
  /**
   * Concurrent-medication classes (the review in force at the first dose, else the first review); null or
   * absent when no medication review was recorded.
   */
  readonly medicationClasses?: readonly string[] | null;
}
