// Part of scripts/gen-episode-docs.mjs: consent, titration, concurrent medications and maintenance, replayed and checked.
import { code, core, dash, defaultPolicy, esc, num, sentence, table } from './env.mjs';
import {
  bookedWithVitals,
  booster,
  CONSENT_DOC,
  casesTable,
  dayAt,
  dosingSession,
  fullDose,
  MINUTE,
  NORMAL,
  prepare,
  problems,
  story,
} from './story.mjs';

// Consent, medications, titration and maintenance ------------------------------------------------------------

const WITHDRAWAL_REASON = 'Patient no longer wishes to continue ketamine treatment';

/** Consent, titration, concurrent medications and maintenance, replayed: the cases shown, each checked. */
function protocolCases() {
  const consent = [];
  const titration = [];
  const medications = [];
  const maintenance = [];
  const alertList = (st) => st.alerts.map((a) => `${code(a.code)} (${a.severity})`).join(', ') || 'none';
  consentCases(consent, alertList);
  version1ConsentCases(consent);
  titrationCases(titration);
  medicationCases(medications, alertList);
  maintenanceCases(maintenance, alertList);
  return { consent, titration, medications, maintenance };
}

/** Consent → dose, remote sessions, a late withdrawal, a withdrawal, after the course. */
function consentCases(consent, alertList) {
  const s = story('ep-consent');
  /** A withdrawal the patient records, with the phase (or refusal) expected after it. */
  const withdraw = (what, payload, o, expected) =>
    s.expect(consent, what, 'ConsentWithdrawn', payload, { ...o, recordedBy: 'patient' }, expected);
  prepare(s, { consent: false });
  bookedWithVitals(s, 'a', { bookedAt: 1, day: 2 });
  const kap = { scope: ['kap'], documentVersion: CONSENT_DOC };
  s.expect(consent, 'A dose, no consent recorded', 'DoseAdministered', fullDose('a'), {}, 'consent-required');
  s.expect(
    consent,
    'The patient records their own consent',
    'InformedConsentRecorded',
    kap,
    { recordedBy: 'patient' },
    'not-permitted',
  );
  s.expect(
    consent,
    `The therapist records consent to KAP (\`${CONSENT_DOC}\`)`,
    'InformedConsentRecorded',
    kap,
    {},
    'dosing-session',
  );
  s.expect(consent, 'The dose', 'DoseAdministered', fullDose('a'), {}, 'dosing-session');
  s.must('VitalsRecorded', { sessionId: 'a', phase: 'post', ...NORMAL }, { at: 2 + 130 * MINUTE });
  s.must('DosingSessionCompleted', { sessionId: 'a' });
  s.must('IntegrationSessionCompleted', { mode: 'telehealth', sessionId: 'a' }, { at: 3 });
  bookedWithVitals(s, 'b', { bookedAt: 8, day: 9, mode: 'telehealth', chaperone: true, vitalsBy: 'patient' });
  s.expect(
    consent,
    'A dose in a telehealth session (chaperone present), no consent to remote sessions',
    'DoseAdministered',
    fullDose('b'),
    { recordedBy: 'patient' },
    'consent-required',
  );
  s.expect(
    consent,
    'Consent to remote sessions recorded',
    'InformedConsentRecorded',
    { scope: ['remote-sessions'], documentVersion: CONSENT_DOC },
    {},
    'dosing-session',
  );
  s.expect(
    consent,
    'The dose',
    'DoseAdministered',
    fullDose('b'),
    { recordedBy: 'patient', at: 9 + 10 * MINUTE },
    'dosing-session',
  );
  s.must('VitalsRecorded', { sessionId: 'b', phase: 'post', ...NORMAL }, { at: 9 + 130 * MINUTE });
  s.must('DosingSessionCompleted', { sessionId: 'b' });
  withdraw(
    'A withdrawal of consent to remote sessions dated 5 minutes before that dose, entered after the session',
    { scope: ['remote-sessions'] },
    { at: 9 + 5 * MINUTE },
    'dosing-course',
  );
  if (s.state.context.sessions.find((x) => x.sessionId === 'b')?.doses.length !== 1) {
    problems.push('ep-consent: a withdrawal recorded after a dose undid the dose');
  }
  // The prose says a late withdrawal raises a late-entry alert, as late safety signals and stops do.
  if (!s.status(9.5).alerts.some((a) => a.code === 'late-entry')) {
    problems.push(
      'ep-consent: a late consent withdrawal no longer raises a late-entry alert; say so in the prose',
    );
  }
  s.must('IntegrationSessionCompleted', { mode: 'telehealth', sessionId: 'b' }, { at: 10 });
  withdraw(
    'The patient withdraws consent to KAP',
    { scope: ['kap'], reason: WITHDRAWAL_REASON },
    { at: 11 },
    'dosing-course',
  );
  const st = s.status(11.5);
  if (!st.alerts.some((a) => a.code === 'consent-missing') || st.consent.inForce.length !== 0) {
    problems.push(
      `ep-consent: a withdrawal of consent to KAP raises no consent-missing alert (${JSON.stringify(st.consent)}, ${st.alerts.map((a) => a.code)})`,
    );
  }
  consent.push({
    what: 'The status that evening',
    result: `consent in force: ${st.consent.inForce.map((x) => code(x)).join(', ') || 'none'}, withdrawn: ${st.consent.withdrawn.map((x) => code(x)).join(', ')}; alerts ${alertList(st)}`,
  });
  bookedWithVitals(s, 'c', { bookedAt: 12, day: 14 });
  s.expect(
    consent,
    'A dose in a session booked after the withdrawal',
    'DoseAdministered',
    fullDose('c'),
    {},
    'consent-required',
  );
  s.must('DosingSessionAborted', { sessionId: 'c', reason: 'patient-declined' });
  s.must('EpisodeDiscontinued', { reason: 'patient-choice' });
  withdraw(
    'After discontinuation, the patient opts out of research use (never consented to)',
    { scope: ['research-use'] },
    {},
    'discontinued',
  );
  s.expect(
    consent,
    'A new consent after discontinuation',
    'InformedConsentRecorded',
    kap,
    {},
    'episode-closed',
  );
}

