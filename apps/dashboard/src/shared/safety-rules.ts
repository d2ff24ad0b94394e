/**
 * Safety rules of an instrument as the server and the patient's page both apply them. Pure and browser-safe:
 * the patient's page imports it, so it stays free of any other code.
 */

/** A rule on one item's answer (PHQ-9: item 9 > 0). */
export interface SafetyRuleCheck {
  /** 1-based item number. */
  readonly item: number;
  readonly op: '>=' | '>' | '<=' | '<';
  readonly value: number;
}

/** True when an answer trips one of `rules` (PHQ-9 item 9 > 0); an unanswered item trips none. */
export function tripsSafetyRule(rules: readonly SafetyRuleCheck[], values: readonly number[]): boolean {
  return rules.some((r) => {
    const v = values[r.item - 1];
    if (v === undefined) return false;
    return r.op === '>'
      ? v > r.value
      : r.op === '>='
        ? v >= r.value
        : r.op === '<'
          ? v < r.value
          : v <= r.value;
  });
}
