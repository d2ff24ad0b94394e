import { ResponseValidationError, type ValidationIssue } from '../errors.js';
import {
  type BandIdOf,
  type Comparison,
  type InstrumentDefinition,
  type InstrumentResponse,
  itemScale,
  type MissingRule,
  type SafetyRule,
  type ScoringRule,
} from './definition.js';
import { validateResponse } from './validate.js';

/** `complete`: every unit answered; `prorated`: some missing within the rule; `not-scorable`: too many missing. */
export type ScoreStatus = 'complete' | 'prorated' | 'not-scorable';

/** A safety flag raised by one item's answer, whatever the total. */
export interface SafetyFlag {
  /** Id of the rule (e.g. `phq9-item9-positive`). */
  readonly rule: string;
  /** `positive`: the item met the rule; `unanswered`: the item was left blank and the rule asks to flag that. */
  readonly kind: 'positive' | 'unanswered';
  readonly instrument: string;
  /** 1-based item number. */
  readonly item: number;
  readonly itemId: string;
  readonly value: number | null;
  readonly message: string;
  readonly source: string;
}

/** One extra score (subscale, short form, transformed total). */
export interface ExtraScore {
  readonly id: string;
  readonly label: string;
  readonly status: ScoreStatus;
  readonly score: number | null;
  readonly reason: string | null;
}

/** Whether a cutoff is met; `null` when the score it refers to could not be computed. */
export interface CutoffResult {
  readonly id: string;
  readonly label: string;
  readonly met: boolean | null;
}

/** The result of scoring one administration. */
export interface ScoreResult<D extends InstrumentDefinition = InstrumentDefinition> {
  readonly instrument: D['id'];
  readonly status: ScoreStatus;
  /** Why the total is prorated or not scorable; `null` when complete. */
  readonly reason: string | null;
  /** Exact total (a prorated total is not rounded); `null` when not scorable. */
  readonly total: number | null;
  /** Number of items answered and the 1-based numbers of unanswered items. */
  readonly answered: number;
  readonly missingItems: readonly number[];
  /** Severity band id (`null` when not scorable or when the instrument has no bands). */
  readonly severity: BandIdOf<D> | null;
  readonly severityLabel: string | null;
  readonly cutoffs: readonly CutoffResult[];
  readonly scores: Readonly<Record<string, ExtraScore>>;
  /** Safety flags. Raised from the item answers, so present even when the total is not scorable. */
  readonly safetyFlags: readonly SafetyFlag[];
  readonly supplementary: Readonly<Record<string, number | null>>;
}

export const STATUS_CODES = ['complete', 'prorated', 'not-scorable', 'invalid'] as const;
export const STATUS_COMPLETE = 0;
export const STATUS_PRORATED = 1;
export const STATUS_NOT_SCORABLE = 2;
export const STATUS_INVALID = 3;

/** A scoring rule turned into index arrays, ready to run without looking anything up. */
export interface CompiledRule {
  readonly method: 'sum' | 'mean';
  readonly factor: number;
  /** For each scoring unit, the 0-based item indices it reduces (by max). */
  readonly units: readonly Int32Array[];
  readonly maxMissing: number;
  readonly missingSource: string;
}

/** An instrument turned into flat arrays for fast validation and scoring. Build once, use many times. */
export interface CompiledInstrument<D extends InstrumentDefinition = InstrumentDefinition> {
  readonly definition: D;
  readonly itemCount: number;
  readonly mins: Int32Array;
  readonly maxs: Int32Array;
  /** True when the total is a plain sum over single items (the fast path). */
  readonly plainSum: boolean;
  readonly total: CompiledRule;
  /** Compiled rules of the extra scores, in definition order. */
  readonly scores: readonly CompiledRule[];
  /** Band lower bounds, in increasing order. */
  readonly bandMins: Float64Array;
  readonly safetyItems: Int32Array;
  /** Safety rules as integer ranges: an answer v is positive when `safetyLo[s] <= v <= safetyHi[s]`. */
  readonly safetyLo: Float64Array;
  readonly safetyHi: Float64Array;
  /** 1 when rule s also flags an unanswered item. */
  readonly safetyUnanswered: Uint8Array;
}

/** The answers (within the item's integer scale) that satisfy a comparison, as an inclusive range. */
function ruleRange(op: Comparison, value: number, min: number, max: number): [number, number] {
  switch (op) {
    case '>':
      return [Math.max(min, Math.floor(value) + 1), max];
    case '>=':
      return [Math.max(min, Math.ceil(value)), max];
    case '<':
      return [min, Math.min(max, Math.ceil(value) - 1)];
    case '<=':
      return [min, Math.min(max, Math.floor(value))];
  }
}

