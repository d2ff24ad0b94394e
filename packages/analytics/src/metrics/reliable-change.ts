/** Reliable change classification of one patient. */
export type ReliableChangeClass = 'improved' | 'no-reliable-change' | 'deteriorated';

/** The critical |RCI| when an instrument states none: 1.96, two-tailed p < .05. */
export const DEFAULT_RCI_CRITICAL = 1.96;
/** Where {@link DEFAULT_RCI_CRITICAL} comes from. */
export const DEFAULT_RCI_CRITICAL_SOURCE =
  'Jacobson & Truax 1991, J Consult Clin Psychol 59:12 (|RCI| > 1.96; default)';

/** Jacobson–Truax parameters: the SD of pre-treatment scores and the measure's reliability. */
export interface JacobsonTruaxParams {
  /** SD of baseline scores (s1): a published constant or the sample's baseline SD. */
  readonly sd: number;
  /** Reliability r (Cronbach's α or test–retest). */
  readonly reliability: number;
  /** Critical value; {@link DEFAULT_RCI_CRITICAL} (1.96, Jacobson & Truax 1991) when absent. */
  readonly critical?: number;
}

/**
 * Standard error of the difference between two scores: Sdiff = √2 · s1 · √(1 − r).
 */
// Jacobson & Truax 1991, J Consult Clin Psychol 59:12
export function sdiff(p: JacobsonTruaxParams): number {
  return Math.SQRT2 * p.sd * Math.sqrt(1 - p.reliability);
}

/** Points of change needed for reliable change: critical (1.96) · Sdiff. */
export function reliableChangePoints(p: JacobsonTruaxParams): number {
  return (p.critical ?? DEFAULT_RCI_CRITICAL) * sdiff(p);
}

/**
 * The reliable change index RCI = (x2 − x1) / Sdiff and its class. `direction` says whether lower scores are
 * better (`higher-is-worse`, e.g. PHQ-9: improvement is RCI < −1.96).
 */
export function jacobsonTruax(
  baseline: number,
  latest: number,
  p: JacobsonTruaxParams,
  direction: 'higher-is-worse' | 'higher-is-better' = 'higher-is-worse',
): { readonly rci: number; readonly class: ReliableChangeClass } {
  const rci = (latest - baseline) / sdiff(p);
  const c = p.critical ?? DEFAULT_RCI_CRITICAL;
  const better = direction === 'higher-is-worse' ? rci < -c : rci > c;
  const worse = direction === 'higher-is-worse' ? rci > c : rci < -c;
  return { rci, class: better ? 'improved' : worse ? 'deteriorated' : 'no-reliable-change' };
}

/**
 * Fixed-point reliable change as used by routine services (e.g. PHQ-9 ≥ 6 points, GAD-7 ≥ 4 points in NHS
 * Talking Therapies).
 */
export function fixedPointChange(
  baseline: number,
  latest: number,
  points: number,
  direction: 'higher-is-worse' | 'higher-is-better' = 'higher-is-worse',
): ReliableChangeClass {
  const change = latest - baseline;
  const improvement = direction === 'higher-is-worse' ? -change : change;
  return improvement >= points ? 'improved' : improvement <= -points ? 'deteriorated' : 'no-reliable-change';
}
