import { contraindicationCodes, defaultPolicy, type MedicationClass } from '@kapkit/core/vocabularies';
import type { SessionMode } from './episode-log.js';
import type { Random } from './random.js';

/** How a patient's scores on one outcome measure (PHQ-9 or GAD-7) start and move over the course. */
interface MeasureTraits {
  /** The baseline total. */
  readonly baseline: number;
  /** Largest fractional improvement the patient reaches (negative: worsens). */
  readonly gain: number;
  /** Relative weight of each item when a total is spread over the items (PHQ-9: items 1–8, item 9 apart). */
  readonly weights: readonly number[];
}

/** Per-patient traits that shape the course. */
export interface Profile {
  readonly mode: SessionMode;
  readonly phq: MeasureTraits;
  readonly gad: MeasureTraits;
  /** Share of the remaining gain each dose brings. */
  readonly ratePerDose: number;
  readonly noiseSd: number;
  /** Chance that PHQ-9 item 9 is positive at baseline severity. */
  readonly item9Chance: number;
  readonly systolic: number;
  readonly diastolic: number;
  readonly heartRate: number;
  readonly plannedSessions: number;
  readonly doseMg: number;
  /** Chance that the gap to the next dosing session is 15–30 days (the chain of critical periods breaks). */
  readonly longGapChance: number;
  readonly boosterChance: number;
  readonly halfFirstDose: boolean;
}

export const phqItems = 9;
const gadItems = 7;
/** A synthetic patient found ineligible has one or two of the default policy's absolute contraindications. */
export const contraindicated = contraindicationCodes.filter((c) =>
  defaultPolicy.absoluteContraindications.includes(c),
);
export const considerations = [
  'prior-ketamine-use',
  'hyperthyroidism',
  'liver-disease',
  'cystitis',
  'pregnancy',
] as const;
export const overrideReasons = [
  'White-coat pattern; home readings this week below 135/85; proceed with monitoring.',
  'Repeat reading within 5 mmHg of threshold, asymptomatic; cleared by medical team.',
  'Known anxiety-related rise before sessions; prior sessions uneventful; proceed.',
] as const;

/** Concurrent medications of a synthetic patient (prevalences are illustrative, not clinical data). */
export function demoMedications(rng: Random) {
  const meds: { name: string; class: MedicationClass; dailyDose?: number; unit?: 'mg' }[] = [];
  if (rng.chance(0.45)) {
    const [name, dose] = rng.pick([
      ['sertraline', 100],
      ['escitalopram', 10],
      ['bupropion', 300],
      ['venlafaxine', 150],
    ] as const);
    meds.push({
      name,
      class: name === 'bupropion' ? 'cyp-inhibitor' : 'antidepressant',
      dailyDose: dose,
      unit: 'mg',
    });
  }
  if (rng.chance(0.18)) {
    const [name, doses] = rng.pick([
      ['lorazepam', [0.5, 1, 2]],
      ['clonazepam', [0.25, 0.5, 1]],
      ['alprazolam', [0.25, 0.5, 1.5]],
    ] as const);
    meds.push({ name, class: 'benzodiazepine', dailyDose: rng.pick(doses), unit: 'mg' });
  }
  if (rng.chance(0.05)) meds.push({ name: 'lamotrigine', class: 'lamotrigine', dailyDose: 200, unit: 'mg' });
  if (rng.chance(0.06)) meds.push({ name: 'methylphenidate', class: 'stimulant', dailyDose: 20, unit: 'mg' });
  return meds;
}

/** `x` limited to `lo`–`hi`. */
export function clamp(x: number, lo: number, hi: number): number {
  return Math.min(Math.max(x, lo), hi);
}

/** `base ** k` by repeated multiplication (bit-identical on every engine, unlike Math.pow). */
export function power(base: number, k: number): number {
  let r = 1;
  for (let i = 0; i < k; i++) r *= base;
  return r;
}

/** `count` item weights, each drawn uniformly from 0.4–1.6. */
function itemWeights(rng: Random, count: number): number[] {
  return Array.from({ length: count }, () => rng.uniform(0.4, 1.6));
}

