// Part of scripts/gen-episode-docs.mjs: the example episode, the Status section and the phases table.
import { observeAlerts } from './alerts.mjs';
import {
  alertCodes,
  code,
  core,
  DAY_MS,
  EVENT_SCHEMA_VERSION,
  esc,
  fail,
  sentence,
  statusAt,
  table,
} from './env.mjs';
import { ALERTS, PHASES, STATUS_FIELDS, STATUS_MORE } from './prose.mjs';
import { interfaceFields, phasesSrc, primaryRole, sameSet, statusSrc, unionAfter } from './source.mjs';

// ---------------------------------------------------------------------------------------------------------
// statusAt: fields from the source, alerts from `alertCodes` (severities observed), and a worked example

function exampleEpisode() {
  const start = Date.parse('2026-03-02T10:00:00-05:00');
  const at = (d) => `${new Date(start + d * DAY_MS - 5 * 3_600_000).toISOString().slice(0, 19)}-05:00`;
  let n = 0;
  const ev = (d, type, payload = {}) => ({
    id: `ep-doc-e${++n}`,
    episodeId: 'ep-doc',
    patientId: 'pt-synthetic-doc',
    type,
    at: at(d),
    recordedAt: at(d),
    v: EVENT_SCHEMA_VERSION,
    recordedBy: primaryRole(type),
    synthetic: true,
    ...payload,
  });
  const dose = {
    sessionId: 's1',
    kind: 'full',
    doseMg: 300,
    route: 'sublingual',
    formulation: 'sublingual-lozenge',
  };
  const events = [
    ev(0, 'EpisodeOpened'),
    ev(0.04, 'FitAssessed', { outcome: 'good-fit' }),
    ev(3, 'MedicalEvaluationScheduled', { scheduledFor: at(7), mode: 'telehealth' }),
    ev(7, 'MedicalEvaluationCompleted', { eligible: true }),
    ev(7.005, 'InformedConsentRecorded', { scope: ['kap'], documentVersion: 'KAP consent v3 (2026-01)' }),
    ev(7.006, 'MedicationsReviewed', {
      medications: [{ name: 'sertraline', class: 'antidepressant', dailyDose: 100 }],
    }),
    ev(7.01, 'TreatmentPlanCreated', {
      plannedDosingSessions: 6,
      monitoring: { measures: [{ instrument: 'phq9', everyDays: 28 }, { instrument: 'gad7' }] },
    }),
    ev(7.02, 'PrescriptionIssued', {
      medication: 'ketamine',
      route: 'sublingual',
      formulation: 'sublingual-lozenge',
      doseMg: 300,
      dosesAuthorized: 2,
    }),
    ev(10, 'MedicationDelivered', { doses: 2 }),
    ev(10.02, 'SelfAdministrationTrained', { vitalsTrained: true, selfAdministrationTrained: true }),
    ev(12, 'AssessmentRecorded', {
      instrument: 'phq9',
      responses: [2, 2, 2, 2, 1, 2, 1, 1, 0],
      context: 'baseline',
    }),
    ev(12.01, 'AssessmentRecorded', {
      instrument: 'gad7',
      responses: [2, 2, 2, 1, 1, 1, 1],
      context: 'baseline',
    }),
    ev(12.05, 'PreparationSessionCompleted', { mode: 'in-person', intentionsSet: true }),
    ev(14, 'DosingSessionScheduled', { sessionId: 's1', scheduledFor: at(14.05), mode: 'in-person' }),
    ev(14.04, 'VitalsRecorded', { sessionId: 's1', phase: 'pre', systolic: 124, diastolic: 78 }),
    ev(14.05, 'DoseAdministered', dose),
    ev(14.14, 'VitalsRecorded', { sessionId: 's1', phase: 'post', systolic: 128, diastolic: 80 }),
    ev(14.15, 'DosingSessionCompleted', { sessionId: 's1', durationMinutes: 150 }),
    ev(16, 'IntegrationSessionCompleted', { mode: 'telehealth', sessionId: 's1' }),
    ev(16.05, 'AssessmentRecorded', {
      instrument: 'phq9',
      responses: [1, 1, 1, 1, 1, 1, 0, 1, 1],
      context: 'integration',
      recordedBy: 'patient',
    }),
  ];
  const r = core.replay(events);
  if (r.refusals.length) fail(`example refused: ${JSON.stringify(r.refusals[0])}`);
  return { state: r.state, asOf: at(25.5) };
}