function compileRule(
  rule: ScoringRule,
  items: readonly number[],
  missing: MissingRule | undefined,
): CompiledRule {
  const units = rule.groups
    ? rule.groups.map((g) => Int32Array.from(g.items, (n) => n - 1))
    : items.map((n) => Int32Array.of(n - 1));
  return {
    method: rule.method,
    factor: rule.factor ?? 1,
    units,
    maxMissing: missing?.maxMissing ?? 0,
    missingSource: missing?.source ?? 'all items required',
  };
}

const compiledCache = new WeakMap<InstrumentDefinition, CompiledInstrument>();

/**
 * Compile an instrument into flat arrays for fast validation and scoring (cached per definition object).
 * Used by {@link scoreResponse} and the bulk scorers.
 */
export function compileInstrument<D extends InstrumentDefinition>(definition: D): CompiledInstrument<D> {
  const cached = compiledCache.get(definition);
  if (cached) return cached as CompiledInstrument<D>;
  const n = definition.items.length;
  const mins = new Int32Array(n);
  const maxs = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const scale = itemScale(definition, i);
    mins[i] = scale.min;
    maxs[i] = scale.max;
  }
  const all = definition.items.map((_, i) => i + 1);
  const safety = definition.safety ?? [];
  const compiled: CompiledInstrument<D> = {
    definition,
    itemCount: n,
    mins,
    maxs,
    plainSum:
      definition.scoring.method === 'sum' &&
      !definition.scoring.groups &&
      (definition.scoring.factor ?? 1) === 1,
    total: compileRule(definition.scoring, all, definition.missing),
    scores: (definition.scores ?? []).map((sd) => compileRule(sd.scoring, sd.items, sd.missing)),
    bandMins: Float64Array.from(definition.bands ?? [], (b) => b.min),
    safetyItems: Int32Array.from(safety, (r) => r.item - 1),
    safetyLo: Float64Array.from(
      safety,
      (r) => ruleRange(r.op, r.value, mins[r.item - 1]!, maxs[r.item - 1]!)[0],
    ),
    safetyHi: Float64Array.from(
      safety,
      (r) => ruleRange(r.op, r.value, mins[r.item - 1]!, maxs[r.item - 1]!)[1],
    ),
    safetyUnanswered: Uint8Array.from(safety, (r) => (r.flagUnanswered ? 1 : 0)),
  };
  compiledCache.set(definition, compiled);
  return compiled;
}

/**
 * Fast structural check of a responses array: right length, each entry null or an integer in its item's range.
 * Does not allocate.
 */
export function isValidResponses(
  c: CompiledInstrument,
  responses: unknown,
): responses is readonly (number | null)[] {
  if (!Array.isArray(responses) || responses.length !== c.itemCount) return false;
  const { mins, maxs } = c;
  for (let i = 0; i < c.itemCount; i++) {
    const v = responses[i];
    if (v === null) continue;
    // Scales are small integers, so `(v | 0) === v` after the range check tests integrality (and rejects NaN).
    if (typeof v !== 'number' || v < mins[i]! || v > maxs[i]! || (v | 0) !== v) return false;
  }
  return true;
}

/** Scratch output of {@link computeRule}, reused to keep the hot path allocation-free. */
export interface RuleOutput {
  status: number;
  value: number;
  missingUnits: number;
}

/** Compute a compiled scoring rule over valid responses into `out` (no allocation). */
export function computeRule(
  rule: CompiledRule,
  responses: readonly (number | null)[],
  out: RuleOutput,
): void {
  let acc = 0;
  let answered = 0;
  const units = rule.units;
  for (let u = 0; u < units.length; u++) {
    const idx = units[u]!;
    let best = -Infinity;
    for (let k = 0; k < idx.length; k++) {
      const v = responses[idx[k]!];
      if (v !== null && v !== undefined && v > best) best = v;
    }
    if (best !== -Infinity) {
      acc += best;
      answered++;
    }
  }
  const missing = units.length - answered;
  out.missingUnits = missing;
  if (missing > rule.maxMissing || answered === 0) {
    out.status = STATUS_NOT_SCORABLE;
    out.value = Number.NaN;
    return;
  }
  // Multiply before dividing, so a prorated total that is a whole number comes out exact.
  const raw = rule.method === 'mean' ? acc / answered : missing === 0 ? acc : (acc * units.length) / answered;
  out.status = missing === 0 ? STATUS_COMPLETE : STATUS_PRORATED;
  out.value = raw * rule.factor;
}

/** Index of the severity band containing `total`, or -1. Bands cover [min, next min). */
function bandIndex(bandMins: Float64Array, total: number): number {
  for (let b = bandMins.length - 1; b >= 0; b--) if (total >= bandMins[b]!) return b;
  return -1;
}

