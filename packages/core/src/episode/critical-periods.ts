import { describeValue, KapkitError } from '../errors.js';

/**
 * Critical periods. Each dosing session's dose opens a window `[doseAt, doseAt + W)`; a course
 * aims for "overlapping critical periods". This module is pure: no timers, no `Date.now()`; every "now" is an
 * explicit parameter. Time is elapsed time in milliseconds between instants: a day is 86,400,000 ms and a
 * window end is shown in the fixed UTC offset of its dose (time-zone rules such as daylight saving are not
 * applied; convert to a zone's wall clock outside kapkit if needed).
 */

/**
 * One day of elapsed time, in milliseconds.
 *
 * @example
 * ```ts
 * (Date.parse('2026-03-10T21:00:00Z') - Date.parse('2026-03-08T09:00:00Z')) / DAY_MS; // 2.5
 * ```
 */
export const DAY_MS = 86_400_000;

/** One hour of elapsed time, in milliseconds. */
const HOUR_MS = 3_600_000;

/**
 * Default critical-period lengths.
 *
 * @example
 * ```ts
 * const w = windowMsFromDays(CRITICAL_PERIOD_DEFAULTS.seedWindowDays); // 1_209_600_000
 * ```
 */
export const CRITICAL_PERIOD_DEFAULTS = {
  // Seed (KAP therapist, 2025): benefits "can last up to two weeks after a single ketamine experience"; spine density after one dose stayed raised up to 2 weeks (Phoumthipphavong et al. 2016, eNeuro)
  seedWindowDays: 14,
  // Nardou et al. 2023, Nature 618:790: in mice, ketamine reopened the social-reward critical period for about 48 h
  researchWindowHours: 48,
} as const;

/** One dosing session's dose: the session's first administration (a booster does not open a new window). */
export interface DoseTime {
  /** ISO 8601 date-time with a UTC offset, e.g. `2026-03-02T10:00:00-05:00` or `2026-03-02T15:00:00Z`. */
  readonly at: string;
  readonly sessionId?: string;
}

/** The critical period `[start, end)` opened by one dose. */
export interface CriticalWindow {
  /** 1-based number of the dose in time order. */
  doseNumber: number;
  sessionId?: string;
  /** The dose's `at`, as given. */
  start: string;
  /** `start + W`, in the dose's UTC offset (excluded from the window). */
  end: string;
  startMs: number;
  endMs: number;
}

/** Two consecutive windows that overlap: dose `to` fell inside the window of dose `from`. */
export interface CriticalOverlap {
  from: number;
  to: number;
  /** `endMs(from) - startMs(to)`, always > 0. */
  overlapMs: number;
}

/** A maximal run of consecutive doses, each inside the previous dose's window. */
export interface CriticalChain {
  /** Dose numbers, in order. */
  doses: number[];
  /** Start of the first window. */
  start: string;
  /** End of the last window. */
  end: string;
  /** Length of the chain's (contiguous) union of windows. */
  durationMs: number;
}

/** How much of a span the union of the windows covers. */
export interface CriticalCoverage {
  /** The first dose's `at`. */
  spanStart: string;
  /** `until` as given, or the last window's end. */
  spanEnd: string;
  spanMs: number;
  coveredMs: number;
  /** `coveredMs / spanMs`, in [0, 1]. */
  fraction: number;
}

/** A stretch of the span covered by no window. */
export interface CriticalGap {
  start: string;
  end: string;
  durationMs: number;
  /** The dose whose window ended where the gap starts. */
  afterDose: number;
}

/** When the next dose must come to keep the last window's chain unbroken. */
export interface NextDoseDeadline {
  /** End of the last window: a dose must come strictly before it. */
  before: string;
  beforeMs: number;
  /** `YYYY-MM-DD` in the last dose's UTC offset: the last calendar day on which a dose is still in time. */
  latestDay: string;
}

/** Everything derived from a list of doses and a window length. */
export interface CriticalPeriodAnalysis {
  windowMs: number;
  /** One per dose, in time order. */
  windows: CriticalWindow[];
  /** Overlaps of consecutive windows only. */
  overlaps: CriticalOverlap[];
  chains: CriticalChain[];
  /** The chain with the most doses; ties go to the earliest. `null` without doses. */
  longestChain: CriticalChain | null;
  /** `null` without doses or when the span is empty (`until` at or before the first dose). */
  coverage: CriticalCoverage | null;
  /** Uncovered stretches inside the coverage span; zero-length gaps (abutting windows) are not reported. */
  gaps: CriticalGap[];
  /** `null` without doses. */
  nextDoseDeadline: NextDoseDeadline | null;
}