/** An episode opened by a version 1 event is not held to the consent gate. */
function version1ConsentCases(consent) {
  const s = story('ep-consent-v1');
  const opened = s.ev('EpisodeOpened', {});
  delete opened.recordedAt;
  delete opened.recordedBy;
  prepare(s, { consent: false, opened: { ...opened, v: 1 } });
  bookedWithVitals(s, 'a', { bookedAt: 1, day: 2 });
  s.expect(
    consent,
    'In an episode opened by a version 1 `EpisodeOpened` (upcast with `requireInformedConsent: false`): a dose, no consent recorded',
    'DoseAdministered',
    fullDose('a'),
    {},
    'dosing-session',
  );
}

/** Titration: a half dose first. */
function titrationCases(titration) {
  const steps = [
    { fromSession: 1, doseMg: 150 },
    { fromSession: 2, doseMg: 300 },
  ];
  const s = story('ep-titration');
  prepare(s, { titration: steps });
  bookedWithVitals(s, 'a', { bookedAt: 1, day: 2 });
  s.expect(
    titration,
    'First session: a full dose of 300 mg (the step is 150 mg), no reason',
    'DoseAdministered',
    fullDose('a'),
    {},
    'reason-required',
  );
  s.expect(
    titration,
    'The step’s 150 mg (half a unit of the 300 mg prescription)',
    'DoseAdministered',
    fullDose('a', { doseMg: 150 }),
    {},
    'dosing-session',
  );
  s.must('VitalsRecorded', { sessionId: 'a', phase: 'post', ...NORMAL }, { at: 2 + 130 * MINUTE });
  s.must('DosingSessionCompleted', { sessionId: 'a' });
  s.must('IntegrationSessionCompleted', { mode: 'telehealth', sessionId: 'a' }, { at: 3 });
  bookedWithVitals(s, 'b', { bookedAt: 8, day: 9 });
  s.expect(
    titration,
    'Second session: 200 mg (the step is 300 mg), reason "ok."',
    'DoseAdministered',
    fullDose('b', { doseMg: 200, reason: 'ok.' }),
    {},
    'reason-required',
  );
  s.expect(
    titration,
    'The same with a reason',
    'DoseAdministered',
    fullDose('b', {
      doseMg: 200,
      reason: 'Marked dissociation at 150 mg; stepping up gradually, agreed with the prescriber',
    }),
    {},
    'dosing-session',
  );
  const b = s.state.context.sessions.find((x) => x.sessionId === 'b')?.doses[0];
  if (b?.plannedDoseMg !== 300 || !b.reason) {
    problems.push('ep-titration: a departing dose does not keep its planned step and its reason');
  }
  s.expect(
    titration,
    'A booster of 100 mg (boosters are not compared with the step)',
    'DoseAdministered',
    booster('b', 100),
    { at: 9 + 40 * MINUTE },
    'dosing-session',
  );
}

