import type { SafetyFlag } from './instruments/scoring.js';

/**
 * Typed errors. Every error kapkit throws is a {@link KapkitError} with a stable `code`, so callers can
 * branch on `error.code` instead of parsing messages.
 */

/** One problem found in an input: where it is, what was expected and what was found. */
export interface ValidationIssue {
  /** Path to the offending value, e.g. `['responses', 8]`. */
  readonly path: readonly (string | number)[];
  /** Stable machine-readable code. */
  readonly code:
    | 'invalid-type'
    | 'wrong-length'
    | 'out-of-range'
    | 'not-integer'
    | 'not-allowed'
    | 'missing-field'
    | 'unknown-field'
    | 'unknown-instrument'
    | 'invalid-json';
  /** What a valid value looks like, in words. */
  readonly expected: string;
  /** A short rendering of the value that was found. */
  readonly received: string;
  /** Human-readable sentence combining the above. */
  readonly message: string;
}

/** Base class of every error thrown by kapkit. */
export class KapkitError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KapkitError';
    this.code = code;
  }
}

/** The instrument id is not registered. */
export class UnknownInstrumentError extends KapkitError {
  readonly instrumentId: string;
  readonly known: readonly string[];
  constructor(instrumentId: string, known: readonly string[]) {
    super(
      'unknown-instrument',
      `Unknown instrument "${instrumentId}". Known instruments: ${known.join(', ')}. Ids are case-insensitive and ignore hyphens.`,
    );
    this.name = 'UnknownInstrumentError';
    this.instrumentId = instrumentId;
    this.known = known;
  }
}

/** An instrument with the same (normalised) id is already registered. */
export class DuplicateInstrumentError extends KapkitError {
  readonly instrumentId: string;
  constructor(instrumentId: string) {
    super(
      'duplicate-instrument',
      `An instrument with id "${instrumentId}" is already registered; pass { replace: true } to replace it.`,
    );
    this.name = 'DuplicateInstrumentError';
    this.instrumentId = instrumentId;
  }
}

/** An instrument definition is inconsistent (e.g. a band outside the score range, a duplicate item id). */
export class InstrumentDefinitionError extends KapkitError {
  readonly issues: readonly ValidationIssue[];
  constructor(instrumentId: string, issues: readonly ValidationIssue[]) {
    super(
      'invalid-instrument-definition',
      `Instrument definition "${instrumentId}" is invalid: ${issues.map((i) => i.message).join('; ')}`,
    );
    this.name = 'InstrumentDefinitionError';
    this.issues = issues;
  }
}

/**
 * A set of responses does not match its instrument. `safetyFlags` holds any safety item that was validly
 * answered positive in the same record, so that an error elsewhere never hides it.
 */
export class ResponseValidationError extends KapkitError {
  readonly instrumentId: string;
  readonly issues: readonly ValidationIssue[];
  readonly safetyFlags: readonly SafetyFlag[];
  constructor(
    instrumentId: string,
    issues: readonly ValidationIssue[],
    safetyFlags: readonly SafetyFlag[] = [],
  ) {
    const flagged = safetyFlags.some((f) => f.kind === 'positive')
      ? ` SAFETY: ${safetyFlags.map((f) => `${f.rule} (item ${f.item} = ${f.value})`).join(', ')} despite the invalid record.`
      : '';
    super(
      'invalid-responses',
      `Invalid ${instrumentId} responses: ${issues.map((i) => i.message).join('; ')}.${flagged}`,
    );
    this.name = 'ResponseValidationError';
    this.instrumentId = instrumentId;
    this.issues = issues;
    this.safetyFlags = safetyFlags;
  }
}

/** Render a value briefly for an error message (never more than 40 characters). */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    const s = JSON.stringify(value);
    return s.length > 40 ? `${s.slice(0, 37)}..."` : s;
  }
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  return typeof value;
}

/** Render a path like `responses[8]` or `supplementary.difficulty`. */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out === '' ? '(root)' : out;
}