/** Options of {@link analyzeCriticalPeriods}. */
export interface CriticalPeriodOptions {
  /** Window length W in milliseconds: a positive whole number (see {@link windowMsFromDays}). */
  windowMs: number;
  /** End of the coverage span (ISO 8601 with offset), e.g. "now"; defaults to the last window's end. */
  until?: string;
}

/** Where an instant falls relative to the doses and their windows. */
export interface CriticalPeriodLocation {
  /** Whether at least one window contains the instant. */
  inside: boolean;
  /** Dose numbers whose window contains the instant, in order. */
  windows: number[];
  /** Number of doses given at or before the instant; `null` when none. */
  doseNumber: number | null;
  /** `at` of the last dose given at or before the instant. */
  lastDoseAt: string | null;
  /** Elapsed days (fractional) since that dose. */
  daysSinceLastDose: number | null;
}

/**
 * A timestamp is not an ISO 8601 date-time with a UTC offset (or names an impossible date).
 *
 * @example
 * ```ts
 * try {
 *   analyzeCriticalPeriods([{ at: 'tomorrow' }], { windowMs: DAY_MS });
 * } catch (e) {
 *   if (e instanceof InvalidTimestampError) e.index; // 0
 * }
 * ```
 */
export class InvalidTimestampError extends KapkitError {
  /** Where the value was, e.g. `doses[2].at`, `options.until`, `at`. */
  readonly field: string;
  /** Index in the input array, or `null` for a single parameter. */
  readonly index: number | null;
  readonly value: unknown;
  constructor(field: string, index: number | null, value: unknown, reason = '') {
    super(
      'invalid-timestamp',
      `Invalid timestamp at ${field}: expected an ISO 8601 date-time with a UTC offset, e.g. 2026-03-02T10:00:00-05:00 or 2026-03-02T15:00:00Z, got ${describeValue(value)}${reason === '' ? '' : ` (${reason})`}.`,
    );
    this.name = 'InvalidTimestampError';
    this.field = field;
    this.index = index;
    this.value = value;
  }
}

