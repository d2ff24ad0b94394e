import type { Queryable } from './db.js';
import type { StoreMeta, Tables } from './schema.js';

/**
 * How the store tells missing events from an empty stretch. Every append takes its positions from
 * `kapkit_meta.last_position` in its own transaction, under the store-wide append lock, and adds its events
 * to `kapkit_meta.event_count`: so positions after `dense_from` are contiguous, and the meta row (another
 * table, another file) is an independent record of how many events were committed and up to which position.
 * A reader that finds a gap, or fewer events than recorded, has found damage.
 */

/**
 * The cheap check run when a PGlite store opens (one pass over the events table, no event is parsed): the
 * events table holds as many events as were committed, up to the last position handed out, with no gap
 * after `dense_from`. Returns the problems found (empty when none). One statement, so it sees one snapshot
 * even while other processes append.
 */
export async function quickCheck(q: Queryable, t: Tables): Promise<string[]> {
  const rows = await q.query<{
    event_count: unknown;
    last_position: unknown;
    dense_from: unknown;
    n: unknown;
    dense: unknown;
    maxp: unknown;
  }>(
    // count(payload), not count(*): the payload column must be read from the table itself, so the count
    // cannot be answered from an index that still lists rows whose table pages are gone.
    `SELECT m.event_count, m.last_position, m.dense_from, s.n, s.dense, s.maxp
     FROM ${t.meta} m CROSS JOIN LATERAL (
       SELECT count(e.payload) AS n, count(e.payload) FILTER (WHERE e.position > m.dense_from) AS dense,
         max(e.position) AS maxp
       FROM ${t.events} e) s`,
  );
  const row = rows[0];
  if (!row) return ['the kapkit_meta row, which records how many events were committed, is missing'];
  const recorded = Number(row.event_count);
  const last = Number(row.last_position);
  const denseFrom = Number(row.dense_from);
  const n = Number(row.n);
  const maxp = row.maxp === null ? 0 : Number(row.maxp);
  const problems: string[] = [];
  if (n !== recorded) {
    problems.push(`the events table holds ${n} events, the store recorded committing ${recorded}`);
  }
  if (maxp !== last) {
    problems.push(`the highest position in the events table is ${maxp}, the store recorded ${last}`);
  }
  if (Number(row.dense) !== last - denseFrom) {
    problems.push(
      `positions ${denseFrom + 1}..${last} should be contiguous, the events table holds ${Number(row.dense)} of those ${last - denseFrom}`,
    );
  }
  return problems;
}

/**
 * Checks positions as a reader pages through the events table in position order (`streamAll`, backups, the
 * full check): after `dense_from` every position must follow the previous one, the stream must reach the
 * last position the store had recorded when the reader started, and a reader from the start must see every
 * older event too.
 */
export class PositionCheck {
  readonly #meta: StoreMeta;
  readonly #fromPosition: number;
  #next: number;
  #legacySeen = 0;

  constructor(meta: StoreMeta, fromPosition: number) {
    this.#meta = meta;
    this.#fromPosition = fromPosition;
    this.#next = Math.max(fromPosition, meta.denseFrom) + 1;
  }

  /** The next position read; returns a problem, or null when it is where it should be. */
  see(position: number): string | null {
    if (position <= this.#meta.denseFrom) {
      this.#legacySeen++;
      return null;
    }
    const expected = this.#next;
    this.#next = position + 1;
    if (position === expected) return null;
    return position > expected
      ? `position${position - expected > 1 ? `s ${expected}..${position - 1} are` : ` ${expected} is`} missing`
      : `position ${position} came after ${expected - 1}`;
  }

  /** At the end of the stream: the problem of events missing at the end (or, from the start, before dense_from). */
  finish(): string | null {
    const reached = this.#next - 1;
    if (reached < this.#meta.lastPosition) {
      return `the events stop at position ${reached}, the store recorded committing up to ${this.#meta.lastPosition}`;
    }
    if (this.#fromPosition === 0) {
      const legacy = this.#meta.eventCount - (this.#meta.lastPosition - this.#meta.denseFrom);
      if (this.#legacySeen !== legacy) {
        return `${this.#legacySeen} events up to position ${this.#meta.denseFrom}, the store recorded ${legacy}`;
      }
    }
    return null;
  }
}