export function statusSection() {
  const fields = interfaceFields(statusSrc, 'EpisodeStatus');
  sameSet(
    'EpisodeStatus fields',
    fields.map((f) => f.name),
    STATUS_FIELDS,
  );
  const extra = Object.keys(STATUS_MORE).filter((k) => !fields.some((f) => f.name === k));
  if (extra.length) fail(`STATUS_MORE describes fields EpisodeStatus does not have: ${extra.join(', ')}.`);
  sameSet('alert codes', Object.keys(alertCodes), ALERTS);
  const severities = observeAlerts();
  const { state, asOf } = exampleEpisode();
  const s = statusAt(state, asOf);
  const summary = [
    ['phase', code(s.phase)],
    ['dosesGiven / plannedDosingSessions', `${s.dosesGiven} / ${s.plannedDosingSessions}`],
    ['dosesOnHand / dosesAuthorized', `${s.dosesOnHand} / ${s.dosesAuthorized}`],
    ['followUp', s.followUp ? `due ${s.followUp.dueAt}, overdue: ${s.followUp.overdue}` : 'null'],
    [
      'criticalPeriods.open',
      s.criticalPeriods.open.map((w) => `dose ${w.doseNumber} until ${w.end}`).join(', ') || 'none',
    ],
    ['criticalPeriods.nextDoseLatestDay', String(s.criticalPeriods.nextDoseLatestDay)],
    [
      'consent',
      `required: ${s.consent.required}, in force: ${s.consent.inForce.join(', ') || 'none'}, withdrawn: ${s.consent.withdrawn.join(', ') || 'none'}`,
    ],
    [
      'medications',
      `reviewed ${s.medications.reviewedAt}, classes: ${s.medications.classes.join(', ') || 'none'}, findings: ${s.medications.findings.length}`,
    ],
    ['maintenance', String(s.maintenance)],
    ['measures', s.measures.map((m) => `${m.instrument} ${m.rule}: ${m.status}`).join('; ')],
    [
      'unreviewedSafetyFlags',
      s.unreviewedSafetyFlags.map((f) => `${f.rule} (item ${f.item} = ${f.value})`).join(', ') || 'none',
    ],
    [
      'outcomes',
      s.outcomes
        .map((o) => `${o.instrument} ${o.baseline?.total} → ${o.latest?.total}, response: ${o.response}`)
        .join('; ') || 'none',
    ],
  ];
  return [
    '`statusAt(state, asOf)` reports an episode as of a point in time. It is pure: `asOf` is an argument, so the same events and the same `asOf` always give the same answer, in tests, in a nightly job or in a dashboard. It reads the episode’s state, so voided events are not in it and late entries are in their clinical place. `asOf` is the time the status is computed at, not a cut-off of the log: the critical periods, measures and outcomes leave out what is dated after it, but doses given, safety flags, adverse events and the treatment stop are read from every event in the state. To see an episode as it stood on an earlier day, fold only the events recorded by then.',
    '',
    table(
      ['Field', 'Meaning'],
      fields.map((f) => [
        code(f.name),
        `${sentence(f.doc || STATUS_FIELDS[f.name])}${STATUS_MORE[f.name] ? ` ${sentence(STATUS_MORE[f.name])}` : ''}`,
      ]),
    ),
    '',
    '### Alerts',
    '',
    'Every alert code is a key of `alertCodes` (its sentence below). The severities are the ones `statusAt` gave when this script replayed synthetic episodes that raise each alert; the last column says when an alert is raised and what clears it.',
    '',
    table(
      ['Alert', 'Severity', 'Meaning', 'Raised and cleared'],
      Object.keys(alertCodes).map((c) => [
        code(c),
        severities.get(c).join(' or '),
        sentence(alertCodes[c]),
        sentence(ALERTS[c]),
      ]),
    ),
    '',
    `### Example`,
    '',
    `A synthetic episode (built by this script): eligible, consent to KAP recorded, a medication review (sertraline), planned for 6 dosing sessions, 2 doses delivered, first dose on ${s.criticalPeriods.analysis.windows[0]?.start ?? '?'}, one integration session, and a PHQ-9 the patient filled in after it with item 9 answered 1. Its status at ${asOf}:`,
    '',
    table(
      ['Field', 'Value'],
      summary.map(([k, v]) => [code(k), esc(v)]),
    ),
    '',
    table(
      ['Alert', 'Severity', 'Message'],
      s.alerts.map((a) => [code(a.code), a.severity, esc(a.message)]),
    ),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// The page

export function phasesSection() {
  const phases = unionAfter(phasesSrc, 'export type EpisodePhase =');
  sameSet('phases', phases, PHASES);
  return table(
    ['Phase', 'Meaning'],
    phases.map((p) => [code(p), sentence(PHASES[p])]),
  );
}