// YYYY-MM-DDTHH:MM[:SS[.fraction]](Z|±HH:MM): RFC 3339 / ISO 8601 extended format (seconds optional, as ISO 8601 allows)
const ISO_WITH_OFFSET =
  /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.(\d+))?)?(Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;
const OFFSET = /^(?:Z|([+-])([01]\d|2[0-3]):([0-5]\d))$/;

/** Latest window end kapkit formats: 9999-12-30T00:00:00Z, still in the year 9999 in every UTC offset. */
const LATEST_MS = Date.UTC(9999, 11, 30);

function offsetMinutes(offset: string): number | null {
  const m = OFFSET.exec(offset);
  if (m === null) return null;
  if (m[1] === undefined) return 0;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  return m[1] === '-' ? -minutes : minutes;
}

/** UTC epoch ms of a calendar date-time (years 0–99 included, unlike `Date.UTC`). */
function utcMs(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number {
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, ms);
  return date.getTime();
}

/** Epoch ms of an ISO timestamp with offset, or a reason it is not one. */
function parseIso(value: unknown): number | string {
  if (typeof value !== 'string') return 'not a string';
  const m = ISO_WITH_OFFSET.exec(value);
  if (m === null) return 'not in the form YYYY-MM-DDTHH:MM:SS with Z or ±HH:MM';
  const [, ys, mos, ds, hs, mis, ss, frac, off] = m;
  const y = Number(ys);
  const mo = Number(mos);
  const d = Number(ds);
  const local = utcMs(
    y,
    mo,
    d,
    Number(hs),
    Number(mis),
    Number(ss ?? 0),
    Number((frac ?? '').padEnd(3, '0').slice(0, 3)),
  );
  const check = new Date(local);
  if (
    mo < 1 ||
    mo > 12 ||
    check.getUTCFullYear() !== y ||
    check.getUTCMonth() !== mo - 1 ||
    check.getUTCDate() !== d
  ) {
    return `${ys}-${mos}-${ds} is not a calendar date`;
  }
  return local - (offsetMinutes(off ?? 'Z') ?? 0) * 60_000;
}

function parseAt(value: unknown, field: string, index: number | null): number {
  const ms = parseIso(value);
  if (typeof ms === 'string') throw new InvalidTimestampError(field, index, value, ms);
  return ms;
}

/** A fixed UTC offset as written in ISO 8601: `'Z'` or `'±HH:MM'`. */
export type UtcOffset = 'Z' | `+${string}` | `-${string}`;

/**
 * The UTC offset of an ISO 8601 timestamp: `'Z'` or `'±HH:MM'` as written.
 *
 * @example
 * ```ts
 * offsetOf('2026-03-02T10:00:00-05:00'); // '-05:00'
 * offsetOf('2026-03-02T15:00:00Z');      // 'Z'
 * ```
 * @throws {InvalidTimestampError} when `iso` is not an ISO 8601 date-time with an offset.
 */
export function offsetOf(iso: string): UtcOffset {
  parseAt(iso, 'iso', null);
  return (iso.endsWith('Z') ? 'Z' : iso.slice(-6)) as UtcOffset;
}

/**
 * Format an epoch-ms instant as ISO 8601 in a fixed UTC offset. Seconds are always shown; milliseconds only
 * when not zero.
 *
 * @example
 * ```ts
 * formatInOffset(Date.UTC(2026, 2, 16, 7, 30), '-08:00'); // '2026-03-15T23:30:00-08:00'
 * formatInOffset(Date.UTC(2026, 2, 2, 15, 0, 0, 250), 'Z'); // '2026-03-02T15:00:00.250Z'
 * ```
 * @throws {InvalidTimestampError} when the offset is not `Z`/`±HH:MM` or the instant is outside years 0000–9999.
 */
export function formatInOffset(ms: number, offset: string): string {
  const minutes = offsetMinutes(offset);
  if (minutes === null) throw new InvalidTimestampError('offset', null, offset, 'expected Z or ±HH:MM');
  const d = new Date(ms + minutes * 60_000);
  const year = d.getUTCFullYear();
  if (!Number.isInteger(ms) || Number.isNaN(d.getTime()) || year < 0 || year > 9999) {
    throw new InvalidTimestampError('ms', null, ms, 'expected a whole number of ms within years 0000–9999');
  }
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const frac = d.getUTCMilliseconds() === 0 ? '' : `.${p(d.getUTCMilliseconds(), 3)}`;
  return `${p(year, 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}T${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}${frac}${offset}`;
}

/** `value` units of `unitMs` each, as a whole number of ms (rounded); throws `invalid-window` if not usable. */
function toWindowMs(value: number, unitMs: number, unit: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new KapkitError(
      'invalid-window',
      `Invalid critical-period window: ${unit} must be a positive finite number, got ${describeValue(value)}.`,
    );
  }
  const ms = Math.round(value * unitMs);
  if (ms < 1 || !Number.isSafeInteger(ms)) {
    throw new KapkitError(
      'invalid-window',
      `Invalid critical-period window: ${value} ${unit} is ${ms < 1 ? 'shorter than 1 ms' : 'too long'}.`,
    );
  }
  return ms;
}

/**
 * A window length in ms from days (rounded to the nearest ms).
 *
 * @example
 * ```ts
 * windowMsFromDays(14); // 1_209_600_000
 * ```
 * @throws {KapkitError} code `invalid-window` unless `days` is a positive finite number.
 */
export function windowMsFromDays(days: number): number {
  return toWindowMs(days, DAY_MS, 'days');
}

/**
 * A window length in ms from hours (rounded to the nearest ms).
 *
 * @example
 * ```ts
 * windowMsFromHours(CRITICAL_PERIOD_DEFAULTS.researchWindowHours); // 172_800_000
 * ```
 * @throws {KapkitError} code `invalid-window` unless `h` is a positive finite number.
 */
export function windowMsFromHours(h: number): number {
  return toWindowMs(h, HOUR_MS, 'hours');
}

