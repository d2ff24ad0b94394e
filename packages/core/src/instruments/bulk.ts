import type { ValidationIssue } from '../errors.js';
import type { InstrumentDefinition } from './definition.js';
import {
  compileInstrument,
  computeRule,
  isValidResponses,
  type SafetyFlag,
  type ScoreResult,
  STATUS_COMPLETE,
  STATUS_INVALID,
  STATUS_NOT_SCORABLE,
  STATUS_PRORATED,
  safeScoreResponse,
  safetyFlagsOf,
  scoreValid,
} from './scoring.js';
import { validateResponse } from './validate.js';

/** One record that could not be scored, with every reason and any safety flag its valid answers raised. */
export interface BulkRecordError {
  /** 0-based position of the record in the input. */
  readonly index: number;
  /** The record's `id`, when it had a string one. */
  readonly id: string | undefined;
  readonly issues: readonly ValidationIssue[];
  readonly safetyFlags: readonly SafetyFlag[];
}

/** Bit set in {@link BatchScores.safety} when a safety item was answered positive. */
export const SAFETY_POSITIVE = 1;
/** Bit set in {@link BatchScores.safety} when a safety item that asks for it was left unanswered. */
export const SAFETY_UNANSWERED = 2;

/**
 * Columnar scores of a batch: entry `i` of each array describes record `i`. Totals are `NaN` when a record
 * is not scorable or invalid; `status` holds {@link STATUS_CODES} indices.
 */
export interface BatchScores {
  readonly instrument: string;
  readonly count: number;
  readonly totals: Float64Array;
  /** 0 complete, 1 prorated, 2 not scorable, 3 invalid (see `STATUS_CODES`). */
  readonly status: Uint8Array;
  /** Index into the instrument's `bands`, or -1. */
  readonly band: Int8Array;
  /** Bit mask of {@link SAFETY_POSITIVE} and {@link SAFETY_UNANSWERED}; computed for invalid records too. */
  readonly safety: Uint8Array;
  /** Counts by status. */
  readonly counts: {
    complete: number;
    prorated: number;
    notScorable: number;
    invalid: number;
    safetyPositive: number;
  };
  /** Each invalid record, in input order. The batch goes on past them. */
  readonly errors: readonly BulkRecordError[];
}

function recordId(record: unknown): string | undefined {
  if (typeof record !== 'object' || record === null) return undefined;
  const id = (record as { id?: unknown }).id;
  return typeof id === 'string' ? id : undefined;
}

/**
 * Validate and score many administrations of one instrument at once, into typed arrays.
 *
 * Validation is a check compiled from the instrument definition (flat min/max arrays, no per-record schema
 * parse): invalid records are reported one by one in `errors` and the batch goes on. Safety items are read
 * from every record, valid or not.
 *
 * @example
 * ```ts
 * const batch = scoreBatch(phq9, records); // records: { id?, responses }[]
 * batch.totals[0];            // 12
 * batch.safety[3] & SAFETY_POSITIVE; // item 9 > 0 on record 3
 * batch.errors;               // [{ index: 7, issues: [{ path: ['responses', 2], … }] }]
 * ```
 */