function compare(value: number, op: Comparison, threshold: number): boolean {
  switch (op) {
    case '>=':
      return value >= threshold;
    case '>':
      return value > threshold;
    case '<=':
      return value <= threshold;
    case '<':
      return value < threshold;
  }
}

function safetyFlag(definition: InstrumentDefinition, rule: SafetyRule, value: number | null): SafetyFlag {
  return {
    rule: rule.id,
    kind: value === null ? 'unanswered' : 'positive',
    instrument: definition.id,
    item: rule.item,
    itemId: definition.items[rule.item - 1]!.id,
    value,
    message:
      value === null
        ? `${definition.name} item ${rule.item} (${definition.items[rule.item - 1]!.id}) was left unanswered; it is a safety item: ask it again or assess risk directly.`
        : rule.message,
    source: rule.source,
  };
}

/**
 * Safety flags from whatever item answers are valid. Works on invalid records too, so that a positive
 * safety item is never lost because another field was wrong.
 */
export function safetyFlagsOf(definition: InstrumentDefinition, responses: unknown): SafetyFlag[] {
  const rules = definition.safety;
  if (!rules || rules.length === 0 || !Array.isArray(responses)) return [];
  const flags: SafetyFlag[] = [];
  for (const rule of rules) {
    const i = rule.item - 1;
    const v: unknown = responses[i];
    const scale = itemScale(definition, i);
    if (v === null || (v === undefined && responses.length === definition.items.length)) {
      if (rule.flagUnanswered) flags.push(safetyFlag(definition, rule, null));
    } else if (typeof v === 'number' && Number.isInteger(v) && v >= scale.min && v <= scale.max) {
      if (compare(v, rule.op, rule.value)) flags.push(safetyFlag(definition, rule, v));
    }
  }
  return flags;
}

function statusName(code: number): ScoreStatus {
  return code === STATUS_COMPLETE ? 'complete' : code === STATUS_PRORATED ? 'prorated' : 'not-scorable';
}

function reasonFor(name: string, out: RuleOutput, rule: CompiledRule, unitWord: string): string | null {
  if (out.status === STATUS_COMPLETE) return null;
  const n = rule.units.length;
  const m = out.missingUnits;
  if (out.status === STATUS_PRORATED) {
    return rule.method === 'mean'
      ? `${m} of ${n} ${unitWord} unanswered; score is the mean of the ${n - m} answered (rule: ${rule.missingSource})`
      : `${m} of ${n} ${unitWord} unanswered; total prorated as mean of answered × ${n} (rule: ${rule.missingSource})`;
  }
  return `${m} of ${n} ${unitWord} unanswered; ${name} allows at most ${rule.maxMissing} (rule: ${rule.missingSource})`;
}

/**
 * Score responses that are already known to be valid (see {@link isValidResponses}); builds the full result.
 * Prefer {@link scoreResponse}, which validates first.
 */
export function scoreValid<D extends InstrumentDefinition>(
  c: CompiledInstrument<D>,
  responses: readonly (number | null)[],
  supplementary?: Readonly<Record<string, number | null | undefined>> | null,
): ScoreResult<D> {
  const d = c.definition;
  const out: RuleOutput = { status: 0, value: 0, missingUnits: 0 };
  computeRule(c.total, responses, out);
  const total = out.status === STATUS_NOT_SCORABLE ? null : out.value;
  const missingItems: number[] = [];
  for (let i = 0; i < responses.length; i++) if (responses[i] === null) missingItems.push(i + 1);
  const unitWord = d.scoring.groups ? 'domains' : 'items';
  const reason = reasonFor(d.name, out, c.total, unitWord);

  const scores: Record<string, ExtraScore> = {};
  const values = new Map<string, number | null>([['total', total]]);
  for (const [k, s] of (d.scores ?? []).entries()) {
    const rule = c.scores[k]!;
    const o: RuleOutput = { status: 0, value: 0, missingUnits: 0 };
    computeRule(rule, responses, o);
    const score = o.status === STATUS_NOT_SCORABLE ? null : o.value;
    values.set(s.id, score);
    scores[s.id] = {
      id: s.id,
      label: s.label,
      status: statusName(o.status),
      score,
      reason: reasonFor(s.label, o, rule, s.scoring.groups ? 'domains' : 'items'),
    };
  }

  const cutoffs: CutoffResult[] = [];
  const met = new Map<string, boolean | null>();
  for (const cut of d.cutoffs ?? []) {
    const v = values.get(cut.score);
    const m = v === null || v === undefined ? null : compare(v, cut.op, cut.value);
    met.set(cut.id, m);
    cutoffs.push({ id: cut.id, label: cut.label, met: m });
  }
  for (const comp of d.compositeCutoffs ?? []) {
    const parts = comp.allOf.map((id) => met.get(id) ?? null);
    const m = parts.some((p) => p === false) ? false : parts.some((p) => p === null) ? null : true;
    cutoffs.push({ id: comp.id, label: comp.label, met: m });
  }

  let severity: BandIdOf<D> | null = null;
  let severityLabel: string | null = null;
  if (total !== null && d.bands) {
    const band = d.bands[bandIndex(c.bandMins, total)];
    if (band) {
      severity = band.id as BandIdOf<D>;
      severityLabel = band.label;
    }
  }
  const supp: Record<string, number | null> = {};
  for (const q of d.supplementary ?? []) {
    const v = supplementary?.[q.id];
    if (v !== undefined) supp[q.id] = v;
  }
  return {
    instrument: d.id,
    status: statusName(out.status),
    reason,
    total,
    answered: responses.length - missingItems.length,
    missingItems,
    severity,
    severityLabel,
    cutoffs,
    scores,
    safetyFlags: safetyFlagsOf(d, responses),
    supplementary: supp,
  };
}