/** Concurrent medications. */
function medicationCases(medications, alertList) {
  const s = story('ep-medications');
  s.must('EpisodeOpened', {});
  s.must('FitAssessed', { outcome: 'good-fit' });
  const list = {
    medications: [
      { name: 'lorazepam', class: 'benzodiazepine', dailyDose: 2 },
      { name: 'lamotrigine', class: 'lamotrigine', dailyDose: 100 },
      { name: 'sertraline', class: 'antidepressant', dailyDose: 100 },
    ],
  };
  s.expect(
    medications,
    'A medication review before the medical evaluation is scheduled',
    'MedicationsReviewed',
    list,
    {},
    'evaluation-not-scheduled',
  );
  s.must('MedicalEvaluationScheduled', { scheduledFor: dayAt(1), mode: 'telehealth' });
  s.expect(
    medications,
    'The therapist records the review',
    'MedicationsReviewed',
    list,
    { recordedBy: 'therapist' },
    'not-permitted',
  );
  s.expect(
    medications,
    'The medical team records it at the evaluation: lorazepam 2 mg/day, lamotrigine 100 mg/day, sertraline 100 mg/day',
    'MedicationsReviewed',
    list,
    { at: 1 },
    'medical-evaluation',
  );
  const st = s.status(1.5);
  medications.push({
    what: 'The status',
    result: `classes ${st.medications.classes.map((x) => code(x)).join(', ')}; ${num(st.medications.diazepamEquivalentMgPerDay)} mg diazepam-equivalent a day; alerts ${alertList(st)}`,
  });
  s.must('MedicalEvaluationCompleted', { eligible: true });
  s.expect(
    medications,
    'A later review: lorazepam tapered to 0.5 mg/day, lamotrigine stopped',
    'MedicationsReviewed',
    {
      medications: [
        { name: 'lorazepam', class: 'benzodiazepine', dailyDose: 0.5 },
        { name: 'sertraline', class: 'antidepressant', dailyDose: 100 },
      ],
    },
    { at: 20 },
    'planning',
  );
  const later = s.status(20.5);
  if (later.alerts.some((a) => a.code === 'medication-interaction')) {
    problems.push('ep-medications: a review below the threshold still raises medication-interaction');
  }
  medications.push({
    what: 'The status',
    result: `${num(later.medications.diazepamEquivalentMgPerDay)} mg diazepam-equivalent a day; alerts ${alertList(later)}`,
  });
}

/** Maintenance after the initial course. */
function maintenanceCases(maintenance, alertList) {
  const s = story('ep-maintenance');
  prepare(s, { planned: 2, supply: 4 });
  const plan = { intervalDays: 28 };
  s.expect(
    maintenance,
    'Planning maintenance before any dose',
    'MaintenancePlanned',
    plan,
    {},
    'no-doses-given',
  );
  dosingSession(s, 'a', 2);
  s.expect(
    maintenance,
    'After dosing session 1 of 2 planned, no reason',
    'MaintenancePlanned',
    plan,
    { at: 4 },
    'reason-required',
  );
  dosingSession(s, 'b', 9);
  s.expect(
    maintenance,
    'After session 2 of 2, planned by the therapist',
    'MaintenancePlanned',
    plan,
    { at: 11, recordedBy: 'therapist' },
    'not-permitted',
  );
  s.expect(
    maintenance,
    'The same, planned by the medical team: every 28 days',
    'MaintenancePlanned',
    plan,
    { at: 11 },
    'maintenance',
  );
  const due = s.status(39.5);
  maintenance.push({
    what: 'The status on day 39',
    result: `maintenance next due ${due.maintenance.nextDueAt.slice(0, 10)} (${due.maintenance.status}); alerts ${alertList(due)}`,
  });
  dosingSession(s, 'm1', 41);
  const after = s.status(42.5);
  if (after.phase !== 'maintenance' || after.maintenance.sessions !== 1 || after.dosesGiven !== 3) {
    problems.push('ep-maintenance: a maintenance session is not counted as one');
  }
  maintenance.push({
    what: 'A maintenance dosing session on day 41 (booked, dosed, completed, integrated); the status the next day',
    result: `phase ${code(after.phase)}; doses given ${after.dosesGiven} (${after.criticalPeriods.analysis.windows.length} in the initial course, ${after.maintenance.sessions} in maintenance); maintenance next due ${after.maintenance.nextDueAt.slice(0, 10)} (${after.maintenance.status}); initial course chains ${after.criticalPeriods.analysis.chains.map((c) => `[${c.doses.join(', ')}]`).join(' ')}, maintenance windows ${after.maintenance.criticalPeriods.windows.length}; next-dose deadline ${after.criticalPeriods.nextDoseLatestDay ?? 'none'}; alerts ${alertList(after)}`,
  });
}

