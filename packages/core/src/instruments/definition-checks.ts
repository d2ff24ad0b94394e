import type { ValidationIssue } from '../errors.js';
import type { InstrumentDefinition, ResponseScale, ScoreDefinition, ScoringRule } from './definition.js';
import { checkChange, checkOutcomes, issue } from './outcome-checks.js';

/**
 * The checks `defineInstrument` runs, one named validator per part of a definition. Each appends the issues
 * it finds to `out`, so that one error names every inconsistency at once.
 */

type Path = (string | number)[];

function checkScale(scale: ResponseScale, path: Path, out: ValidationIssue[]): void {
  if (!Number.isInteger(scale.min) || !Number.isInteger(scale.max) || scale.min > scale.max) {
    out.push(
      issue(
        path,
        'integer min ≤ max',
        `${scale.min}..${scale.max}`,
        `${path.join('.')}: scale must be integers min ≤ max`,
      ),
    );
    return;
  }
  if (scale.options) {
    const expected = scale.max - scale.min + 1;
    const values = scale.options.map((o) => o.value);
    const sorted = [...values].sort((a, b) => a - b);
    if (sorted.length !== expected || sorted.some((v, i) => v !== scale.min + i)) {
      out.push(
        issue(
          [...path, 'options'],
          `one option per integer ${scale.min}..${scale.max}`,
          values.join(','),
          `${path.join('.')}.options must list each value ${scale.min}..${scale.max} once`,
        ),
      );
    }
  }
}

function checkItemRefs(items: readonly number[], count: number, path: Path, out: ValidationIssue[]): void {
  for (const n of items) {
    if (!Number.isInteger(n) || n < 1 || n > count) {
      out.push(
        issue(
          path,
          `item numbers 1..${count}`,
          String(n),
          `${path.join('.')} refers to item ${n}, which does not exist`,
        ),
      );
    }
  }
}

/**
 * Scoring groups refer to existing items and cover `items` (1-based, sorted) once each. Returns the issue
 * for a wrong cover, for the caller to word; null when the groups cover the items.
 */
function groupsCover(
  groups: NonNullable<ScoringRule['groups']>,
  items: readonly number[],
  itemCount: number,
  path: Path,
  out: ValidationIssue[],
): string | null {
  for (const [g, group] of groups.entries()) checkItemRefs(group.items, itemCount, [...path, g], out);
  const covered = groups.flatMap((g) => g.items).sort((a, b) => a - b);
  if (covered.length === items.length && covered.every((n, k) => n === items[k])) return null;
  return covered.join(',');
}

/** Records `id` in `seen`, with an issue at `path` when it was there already. */
function unique(
  seen: Set<string>,
  id: string,
  path: Path,
  expected: string,
  message: string,
  out: ValidationIssue[],
): void {
  if (seen.has(id)) out.push(issue(path, expected, id, message));
  seen.add(id);
}

/** A missing rule leaves at least one answered unit (item, or group of items). */
function checkMaxMissing(
  maxMissing: number,
  units: number,
  path: Path,
  message: string,
  out: ValidationIssue[],
): void {
  if (!Number.isInteger(maxMissing) || maxMissing < 0 || maxMissing >= units) {
    out.push(issue(path, `an integer 0..${units - 1}`, String(maxMissing), message));
  }
}

/** The id is a FHIR-safe lowercase name; there is at least one item; the default scale is sound. */
function checkIdentity(d: InstrumentDefinition, out: ValidationIssue[]): void {
  if (!/^[a-z][a-z0-9]*$/.test(d.id)) {
    out.push(
      issue(
        ['id'],
        'lowercase letters and digits, starting with a letter',
        d.id,
        `id "${d.id}" must match /^[a-z][a-z0-9]*$/`,
      ),
    );
  }
  if (d.id.length > 64) {
    out.push(
      issue(['id'], 'at most 64 characters (FHIR id limit)', `${d.id.length} characters`, 'id is too long'),
    );
  }
  if (d.items.length === 0) out.push(issue(['items'], 'at least one item', '0', 'items must not be empty'));
  checkScale(d.scale, ['scale'], out);
}

/**
 * Item and supplementary-question ids are unique, their scales sound, and no item carries text the licence
 * does not let kapkit ship.
 */
function checkItems(d: InstrumentDefinition, out: ValidationIssue[]): void {
  const ids = new Set<string>();
  d.items.forEach((item, i) => {
    unique(ids, item.id, ['items', i, 'id'], 'unique item ids', `duplicate item id "${item.id}"`, out);
    if (item.scale) checkScale(item.scale, ['items', i, 'scale'], out);
    if (d.licence.itemTextIncluded === false && item.text !== undefined) {
      out.push(
        issue(
          ['items', i, 'text'],
          'no item text when licence.itemTextIncluded is false',
          'text',
          `item ${i + 1} has text but the licence says item text is not included`,
        ),
      );
    }
  });
  d.supplementary?.forEach((q, i) => {
    const expected = 'an id not used by an item or another question';
    unique(ids, q.id, ['supplementary', i, 'id'], expected, `duplicate id "${q.id}"`, out);
    checkScale(q.scale, ['supplementary', i, 'scale'], out);
  });
}

