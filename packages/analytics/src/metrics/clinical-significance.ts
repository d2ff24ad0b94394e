/** Cut-offs for clinically significant change. */
export interface ClinicalCutoffs {
  /** a = M1 − 2·s1: two SDs beyond the clinical mean, toward health. */
  readonly a: number;
  /** b = M0 + 2·s0: within two SDs of the general-population mean. */
  readonly b: number | null;
  /** c = (s0·M1 + s1·M0)/(s0 + s1): where the two distributions meet. */
  readonly c: number | null;
}

/**
 * Jacobson & Truax clinically significant change cut-offs for a measure where higher is worse, from the
 * clinical sample (M1, s1) and general-population norms (M0, s0).
 */
// Jacobson & Truax 1991, J Consult Clin Psychol 59:12
export function clinicalCutoffs(
  clinical: { mean: number; sd: number },
  norms?: { mean: number; sd: number },
): ClinicalCutoffs {
  const a = clinical.mean - 2 * clinical.sd;
  if (!norms) return { a, b: null, c: null };
  return {
    a,
    b: norms.mean + 2 * norms.sd,
    c: (norms.sd * clinical.mean + clinical.sd * norms.mean) / (norms.sd + clinical.sd),
  };
}