/** The medication classes, the diazepam-equivalent table and findings on a sample list, all from the code. */
function medicationTables() {
  const {
    medicationClasses,
    interactionClasses,
    diazepamEquivalentMg,
    diazepamEquivalentSource,
    diazepamEquivalentPerDay,
    medicationFindings,
    doseUnits,
  } = core;
  const threshold = defaultPolicy.benzodiazepineAlertAboveMgDiazepam;
  const classes = table(
    ['Class', 'Alert', 'Why, with its source'],
    Object.entries(medicationClasses).map(([k, why]) => [
      code(k),
      k === 'benzodiazepine'
        ? `above ${threshold} mg diazepam-equivalent a day, or not convertible`
        : interactionClasses.includes(k)
          ? 'whenever taken'
          : dash,
      sentence(why),
    ]),
  );
  const equivalents = table(
    [
      'Benzodiazepine',
      'Oral mg ≈ 10 mg diazepam',
      `Daily dose at the ${threshold} mg diazepam-equivalent threshold`,
    ],
    Object.entries(diazepamEquivalentMg).map(([name, mg]) => [
      name,
      num(mg),
      `${num((threshold * mg) / 10)} mg`,
    ]),
  );
  const sample = [
    { name: 'lorazepam', class: 'benzodiazepine', dailyDose: 2 },
    { name: 'clonazepam', class: 'benzodiazepine', dailyDose: 500, unit: 'mcg' },
    { name: 'alprazolam', class: 'benzodiazepine' },
    { name: 'lamotrigine', class: 'lamotrigine', dailyDose: 200 },
    { name: 'carbamazepine', class: 'cyp-inducer', dailyDose: 400 },
    { name: 'sertraline', class: 'antidepressant', dailyDose: 100 },
  ];
  const findings = medicationFindings(sample, threshold);
  const findingsTable = table(
    ['Medication', 'Class', 'Daily dose', 'Diazepam-equivalent', 'Finding'],
    sample.map((m) => {
      const eq = diazepamEquivalentPerDay(m);
      const f = findings.filter((x) => x.medication === m.name);
      return [
        m.name,
        code(m.class),
        m.dailyDose === undefined ? dash : `${num(m.dailyDose)} ${m.unit ?? 'mg'}`,
        eq === null ? dash : `${num(eq)} mg/day`,
        f.length ? f.map((x) => esc(x.message)).join('<br>') : 'none',
      ];
    }),
  );
  return {
    classes,
    equivalents,
    findingsTable,
    source: diazepamEquivalentSource,
    units: doseUnits,
    threshold,
  };
}

