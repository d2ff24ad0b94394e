/**
 * Local wall-clock time for synthetic patients in a few US time zones, written as ISO 8601 with the UTC
 * offset in force on that local date (US daylight saving rules since 2007: from the second Sunday of March
 * to the first Sunday of November). Demo events happen between 07:00 and 22:00, so the rule is applied per
 * calendar date; the 02:00 switch-over hour is never used.
 */

import { DAY_MS } from '@kapkit/core/time';

export const MINUTE_MS = 60_000;

export interface DemoZone {
  /** IANA name, for documentation only: kapkit stores offsets, not zones. */
  readonly name: string;
  /** Standard-time offset from UTC in minutes (negative west of Greenwich). */
  readonly standardMinutes: number;
  readonly daylightSaving: boolean;
}

/** The zones demo patients live in, with their share of patients. */
export const demoZones: readonly (readonly [DemoZone, number])[] = [
  [{ name: 'America/New_York', standardMinutes: -300, daylightSaving: true }, 35],
  [{ name: 'America/Chicago', standardMinutes: -360, daylightSaving: true }, 25],
  [{ name: 'America/Denver', standardMinutes: -420, daylightSaving: true }, 10],
  [{ name: 'America/Phoenix', standardMinutes: -420, daylightSaving: false }, 5],
  [{ name: 'America/Los_Angeles', standardMinutes: -480, daylightSaving: true }, 25],
];

/** Days since 1970-01-01 of a `YYYY-MM-DD` calendar date. */
export function dayNumberOf(date: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) throw new RangeError(`expected a date YYYY-MM-DD, got "${date}"`);
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const back = new Date(ms).toISOString().slice(0, 10);
  if (back !== date) throw new RangeError(`"${date}" is not a calendar date`);
  return ms / DAY_MS;
}

/** 0 = Sunday … 6 = Saturday, for a day number. */
export function weekdayOf(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}

const dstCache = new Map<number, readonly [number, number]>();

/** First and last+1 day numbers of US daylight saving time in `year`. */
function dstRange(year: number): readonly [number, number] {
  let r = dstCache.get(year);
  if (r === undefined) {
    const march1 = Date.UTC(year, 2, 1) / DAY_MS;
    const nov1 = Date.UTC(year, 10, 1) / DAY_MS;
    const secondSundayMarch = march1 + ((7 - weekdayOf(march1)) % 7) + 7;
    const firstSundayNovember = nov1 + ((7 - weekdayOf(nov1)) % 7);
    r = [secondSundayMarch, firstSundayNovember];
    dstCache.set(year, r);
  }
  return r;
}

/** The UTC offset (minutes) in force in `zone` on local calendar day `day`. */
function offsetMinutesOn(zone: DemoZone, day: number): number {
  if (!zone.daylightSaving) return zone.standardMinutes;
  const year = new Date(day * DAY_MS).getUTCFullYear();
  const [from, to] = dstRange(year);
  return day >= from && day < to ? zone.standardMinutes + 60 : zone.standardMinutes;
}

function offsetText(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const a = Math.abs(minutes);
  return `${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

/** A patient's clock: local day + minute of day ↔ UTC instant ↔ ISO 8601 text with offset. */
export class PatientClock {
  constructor(readonly zone: DemoZone) {}

  /** The UTC instant (epoch ms) of local day `day` at `minute` minutes after midnight. */
  instant(day: number, minute: number): number {
    return day * DAY_MS + minute * MINUTE_MS - offsetMinutesOn(this.zone, day) * MINUTE_MS;
  }

  /** The local calendar day of an instant. */
  dayOf(ms: number): number {
    const standardDay = Math.floor((ms + this.zone.standardMinutes * MINUTE_MS) / DAY_MS);
    return Math.floor((ms + offsetMinutesOn(this.zone, standardDay) * MINUTE_MS) / DAY_MS);
  }

  /** ISO 8601 local date-time with the offset in force, e.g. `2026-03-02T10:00:00-05:00`. */
  format(ms: number): string {
    const offset = offsetMinutesOn(this.zone, this.dayOf(ms));
    const local = new Date(ms + offset * MINUTE_MS).toISOString().slice(0, 19);
    return `${local}${offsetText(offset)}`;
  }
}