/** The total's scoring groups cover every item once, its missing rule leaves a unit, its range is ordered. */
function checkTotal(d: InstrumentDefinition, out: ValidationIssue[]): void {
  const count = d.items.length;
  if (d.scoring.groups) {
    const all = d.items.map((_, i) => i + 1);
    const covered = groupsCover(d.scoring.groups, all, count, ['scoring', 'groups'], out);
    if (covered !== null) {
      out.push(
        issue(
          ['scoring', 'groups'],
          'each item in exactly one group',
          covered,
          'scoring groups must cover each item once',
        ),
      );
    }
  }
  const units = d.scoring.groups ? d.scoring.groups.length : count;
  checkMaxMissing(
    d.missing.maxMissing,
    units,
    ['missing', 'maxMissing'],
    'missing.maxMissing must leave at least one answered unit',
    out,
  );
  if (d.range.min > d.range.max)
    out.push(issue(['range'], 'min ≤ max', `${d.range.min}..${d.range.max}`, 'range is inverted'));
}

/** One extra score: its items exist, its groups cover them once, its missing rule leaves a unit. */
function checkScore(s: ScoreDefinition, i: number, itemCount: number, out: ValidationIssue[]): void {
  checkItemRefs(s.items, itemCount, ['scores', i, 'items'], out);
  if (s.scoring.groups) {
    const items = [...s.items].sort((a, b) => a - b);
    const path = ['scores', i, 'scoring', 'groups'];
    const covered = groupsCover(s.scoring.groups, items, itemCount, path, out);
    if (covered !== null) {
      out.push(
        issue(
          path,
          `groups covering exactly items ${items.join(',')}`,
          covered,
          `score "${s.id}": scoring groups must cover its items once each`,
        ),
      );
    }
  }
  checkMaxMissing(
    s.missing?.maxMissing ?? 0,
    s.scoring.groups ? s.scoring.groups.length : s.items.length,
    ['scores', i, 'missing', 'maxMissing'],
    `score "${s.id}": missing.maxMissing must leave at least one answered unit`,
    out,
  );
}

/** Extra scores have unique ids (not `total`) and are each sound. */
function checkScores(d: InstrumentDefinition, out: ValidationIssue[]): void {
  const scoreIds = new Set<string>(['total']);
  d.scores?.forEach((s, i) => {
    unique(scoreIds, s.id, ['scores', i, 'id'], 'unique score ids', `duplicate score id "${s.id}"`, out);
    checkScore(s, i, d.items.length, out);
  });
}

/** Bands start at range.min, end at range.max, rise and do not overlap. */
function checkBands(d: InstrumentDefinition, out: ValidationIssue[]): void {
  const bands = d.bands;
  if (!bands) return;
  bands.forEach((b, i) => {
    const prev = bands[i - 1];
    if (i === 0 && b.min !== d.range.min) {
      out.push(
        issue(
          ['bands', 0, 'min'],
          String(d.range.min),
          String(b.min),
          'the first band must start at range.min',
        ),
      );
    }
    if (prev && b.min <= prev.min) {
      out.push(
        issue(
          ['bands', i, 'min'],
          `> ${prev.min}`,
          String(b.min),
          'bands must be in increasing order of min',
        ),
      );
    }
    if (b.max < b.min)
      out.push(issue(['bands', i, 'max'], `≥ ${b.min}`, String(b.max), `band "${b.id}" has max < min`));
    const next = bands[i + 1];
    if (next && b.max >= next.min) {
      out.push(
        issue(
          ['bands', i, 'max'],
          `< ${next.min}`,
          String(b.max),
          `band "${b.id}" overlaps band "${next.id}"`,
        ),
      );
    }
  });
  const last = bands[bands.length - 1];
  if (last && last.max !== d.range.max) {
    out.push(issue(['bands'], String(d.range.max), String(last.max), 'the last band must end at range.max'));
  }
}

/** Cutoff ids are unique (composite cutoffs included), cutoffs name a known score, composite cutoffs name known cutoffs. */
function checkCutoffs(d: InstrumentDefinition, out: ValidationIssue[]): void {
  const scoreIds = new Set<string>(['total', ...(d.scores ?? []).map((s) => s.id)]);
  const cutoffIds = new Set<string>();
  d.cutoffs?.forEach((c, i) => {
    unique(cutoffIds, c.id, ['cutoffs', i, 'id'], 'unique cutoff ids', `duplicate cutoff id "${c.id}"`, out);
    if (!scoreIds.has(c.score)) {
      out.push(
        issue(
          ['cutoffs', i, 'score'],
          [...scoreIds].join(' | '),
          c.score,
          `cutoff "${c.id}" refers to unknown score "${c.score}"`,
        ),
      );
    }
  });
  const compositeIds = new Set<string>();
  d.compositeCutoffs?.forEach((c, i) => {
    if (cutoffIds.has(c.id) || compositeIds.has(c.id)) {
      const message = `duplicate cutoff id "${c.id}"`;
      out.push(issue(['compositeCutoffs', i, 'id'], 'an id not used by another cutoff', c.id, message));
    }
    compositeIds.add(c.id);
    for (const ref of c.allOf) {
      if (!cutoffIds.has(ref)) {
        out.push(
          issue(
            ['compositeCutoffs', i, 'allOf'],
            'ids of cutoffs',
            ref,
            `composite cutoff "${c.id}" refers to unknown cutoff "${ref}"`,
          ),
        );
      }
    }
  });
}

/** Safety rules name an existing item. */
function checkSafety(d: InstrumentDefinition, out: ValidationIssue[]): void {
  d.safety?.forEach((r, i) => {
    checkItemRefs([r.item], d.items.length, ['safety', i, 'item'], out);
  });
}

/** Every check of a definition, in the order its issues are reported. */
export const definitionChecks: readonly ((d: InstrumentDefinition, out: ValidationIssue[]) => void)[] = [
  checkIdentity,
  checkItems,
  checkTotal,
  checkScores,
  checkBands,
  checkCutoffs,
  checkSafety,
  checkChange,
  checkOutcomes,
];
