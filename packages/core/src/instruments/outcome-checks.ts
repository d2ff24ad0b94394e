import type { ValidationIssue } from '../errors.js';
import type { InstrumentDefinition } from './definition.js';

/**
 * Checks of an instrument's outcome definitions (`outcomes`: response, remission, reliable change) and
 * reliable-change constants (`change`), run by `defineInstrument`.
 */

/** A definition issue at `path`. */
export function issue(
  path: (string | number)[],
  expected: string,
  received: string,
  message: string,
): ValidationIssue {
  return { path, code: 'not-allowed', expected, received, message };
}

function checkSource(source: unknown, path: (string | number)[], out: ValidationIssue[]): void {
  if (typeof source !== 'string' || source.trim() === '') {
    out.push(issue(path, 'a citation', String(source), `${path.join('.')} must name its source`));
  }
}

/** A number above 0 at `path`; the message names the path (`change.norms.sd must be above 0`). */
function checkPositive(
  value: number,
  path: (string | number)[],
  expected: string,
  out: ValidationIssue[],
): void {
  if (!(value > 0)) out.push(issue(path, expected, String(value), `${path.join('.')} must be above 0`));
}

/**
 * `what` (`a reliability coefficient`) at `path`, strictly between 0 and 1; the message names the path
 * (`change.reliability.value must be between 0 and 1`).
 */
function checkBetweenZeroAndOne(
  value: number,
  path: (string | number)[],
  what: string,
  out: ValidationIssue[],
): void {
  if (!(value > 0 && value < 1)) {
    const expected = `${what} between 0 and 1 (exclusive)`;
    out.push(issue(path, expected, String(value), `${path.join('.')} must be between 0 and 1`));
  }
}

/** An outcome (`what` it is) that only a measure whose higher total is worse may define. */
function wrongDirection(
  d: InstrumentDefinition,
  outcome: 'response' | 'remission',
  what: string,
  out: ValidationIssue[],
): void {
  out.push(
    issue(
      ['outcomes', outcome],
      "direction 'higher-is-worse'",
      d.direction,
      `outcomes.${outcome} (${what}) is defined for measures where a higher total is worse`,
    ),
  );
}

/** Reliable-change constants: 0 < r < 1, positive fixed points and norms SD, each with its source. */
export function checkChange(d: InstrumentDefinition, out: ValidationIssue[]): void {
  const c = d.change;
  if (c === undefined) return;
  if (c.reliability) {
    checkBetweenZeroAndOne(
      c.reliability.value,
      ['change', 'reliability', 'value'],
      'a reliability coefficient',
      out,
    );
    checkSource(c.reliability.source, ['change', 'reliability', 'source'], out);
  }
  if (c.fixedPoints) {
    const path = ['change', 'fixedPoints', 'value'];
    checkPositive(c.fixedPoints.value, path, 'a positive number of points', out);
    checkSource(c.fixedPoints.source, ['change', 'fixedPoints', 'source'], out);
  }
  if (c.norms) {
    checkPositive(c.norms.sd, ['change', 'norms', 'sd'], 'a positive SD', out);
    checkSource(c.norms.source, ['change', 'norms', 'source'], out);
  }
}

/**
 * Response, remission and reliable change: each one consistent with the direction, the range and the
 * reliable-change constants, and sourced.
 */
export function checkOutcomes(d: InstrumentDefinition, out: ValidationIssue[]): void {
  const o = d.outcomes;
  if (o === undefined) return;
  const worse = d.direction === 'higher-is-worse';
  if (o.response) {
    const f = o.response.fraction;
    if (!worse) wrongDirection(d, 'response', 'a fraction of baseline', out);
    else checkBetweenZeroAndOne(f, ['outcomes', 'response', 'fraction'], 'a fraction of the baseline', out);
    checkSource(o.response.source, ['outcomes', 'response', 'source'], out);
  }
  if (o.remission) {
    const below = o.remission.below;
    if (!worse) {
      wrongDirection(d, 'remission', 'a total below a threshold', out);
    } else if (!(below > d.range.min && below <= d.range.max)) {
      out.push(
        issue(
          ['outcomes', 'remission', 'below'],
          `a threshold above ${d.range.min} and at most ${d.range.max} (the range of the total)`,
          String(below),
          'outcomes.remission.below must lie inside the range of the total',
        ),
      );
    }
    checkSource(o.remission.source, ['outcomes', 'remission', 'source'], out);
  }
  if (o.reliableChange) {
    const path = ['outcomes', 'reliableChange', 'critical'];
    checkPositive(
      o.reliableChange.critical,
      path,
      'a positive critical value (1.96 in Jacobson & Truax 1991)',
      out,
    );
    if (d.change?.reliability === undefined) {
      out.push(
        issue(
          ['outcomes', 'reliableChange'],
          'change.reliability (the r of Sdiff = √2 · s1 · √(1 − r))',
          'no change.reliability',
          'outcomes.reliableChange needs change.reliability',
        ),
      );
    }
    checkSource(o.reliableChange.source, ['outcomes', 'reliableChange', 'source'], out);
  }
}