/**
 * Windows, overlaps, chains, coverage, gaps and the next-dose deadline of a course of doses.
 *
 * Doses are sorted by instant (stable: equal instants keep input order) and numbered from 1. Dose `k + 1`
 * overlaps dose `k` when it falls strictly inside its window (`at(k+1) < at(k) + W`); a dose exactly at the
 * window's end starts a new chain but leaves no gap. Coverage runs from the first dose to `until` (or to the
 * last window's end) and counts the union of the windows clipped to that span.
 *
 * @example
 * ```ts
 * const a = analyzeCriticalPeriods(
 *   [{ at: '2026-03-01T10:00:00Z' }, { at: '2026-03-08T10:00:00Z' }, { at: '2026-03-22T10:00:00Z' }],
 *   { windowMs: windowMsFromDays(14) },
 * );
 * a.overlaps;            // [{ from: 1, to: 2, overlapMs: 604_800_000 }]
 * a.chains.map((c) => c.doses); // [[1, 2], [3]]
 * a.gaps;                // [] (window 2 ends exactly when dose 3 starts)
 * a.nextDoseDeadline;    // { before: '2026-04-05T10:00:00Z', beforeMs: …, latestDay: '2026-04-05' }
 * ```
 * @throws {InvalidTimestampError} naming the index and value of the first unparsable timestamp.
 * @throws {KapkitError} code `invalid-window` when `windowMs` is not a positive whole number of ms.
 */
export function analyzeCriticalPeriods(
  doses: readonly DoseTime[],
  options: CriticalPeriodOptions,
): CriticalPeriodAnalysis {
  const windowMs = options.windowMs;
  if (typeof windowMs !== 'number' || !Number.isSafeInteger(windowMs) || windowMs <= 0) {
    throw new KapkitError(
      'invalid-window',
      `Invalid critical-period window: options.windowMs must be a positive whole number of milliseconds, got ${describeValue(windowMs)}.`,
    );
  }
  const parsed = doses.map((dose, index) => ({
    dose,
    ms: parseAt(dose?.at, `doses[${index}].at`, index),
  }));
  const untilMs = options.until === undefined ? null : parseAt(options.until, 'options.until', null);
  parsed.sort((a, b) => a.ms - b.ms);

  const windows: CriticalWindow[] = parsed.map(({ dose, ms }, i) => {
    const endMs = ms + windowMs;
    if (endMs > LATEST_MS) {
      throw new KapkitError(
        'invalid-window',
        `Invalid critical-period window: the window of dose ${i + 1} (${dose.at}) would end after the year 9999.`,
      );
    }
    const w: CriticalWindow = {
      doseNumber: i + 1,
      start: dose.at,
      // `dose.at` parsed above, so its offset is its suffix (what `offsetOf` gives after parsing it again).
      end: formatInOffset(endMs, (dose.at.endsWith('Z') ? 'Z' : dose.at.slice(-6)) as UtcOffset),
      startMs: ms,
      endMs,
    };
    if (dose.sessionId !== undefined) w.sessionId = dose.sessionId;
    return w;
  });

  const overlaps: CriticalOverlap[] = [];
  const chains: CriticalChain[] = [];
  let chainStart = 0;
  for (let i = 0; i < windows.length; i++) {
    const cur = windows[i]!;
    const next = windows[i + 1];
    if (next !== undefined && next.startMs < cur.endMs) {
      overlaps.push({ from: cur.doseNumber, to: next.doseNumber, overlapMs: cur.endMs - next.startMs });
      continue;
    }
    const first = windows[chainStart]!;
    chains.push({
      doses: windows.slice(chainStart, i + 1).map((w) => w.doseNumber),
      start: first.start,
      end: cur.end,
      durationMs: cur.endMs - first.startMs,
    });
    chainStart = i + 1;
  }

  let longestChain: CriticalChain | null = null;
  for (const c of chains)
    if (longestChain === null || c.doses.length > longestChain.doses.length) longestChain = c;

  const firstWindow = windows[0];
  const lastWindow = windows[windows.length - 1];
  let coverage: CriticalCoverage | null = null;
  const gaps: CriticalGap[] = [];
  if (firstWindow !== undefined && lastWindow !== undefined) {
    const spanStartMs = firstWindow.startMs;
    const spanEndMs = untilMs ?? lastWindow.endMs;
    const spanEnd = options.until ?? lastWindow.end;
    if (spanEndMs > spanStartMs) {
      // Union of windows as segments; abutting windows merge, so no zero-length gap is ever produced.
      let coveredMs = 0;
      let i = 0;
      while (i < windows.length && windows[i]!.startMs < spanEndMs) {
        let last = windows[i]!;
        let j = i + 1;
        while (j < windows.length && windows[j]!.startMs <= last.endMs) {
          last = windows[j]!;
          j++;
        }
        const segStart = windows[i]!.startMs;
        const segEnd = Math.min(last.endMs, spanEndMs);
        coveredMs += segEnd - segStart;
        if (segEnd < spanEndMs) {
          const next = windows[j];
          const gapEndsAtDose = next !== undefined && next.startMs < spanEndMs;
          const gapEndMs = gapEndsAtDose ? next.startMs : spanEndMs;
          gaps.push({
            start: last.end,
            end: gapEndsAtDose ? next.start : spanEnd,
            durationMs: gapEndMs - segEnd,
            afterDose: last.doseNumber,
          });
        }
        i = j;
      }
      const spanMs = spanEndMs - spanStartMs;
      coverage = {
        spanStart: firstWindow.start,
        spanEnd,
        spanMs,
        coveredMs,
        fraction: coveredMs / spanMs,
      };
    }
  }

  const nextDoseDeadline: NextDoseDeadline | null =
    lastWindow === undefined
      ? null
      : {
          before: lastWindow.end,
          beforeMs: lastWindow.endMs,
          latestDay: formatInOffset(lastWindow.endMs - 1, offsetOf(lastWindow.start)).slice(0, 10),
        };

  return { windowMs, windows, overlaps, chains, longestChain, coverage, gaps, nextDoseDeadline };
}

