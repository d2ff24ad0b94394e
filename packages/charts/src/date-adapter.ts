import type { TimeUnit } from 'chart.js';
import { _adapters } from 'chart.js';
import {
  addDays,
  addHours,
  addMilliseconds,
  addMinutes,
  addMonths,
  addQuarters,
  addSeconds,
  addWeeks,
  addYears,
  differenceInDays,
  differenceInHours,
  differenceInMilliseconds,
  differenceInMinutes,
  differenceInMonths,
  differenceInQuarters,
  differenceInSeconds,
  differenceInWeeks,
  differenceInYears,
  endOfDay,
  endOfHour,
  endOfMinute,
  endOfMonth,
  endOfQuarter,
  endOfSecond,
  endOfWeek,
  endOfYear,
  format,
  isValid,
  parse,
  parseISO,
  startOfDay,
  startOfHour,
  startOfMinute,
  startOfMonth,
  startOfQuarter,
  startOfSecond,
  startOfWeek,
  startOfYear,
  toDate,
} from 'date-fns';

/**
 * chart.js's date adapter on date-fns, for server rendering: the same behaviour and default formats as
 * `chartjs-adapter-date-fns` 3. That package cannot be loaded from CommonJS: its `require` entry is a UMD
 * file inside a `"type": "module"` package, so Node loads it as ES module, where it finds no `Chart` and
 * throws "Cannot read properties of undefined (reading '_adapters')" (chartjs/chartjs-adapter-date-fns#66).
 * Registering the adapter here works for both builds of `@kapkit/charts/render` and binds it to the same
 * chart.js instance the renderer draws with. Browsers keep using `chartjs-adapter-date-fns`.
 */

const FORMATS: Record<TimeUnit | 'datetime', string> = {
  datetime: 'MMM d, yyyy, h:mm:ss aaaa',
  millisecond: 'h:mm:ss.SSS aaaa',
  second: 'h:mm:ss aaaa',
  minute: 'h:mm aaaa',
  hour: 'ha',
  day: 'MMM d',
  week: 'PP',
  month: 'MMM yyyy',
  quarter: 'qqq - yyyy',
  year: 'yyyy',
};

const ADD: Record<TimeUnit, (d: number, n: number) => Date> = {
  millisecond: addMilliseconds,
  second: addSeconds,
  minute: addMinutes,
  hour: addHours,
  day: addDays,
  week: addWeeks,
  month: addMonths,
  quarter: addQuarters,
  year: addYears,
};

const DIFF: Record<TimeUnit, (a: number, b: number) => number> = {
  millisecond: differenceInMilliseconds,
  second: differenceInSeconds,
  minute: differenceInMinutes,
  hour: differenceInHours,
  day: differenceInDays,
  week: differenceInWeeks,
  month: differenceInMonths,
  quarter: differenceInQuarters,
  year: differenceInYears,
};

const START: Partial<Record<TimeUnit, (d: number) => Date>> = {
  second: startOfSecond,
  minute: startOfMinute,
  hour: startOfHour,
  day: startOfDay,
  week: startOfWeek,
  month: startOfMonth,
  quarter: startOfQuarter,
  year: startOfYear,
};

const END: Partial<Record<TimeUnit, (d: number) => Date>> = {
  second: endOfSecond,
  minute: endOfMinute,
  hour: endOfHour,
  day: endOfDay,
  week: endOfWeek,
  month: endOfMonth,
  quarter: endOfQuarter,
  year: endOfYear,
};

let done = false;

/** Register the date-fns date adapter with the chart.js instance this module imports (once). */
export function registerDateAdapter(): void {
  if (done) return;
  done = true;
  _adapters._date.override({
    formats: () => FORMATS,
    parse(value: unknown, fmt?: string): number | null {
      if (value === null || value === undefined) return null;
      let date: Date;
      if (typeof value === 'number' || value instanceof Date) date = toDate(value);
      else if (typeof value === 'string')
        date = typeof fmt === 'string' ? parse(value, fmt, new Date()) : parseISO(value);
      else return null;
      return isValid(date) ? date.getTime() : null;
    },
    format: (time: number, fmt: string) => format(time, fmt),
    add: (time: number, amount: number, unit: TimeUnit) => ADD[unit]?.(time, amount).getTime() ?? time,
    diff: (max: number, min: number, unit: TimeUnit) => DIFF[unit]?.(max, min) ?? 0,
    startOf(time: number, unit: TimeUnit | 'isoWeek', weekday?: number | boolean): number {
      if (unit === 'isoWeek')
        return startOfWeek(time, { weekStartsOn: Number(weekday) as 0 | 1 | 2 | 3 | 4 | 5 | 6 }).getTime();
      return START[unit]?.(time).getTime() ?? time;
    },
    endOf: (time: number, unit: TimeUnit) => END[unit]?.(time).getTime() ?? time,
  });
}
