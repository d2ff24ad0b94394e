/*
 * Instants of events as epoch milliseconds, exactly as `Date.parse` gives them. Deciding and folding events
 * reads each event's `at` and `recordedAt` several times, and `Date.parse` alone cost about twice a whole plain
 * fold of the log: the event schema admits only ISO 8601 date-times with seconds and a UTC offset
 * (`YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM)`), which {@link parseInstant} reads digit by digit.
 */

const DAY_MS = 86_400_000;

/** The value of the `count` decimal digits of `s` at `at`, or -1 when any is not a digit. */
function digits(s: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

function isLeapYear(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days from 1970-01-01 to a proleptic Gregorian date (any year; H. Hinnant, "chrono-compatible date algorithms"). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/**
 * `Date.parse(iso)`, the same number for every string: a date-time in the event schema's form
 * (`2026-03-02T10:00:00-05:00`, `…:00.5Z`; a fraction beyond milliseconds is cut, as `Date.parse` does) is read
 * here; anything else (another form, a date that is not in the calendar, an hour 24) goes to `Date.parse`.
 * Tests compare it with `Date.parse` on generated instants (offsets, fractions, leap days, invalid dates).
 */
export function parseInstant(iso: string): number {
  // Not a string (an event sent to the machine without `recordedAt`): whatever `Date.parse` makes of it (NaN).
  if (typeof iso !== 'string') return Date.parse(iso);
  const n = iso.length;
  if (
    n < 20 ||
    iso.charCodeAt(4) !== 45 || // -
    iso.charCodeAt(7) !== 45 ||
    iso.charCodeAt(10) !== 84 || // T
    iso.charCodeAt(13) !== 58 || // :
    iso.charCodeAt(16) !== 58
  ) {
    return Date.parse(iso);
  }
  const y = digits(iso, 0, 4);
  const mo = digits(iso, 5, 2);
  const d = digits(iso, 8, 2);
  const h = digits(iso, 11, 2);
  const mi = digits(iso, 14, 2);
  const s = digits(iso, 17, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59) {
    return Date.parse(iso);
  }
  if (d > (mo === 2 && isLeapYear(y) ? 29 : MONTH_DAYS[mo - 1]!)) return Date.parse(iso);
  let i = 19;
  let ms = 0;
  if (iso.charCodeAt(i) === 46) {
    // .fff…: the first three digits are the milliseconds, the rest is cut.
    i++;
    const start = i;
    for (; i < n; i++) {
      const digit = iso.charCodeAt(i) - 48;
      if (digit < 0 || digit > 9) break;
      const place = i - start;
      if (place < 3) ms += digit * (place === 0 ? 100 : place === 1 ? 10 : 1);
    }
    if (i === start) return Date.parse(iso);
  }
  let offsetMinutes: number;
  const sign = iso.charCodeAt(i);
  if (sign === 90 && i === n - 1) {
    offsetMinutes = 0; // Z
  } else if ((sign === 43 || sign === 45) && i === n - 6 && iso.charCodeAt(i + 3) === 58) {
    const oh = digits(iso, i + 1, 2);
    const om = digits(iso, i + 4, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return Date.parse(iso);
    offsetMinutes = (sign === 45 ? -1 : 1) * (oh * 60 + om);
  } else {
    return Date.parse(iso);
  }
  return (
    daysFromCivil(y, mo, d) * DAY_MS + h * 3_600_000 + mi * 60_000 + s * 1000 + ms - offsetMinutes * 60_000
  );
}

/** Epoch ms of `x.recordedAt` (as `Date.parse` gives it, NaN included). */
export function recordedAtMs(x: { readonly recordedAt: string }): number {
  // Rules that ask "was this known when the new event was recorded" read the instants of the whole history at
  // every dose: read here (a few dozen nanoseconds) rather than remembered per object in a weak table.
  return parseInstant(x.recordedAt);
}

// The two instants parsed last. Deciding an event reads its `at` (and `recordedAt`) in several places (the
// envelope, the late-entry test, the fold, the rules); this parses each once per event.
let slotA = '';
let msA = Number.NaN;
let slotB = '';
let msB = Number.NaN;

/** `Date.parse(iso)`, remembering the last two instants asked. */
export function instantMs(iso: string): number {
  if (iso === slotA) return msA;
  if (iso === slotB) return msB;
  const ms = parseInstant(iso);
  slotB = slotA;
  msB = msA;
  slotA = iso;
  msA = ms;
  return ms;
}
