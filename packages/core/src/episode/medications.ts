/**
 * Concurrent medications recorded at (or after) the medical evaluation, and what kapkit checks about them.
 * kapkit records and checks; it does not prescribe: each check raises a `medication-interaction` alert for the
 * medical team, with its source.
 */

/**
 * Medication classes that matter with ketamine, each with why (shown in docs/episode.md and in alerts).
 * A medication in none of them is `other` (or `antidepressant`, kept for the outcome analyses).
 */
export const medicationClasses = {
  benzodiazepine:
    'Concomitant benzodiazepines above about 8 mg diazepam-equivalent a day were associated with a dampened antidepressant response to ketamine (Andrashko et al. 2020, Front Psychiatry 11:844).',
  lamotrigine:
    'Lamotrigine (a glutamate-release inhibitor) may reduce ketamine’s adverse, dissociative effects, and with them possibly its effect (Andrade 2017, J Clin Psychiatry 78:e858).',
  maoi: 'Ketamine raises blood pressure and heart rate; monoamine-oxidase inhibitors may add to it (Andrade 2017, J Clin Psychiatry 78:e858; kapkit reading, unverified for sublingual KAP).',
  stimulant:
    'Ketamine raises blood pressure and heart rate; stimulants (sympathomimetics) may add to it (Andrade 2017, J Clin Psychiatry 78:e858; kapkit reading, unverified for sublingual KAP).',
  'cyp-inducer':
    'Ketamine is metabolised mainly by CYP2B6 and CYP3A4: an inducer of either lowers ketamine exposure (Andrade 2017, J Clin Psychiatry 78:e858).',
  'cyp-inhibitor':
    'Ketamine is metabolised mainly by CYP2B6 and CYP3A4: an inhibitor of either raises ketamine exposure (Andrade 2017, J Clin Psychiatry 78:e858).',
  antidepressant: 'Recorded for the outcome analyses; no interaction alert.',
  other: 'Recorded; no interaction alert.',
} as const;

export type MedicationClass = keyof typeof medicationClasses;
export const medicationClassIds = Object.keys(medicationClasses) as [MedicationClass, ...MedicationClass[]];

/** Classes that raise a `medication-interaction` alert whenever they are taken (benzodiazepines: above the threshold). */
export const interactionClasses: readonly MedicationClass[] = [
  'lamotrigine',
  'maoi',
  'stimulant',
  'cyp-inducer',
  'cyp-inhibitor',
];

/** Units a daily dose may be recorded in. */
export const doseUnits = ['mg', 'mcg', 'g'] as const;
export type DoseUnit = (typeof doseUnits)[number];

/**
 * Oral doses (mg) approximately equivalent to 10 mg diazepam. Source: Ashton CH, *Benzodiazepines: How They
 * Work and How to Withdraw* (the Ashton Manual, 2002), Table 1; where the manual gives a range, the lower end
 * is used, so the equivalent is not underestimated. Names are generic names, lower case.
 */
export const diazepamEquivalentMg: Readonly<Record<string, number>> = {
  alprazolam: 0.5,
  bromazepam: 5,
  chlordiazepoxide: 25,
  clobazam: 20,
  clonazepam: 0.5,
  clorazepate: 15,
  diazepam: 10,
  estazolam: 1,
  flunitrazepam: 1,
  flurazepam: 15,
  lorazepam: 1,
  lormetazepam: 1,
  nitrazepam: 10,
  oxazepam: 20,
  temazepam: 20,
  triazolam: 0.5,
};

export const diazepamEquivalentSource =
  'Ashton CH. Benzodiazepines: How They Work and How to Withdraw (the Ashton Manual), 2002, Table 1: approximate equivalent oral doses to diazepam 10 mg (lower end of ranges)';

/** One medication as recorded. */
export interface MedicationInput {
  readonly name: string;
  readonly class: MedicationClass;
  readonly dailyDose?: number | undefined;
  readonly unit?: DoseUnit | undefined;
}

function toMg(dose: number, unit: DoseUnit | undefined): number {
  return unit === 'g' ? dose * 1000 : unit === 'mcg' ? dose / 1000 : dose;
}

/**
 * The daily diazepam-equivalent dose (mg/day) of a benzodiazepine, or null when it cannot be worked out (no
 * daily dose, or a name not in {@link diazepamEquivalentMg}).
 */
export function diazepamEquivalentPerDay(m: MedicationInput): number | null {
  if (m.class !== 'benzodiazepine' || m.dailyDose === undefined) return null;
  const per10 = diazepamEquivalentMg[m.name.trim().toLowerCase()];
  if (per10 === undefined) return null;
  return (toMg(m.dailyDose, m.unit) * 10) / per10;
}

/** Total diazepam-equivalent mg/day over the benzodiazepines that can be converted (null when none can). */
export function totalDiazepamEquivalent(meds: readonly MedicationInput[]): number | null {
  let total: number | null = null;
  for (const m of meds) {
    const eq = diazepamEquivalentPerDay(m);
    if (eq !== null) total = (total ?? 0) + eq;
  }
  return total;
}

/** A finding about concurrent medications, as an alert message. */
export interface MedicationFinding {
  readonly medication: string;
  readonly class: MedicationClass;
  readonly message: string;
}

/**
 * What the medical team should look at in a medication list: benzodiazepines above `thresholdMg` diazepam
 * equivalent a day (or whose equivalent cannot be worked out), and every medication of an interaction class.
 */
export function medicationFindings(
  meds: readonly MedicationInput[],
  thresholdMg: number,
): MedicationFinding[] {
  const out: MedicationFinding[] = [];
  for (const m of meds) {
    if (m.class === 'benzodiazepine') {
      const eq = diazepamEquivalentPerDay(m);
      if (eq === null) {
        out.push({
          medication: m.name,
          class: m.class,
          message: `${m.name}: benzodiazepine whose diazepam-equivalent dose cannot be worked out (${m.dailyDose === undefined ? 'no daily dose recorded' : 'not in the equivalence table'}); above ${thresholdMg} mg/day it was associated with a dampened response to ketamine (Andrashko et al. 2020).`,
        });
      } else if (eq > thresholdMg) {
        out.push({
          medication: m.name,
          class: m.class,
          message: `${m.name} ${m.dailyDose} ${m.unit ?? 'mg'}/day ≈ ${Number(eq.toFixed(1))} mg diazepam-equivalent a day, above ${thresholdMg} mg: associated with a dampened antidepressant response to ketamine (Andrashko et al. 2020, Front Psychiatry 11:844).`,
        });
      }
    } else if (interactionClasses.includes(m.class)) {
      out.push({ medication: m.name, class: m.class, message: `${m.name}: ${medicationClasses[m.class]}` });
    }
  }
  return out;
}