/** Number of windows whose start is at or before `ms` (windows are sorted by start). */
function countStartedBy(windows: readonly CriticalWindow[], ms: number): number {
  let lo = 0;
  let hi = windows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (windows[mid]!.startMs <= ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Where an instant (e.g. an assessment) falls: the windows containing it (half-open, so a window's end is
 * outside it), how many doses came at or before it, and the elapsed days since the last of them.
 *
 * @example
 * ```ts
 * const a = analyzeCriticalPeriods([{ at: '2026-03-01T09:00:00Z' }, { at: '2026-03-08T09:00:00Z' }], {
 *   windowMs: windowMsFromDays(14),
 * });
 * locateInCriticalPeriods(a, '2026-03-10T21:00:00Z');
 * // { inside: true, windows: [1, 2], doseNumber: 2, lastDoseAt: '2026-03-08T09:00:00Z', daysSinceLastDose: 2.5 }
 * ```
 * @throws {InvalidTimestampError} when `at` is not an ISO 8601 date-time with an offset.
 */
export function locateInCriticalPeriods(
  analysis: CriticalPeriodAnalysis,
  at: string,
): CriticalPeriodLocation {
  const ms = parseAt(at, 'at', null);
  const count = countStartedBy(analysis.windows, ms);
  const inWindows: number[] = [];
  for (let i = count - 1; i >= 0; i--) {
    const w = analysis.windows[i]!;
    if (w.endMs <= ms) break; // earlier windows (same length, earlier start) end earlier still
    inWindows.push(w.doseNumber);
  }
  inWindows.reverse();
  const last = count === 0 ? undefined : analysis.windows[count - 1];
  return {
    inside: inWindows.length > 0,
    windows: inWindows,
    doseNumber: last === undefined ? null : count,
    lastDoseAt: last === undefined ? null : last.start,
    daysSinceLastDose: last === undefined ? null : (ms - last.startMs) / DAY_MS,
  };
}

/**
 * Whether a dose at `plannedAt` would fall inside the last dose's window (`last ≤ plannedAt < last + W`), so
 * that the current chain goes on unbroken. `false` when there are no doses yet (there is no chain to keep)
 * and when `plannedAt` is before the last recorded dose (it would not be the next dose).
 *
 * @example
 * ```ts
 * const a = analyzeCriticalPeriods([{ at: '2026-03-01T10:00:00Z' }], { windowMs: windowMsFromDays(14) });
 * wouldKeepChain(a, '2026-03-14T10:00:00Z'); // true (day 13)
 * wouldKeepChain(a, '2026-03-15T10:00:00Z'); // false (day 14: the window has closed)
 * ```
 * @throws {InvalidTimestampError} when `plannedAt` is not an ISO 8601 date-time with an offset.
 */
export function wouldKeepChain(analysis: CriticalPeriodAnalysis, plannedAt: string): boolean {
  const ms = parseAt(plannedAt, 'plannedAt', null);
  const last = analysis.windows[analysis.windows.length - 1];
  if (last === undefined) return false;
  return ms >= last.startMs && ms < last.endMs;
}