export function protocolSection() {
  const { consent, titration, medications, maintenance } = protocolCases();
  const m = medicationTables();
  const p = defaultPolicy;
  return [
    'Machine version 3 also records what the protocol of a KAP course needs around the doses: the patient’s informed consent, the concurrent medications reviewed by the medical team, the dose titration of the plan, and maintenance after the initial course. Each example table is computed by the code: the events are decided against a synthetic episode prepared for dosing (300 mg sublingual lozenges prescribed), in the order shown.',
    '',
    '### Informed consent',
    '',
    `\`InformedConsentRecorded { scope, documentVersion }\`, recorded by a clinician, keeps one consent per scope: \`kap\` (KAP itself), \`remote-sessions\` (telehealth dosing sessions with a chaperone) and \`research-use\` (research use of de-identified data). It is accepted in every open phase and while paused, not in a closed episode. \`ConsentWithdrawn { scope, reason? }\` is a [root-level transition](#the-state-machine): the patient (or a clinician for them) may withdraw at any time once the episode is open, after the course too; a scope never consented to may be withdrawn (a research opt-out), and a \`research-use\` withdrawal leaves the episode out of de-identified exports. A scope withdrawn can be consented to again.`,
    '',
    `With the policy \`requireInformedConsent\` on (default ${code(JSON.stringify(p.requireInformedConsent))}), every dose, boosters included, needs consent to \`kap\` in force, and a dose in a telehealth session consent to \`remote-sessions\` too, else \`consent-required\`. Bookings are not refused: the gate is the dose. Like the other gates before a dose, a withdrawal is judged by what was known when the dose was recorded (\`recordedAt\`): a withdrawal entered after a dose does not undo it, even when it is dated before it, and raises an urgent \`late-entry\` alert (as a late safety signal or treatment stop does). The \`consent-missing\` alert says when the next dose would be refused. Episodes opened by a version 1 \`EpisodeOpened\` (which could not record consent) are upcast with \`requireInformedConsent: false\` and are not held to the gate (see [Schema versions](#schema-versions)).`,
    '',
    casesTable(consent),
    '',
    '### Concurrent medications',
    '',
    `\`MedicationsReviewed { medications: [{ name, class, dailyDose?, unit? }] }\`, recorded by the medical team at or after the medical evaluation (before it was scheduled: \`evaluation-not-scheduled\`; also while paused), lists every medication the patient takes now and replaces the previous list (an empty list: none). \`unit\` is one of ${m.units.map((u) => code(u)).join(', ')} (default \`mg\`). \`statusAt\` reports the latest review (\`medications\`) and raises a \`medication-interaction\` warning for each finding of \`medicationFindings\`; kapkit does not refuse a dose for a medication: the medical team decides. The classes (\`medicationClasses\`):`,
    '',
    m.classes,
    '',
    `A benzodiazepine’s daily dose is converted to mg diazepam-equivalent a day (\`diazepamEquivalentPerDay\`: the dose in mg × 10 / the equivalent below; names are generic names, matched without regard to case) and compared with the policy \`benzodiazepineAlertAboveMgDiazepam\` (default ${m.threshold} mg); one without a daily dose or not in the table is a finding too, since its equivalent cannot be worked out. The table (\`diazepamEquivalentMg\`) is from ${sentence(m.source)}`,
    '',
    m.equivalents,
    '',
    'The findings on a sample list (computed by `medicationFindings`):',
    '',
    m.findingsTable,
    '',
    casesTable(medications),
    '',
    '### Titration',
    '',
    '`TreatmentPlanCreated.titration` lists planned dose steps `{ fromSession, doseMg }` (1-based, counting dosing sessions with a dose; the first step starts at session 1, steps in increasing order; the last holds for later sessions, maintenance included). The first dose of a session (full or half) whose mg departs from its step needs `DoseAdministered.reason` of at least `minReasonLength` letters or digits, else `reason-required`; boosters are not compared with it. The step is checked after the prescription (`dose-mismatch`): a step cannot authorise more than the prescription. The episode keeps each dose’s step (`plannedDoseMg`) and reason.',
    '',
    casesTable(titration),
    '',
    '### Maintenance',
    '',
    '`MaintenancePlanned { intervalDays, reason? }`, recorded by the medical team between sessions, starts the `maintenance` phase: dosing sessions booked from then on are maintenance sessions (one booked before stays in the initial course), under the same gates as the initial course, every `intervalDays` (7–365). It needs a dose first (`no-doses-given`) and, before the planned dosing sessions of the initial course are done, a reason (`reason-required`). A later `MaintenancePlanned` replaces the interval. `statusAt` reports maintenance apart (`maintenance`: sessions, next due, status, critical periods of the maintenance doses alone); `criticalPeriods` covers the initial course only, and once maintenance is planned the initial course counts as done (no chain alerts, no next-dose deadline). The `maintenance-session-due` alert says when the next maintenance session is due (info) or overdue (warning).',
    '',
    casesTable(maintenance),
  ].join('\n');
}