/** A patient's traits, drawn from `rng`. */
export function makeProfile(rng: Random): Profile {
  const baselinePhq = Math.round(clamp(rng.normal(16.5, 4), 8, 26));
  const baselineGad = Math.round(clamp(baselinePhq * 0.7 + rng.normal(1.5, 2.5), 4, 21));
  const response = rng.weighted([
    ['strong', 42],
    ['moderate', 33],
    ['none', 25],
  ] as const);
  const phqGain =
    response === 'strong'
      ? rng.uniform(0.65, 0.95)
      : response === 'moderate'
        ? rng.uniform(0.4, 0.65)
        : rng.uniform(-0.12, 0.2);
  const hypertensive = rng.chance(0.12);
  // The draws keep their order (same seed, same cohort): mode, GAD-7 gain, rate, noise, item 9, the weights.
  const mode = rng.chance(0.4) ? 'telehealth' : 'in-person';
  const gadGain = clamp(phqGain + rng.uniform(-0.12, 0.12), -0.15, 0.9);
  const ratePerDose = rng.uniform(0.3, 0.7);
  const noiseSd = rng.uniform(1, 2.2);
  const item9Chance = rng.chance(0.22) ? rng.uniform(0.3, 0.6) : 0.01;
  return {
    mode,
    ratePerDose,
    noiseSd,
    item9Chance,
    phq: { baseline: baselinePhq, gain: phqGain, weights: itemWeights(rng, phqItems - 1) },
    gad: { baseline: baselineGad, gain: gadGain, weights: itemWeights(rng, gadItems) },
    systolic: hypertensive ? rng.normal(135, 3) : rng.normal(119, 8),
    diastolic: hypertensive ? rng.normal(86, 2) : rng.normal(77, 5),
    heartRate: Math.round(rng.normal(74, 7)),
    plannedSessions: rng.weighted([
      [4, 20],
      [5, 10],
      [6, 35],
      [7, 10],
      [8, 25],
    ] as const),
    doseMg: rng.weighted([
      [200, 20],
      [250, 20],
      [300, 30],
      [350, 15],
      [400, 15],
    ] as const),
    longGapChance: rng.weighted([
      [0, 55],
      [0.12, 30],
      [0.4, 15],
    ] as const),
    boosterChance: rng.chance(0.3) ? rng.uniform(0.25, 0.6) : 0,
    halfFirstDose: rng.chance(0.1),
  };
}

/** Add `total` points to items (each 0–3), item by item, with the patient's item weights. */
function distribute(rng: Random, total: number, weights: readonly number[], into: number[], offset: number) {
  let left = total;
  while (left > 0) {
    let sum = 0;
    for (let i = 0; i < weights.length; i++) if (into[offset + i]! < 3) sum += weights[i]!;
    let x = rng.next() * sum;
    let chosen = -1;
    for (let i = 0; i < weights.length; i++) {
      if (into[offset + i]! >= 3) continue;
      chosen = i;
      x -= weights[i]!;
      if (x < 0) break;
    }
    into[offset + chosen]!++;
    left--;
  }
}

/** Item responses of a PHQ-9 whose total is `total` (0–27); item 9 positive with probability `item9Chance`. */
export function phq9Responses(rng: Random, total: number, item9Chance: number, weights: readonly number[]) {
  const items = new Array<number>(phqItems).fill(0);
  let item9 = 0;
  if (total > 0 && rng.chance(item9Chance)) {
    item9 = Math.min(
      total,
      rng.weighted([
        [1, 80],
        [2, 17],
        [3, 3],
      ] as const),
    );
  }
  const maxRest = (phqItems - 1) * 3;
  if (total - item9 > maxRest) item9 = total - maxRest;
  items[phqItems - 1] = item9;
  distribute(rng, total - item9, weights, items, 0);
  return items;
}

/** Item responses of a GAD-7 whose total is `total` (0–21). */
export function gad7Responses(rng: Random, total: number, weights: readonly number[]) {
  const items = new Array<number>(gadItems).fill(0);
  distribute(rng, total, weights, items, 0);
  return items;
}

/** The Q10-style difficulty answer (0–3) that goes with a total. */
export function difficultyOf(rng: Random, total: number, max: number): number {
  const level = Math.floor((total / max) * 4 + rng.uniform(-0.5, 0.5));
  return clamp(level, 0, 3);
}