export function scoreBatch(definition: InstrumentDefinition, records: ArrayLike<unknown>): BatchScores {
  const c = compileInstrument(definition);
  const count = records.length;
  const totals = new Float64Array(count);
  const status = new Uint8Array(count);
  const band = new Int8Array(count);
  const safety = new Uint8Array(count);
  const errors: BulkRecordError[] = [];
  const counts = { complete: 0, prorated: 0, notScorable: 0, invalid: 0, safetyPositive: 0 };

  const n = c.itemCount;
  const { mins, maxs, bandMins, safetyItems, safetyLo, safetyHi, safetyUnanswered } = c;
  const nSafety = safetyItems.length;
  const nBands = bandMins.length;
  const maxMissing = c.total.maxMissing;
  const plain = c.plainSum;
  const scratch = { status: 0, value: 0, missingUnits: 0 };

  for (let r = 0; r < count; r++) {
    const record = records[r] as { responses?: unknown; supplementary?: unknown; id?: unknown } | null;
    const responses = typeof record === 'object' && record !== null ? record.responses : undefined;
    let valid = Array.isArray(responses) && responses.length === n;
    let total = 0;
    let missing = 0;
    if (valid) {
      const arr = responses as unknown[];
      for (let i = 0; i < n; i++) {
        const v = arr[i];
        if (v === null) {
          missing++;
          continue;
        }
        if (typeof v !== 'number' || v < mins[i]! || v > maxs[i]! || (v | 0) !== v) {
          valid = false;
          break;
        }
        total += v;
      }
      if (
        valid &&
        ((record!.supplementary !== undefined && record!.supplementary !== null) ||
          (record!.id !== undefined && typeof record!.id !== 'string'))
      ) {
        valid = validateResponse(definition, record).length === 0;
      }
    }
    // Safety items are read whatever the validity of the rest of the record.
    let flags = 0;
    if (nSafety > 0 && Array.isArray(responses)) {
      for (let s = 0; s < nSafety; s++) {
        const v = responses[safetyItems[s]!];
        if (v === null || (v === undefined && responses.length === n)) {
          if (safetyUnanswered[s] === 1) flags |= SAFETY_UNANSWERED;
        } else if (typeof v === 'number' && v >= safetyLo[s]! && v <= safetyHi[s]! && (v | 0) === v) {
          flags |= SAFETY_POSITIVE;
        }
      }
      safety[r] = flags;
      if (flags & SAFETY_POSITIVE) counts.safetyPositive++;
    }
    if (!valid) {
      totals[r] = Number.NaN;
      status[r] = STATUS_INVALID;
      band[r] = -1;
      counts.invalid++;
      errors.push({
        index: r,
        id: recordId(record),
        issues: validateResponse(definition, record),
        safetyFlags: safetyFlagsOf(definition, responses),
      });
      continue;
    }
    let st: number;
    if (plain) {
      if (missing > maxMissing) {
        st = STATUS_NOT_SCORABLE;
        total = Number.NaN;
      } else if (missing > 0) {
        st = STATUS_PRORATED;
        total = (total * n) / (n - missing);
      } else {
        st = STATUS_COMPLETE;
      }
    } else {
      computeRule(c.total, responses as (number | null)[], scratch);
      st = scratch.status;
      total = scratch.value;
    }
    totals[r] = total;
    status[r] = st;
    if (st === STATUS_NOT_SCORABLE) {
      band[r] = -1;
      counts.notScorable++;
    } else {
      let b = -1;
      for (let k = nBands - 1; k >= 0; k--) {
        if (total >= bandMins[k]!) {
          b = k;
          break;
        }
      }
      band[r] = b;
      if (st === STATUS_COMPLETE) counts.complete++;
      else counts.prorated++;
    }
  }
  return { instrument: definition.id, count, totals, status, band, safety, counts, errors };
}

/** The outcome of scoring one record of a stream. */
export type BulkScoreOutcome<D extends InstrumentDefinition = InstrumentDefinition> =
  | {
      readonly ok: true;
      readonly index: number;
      readonly id: string | undefined;
      readonly result: ScoreResult<D>;
    }
  | ({ readonly ok: false } & BulkRecordError);

/**
 * Score records one by one as they arrive (arrays, generators, async iterables such as parsed NDJSON lines),
 * yielding a full result or the reasons a record is invalid. Never throws for a bad record: it yields an
 * error outcome and goes on. Memory stays flat whatever the input size.
 *
 * @example
 * ```ts
 * for await (const outcome of scoreStream(gad7, parsedLines)) {
 *   if (!outcome.ok) console.error(outcome.index, outcome.issues[0].message);
 * }
 * ```
 */
export async function* scoreStream<D extends InstrumentDefinition>(
  definition: D,
  records: AsyncIterable<unknown> | Iterable<unknown>,
): AsyncGenerator<BulkScoreOutcome<D>> {
  const c = compileInstrument(definition);
  let index = 0;
  for await (const record of records) {
    const id = recordId(record);
    const responses =
      typeof record === 'object' && record !== null
        ? (record as { responses?: unknown }).responses
        : undefined;
    const simple =
      isValidResponses(c, responses) &&
      (record as { supplementary?: unknown }).supplementary == null &&
      ((record as { id?: unknown }).id === undefined || id !== undefined);
    if (simple) {
      yield { ok: true, index, id, result: scoreValid(c, responses) };
    } else {
      const r = safeScoreResponse(definition, record);
      if (r.ok) yield { ok: true, index, id, result: r.value };
      else yield { ok: false, index, id, issues: r.issues, safetyFlags: r.safetyFlags };
    }
    index++;
  }
}