/**
 * Whether `supplementary` is what `validateResponse` accepts: absent, or an object answering only the
 * definition's supplementary questions, each with null or a whole number on its scale. Those answers never
 * change the status, total, band or safety flags, so valid ones let a score skip the full validation
 * (`safeScoreResponse`, and the folds' scorer of assessments read back from a store).
 */
export function isValidSupplementary(definition: InstrumentDefinition, supplementary: unknown): boolean {
  if (supplementary === undefined || supplementary === null) return true;
  if (typeof supplementary !== 'object' || Array.isArray(supplementary)) return false;
  const questions = definition.supplementary ?? [];
  for (const key of Object.keys(supplementary)) {
    const q = questions.find((x) => x.id === key);
    if (q === undefined) return false;
    const v = (supplementary as Record<string, unknown>)[key];
    if (v === null) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < q.scale.min || v > q.scale.max) return false;
  }
  return true;
}

/** Either a score or the validation issues that prevented it. Safety flags are reported in both cases. */
export type SafeScoreResult<D extends InstrumentDefinition = InstrumentDefinition> =
  | { readonly ok: true; readonly value: ScoreResult<D> }
  | {
      readonly ok: false;
      readonly error: ResponseValidationError;
      readonly issues: readonly ValidationIssue[];
      readonly safetyFlags: readonly SafetyFlag[];
    };

/**
 * Validate and score one administration without throwing.
 *
 * @example
 * ```ts
 * const r = safeScoreResponse(phq9, { responses: [1, 1, 2, 0, 1, 0, 0, 0, 9] });
 * if (!r.ok) console.log(r.issues[0].message); // "responses[8] (item 9, phq9_9): expected an integer from 0 to 3…"
 * ```
 */
export function safeScoreResponse<D extends InstrumentDefinition>(
  definition: D,
  input: unknown,
): SafeScoreResult<D> {
  const c = compileInstrument(definition);
  const record = input as { responses?: unknown; supplementary?: unknown } | null;
  const responses = typeof record === 'object' && record !== null ? record.responses : undefined;
  if (isValidResponses(c, responses)) {
    const supplementary = record?.supplementary;
    const id = (record as { id?: unknown }).id;
    const restOk =
      isValidSupplementary(definition, supplementary) && (id === undefined || typeof id === 'string');
    if (restOk) {
      return {
        ok: true,
        value: scoreValid(c, responses, supplementary as Record<string, number | null> | undefined),
      };
    }
  }
  const issues = validateResponse(definition, input);
  const safetyFlags = safetyFlagsOf(definition, responses);
  const error = new ResponseValidationError(definition.id, issues, safetyFlags);
  return { ok: false, error, issues, safetyFlags };
}

/**
 * Validate and score one administration.
 *
 * @example
 * ```ts
 * import { phq9, scoreResponse } from '@kapkit/core';
 * const r = scoreResponse(phq9, { responses: [1, 2, 1, 1, 0, 1, 0, 0, 1] });
 * r.total;        // 7
 * r.severity;     // 'mild'
 * r.safetyFlags;  // [{ rule: 'phq9-item9-positive', kind: 'positive', value: 1, … }]
 * ```
 * @throws {ResponseValidationError} listing every invalid field, with `safetyFlags` for any safety item that
 *   was validly answered positive in the same record.
 */
export function scoreResponse<D extends InstrumentDefinition>(
  definition: D,
  input:
    | InstrumentResponse<D>
    | {
        readonly responses: readonly (number | null)[];
        readonly supplementary?: Readonly<Record<string, number | null>> | undefined;
      },
): ScoreResult<D> {
  const r = safeScoreResponse(definition, input);
  if (!r.ok) throw r.error;
  return r.value;
}
