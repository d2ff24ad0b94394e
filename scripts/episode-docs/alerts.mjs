// Part of scripts/gen-episode-docs.mjs: alerts replayed from synthetic episodes; every alert code must be raised by one.
import { alertCodes, defaultPolicy } from './env.mjs';
import { PHQ9_ITEM9 } from './safety-cases.mjs';
import {
  CONSENT_DOC,
  dosingSession,
  MINUTE,
  NORMAL,
  PHQ9_BASELINE,
  prepare,
  preparedAndBooked,
  problems,
  story,
} from './story.mjs';

// Alerts ---------------------------------------------------------------------------------------------------

/**
 * Episodes that raise every alert code, replayed: the severities shown are the ones observed, and generation
 * fails if an alert code is never raised, or raised or cleared otherwise than the prose says.
 */
export function observeAlerts() {
  const seen = new Map(Object.keys(alertCodes).map((c) => [c, new Set()]));
  const look = (name, st, present, absent = []) => {
    const codes = st.alerts.map((a) => a.code);
    for (const a of st.alerts) seen.get(a.code)?.add(a.severity);
    const missing = present.filter((c) => !codes.includes(c));
    const extra = absent.filter((c) => codes.includes(c));
    if (missing.length || extra.length) {
      problems.push(
        `${name} at ${st.asOf}: ${missing.length ? `expected ${missing.join(', ')}` : ''}${extra.length ? ` did not expect ${extra.join(', ')}` : ''} (alerts: ${codes.join(', ') || 'none'})`,
      );
    }
  };
  safetySignalAlerts(look);
  vitalsAlerts(look);
  followUpAndMeasureAlerts(look);
  notOnTrackAlerts(look);
  consentAlerts(look);
  medicationAlerts(look);
  maintenanceAlerts(look);
  const never = [...seen].filter(([, sev]) => sev.size === 0).map(([c]) => c);
  if (never.length)
    problems.push(`no synthetic episode raises ${never.join(', ')}: add one to observeAlerts()`);
  const order = ['urgent', 'warning', 'info'];
  return new Map([...seen].map(([c, sev]) => [c, order.filter((x) => sev.has(x))]));
}

/** Safety signals, their reviews, a late entry and a treatment stop. */
function safetySignalAlerts(look) {
  const s = story('ep-alerts-safety');
  prepare(s, { supply: 2 });
  dosingSession(s, 'a', 2);
  s.must('AssessmentRecorded', { instrument: 'phq9', responses: PHQ9_ITEM9(1) }, { at: 3.1 });
  const positive = s.sent.at(-1).id;
  s.must(
    'AssessmentRecorded',
    { instrument: 'phq9', responses: PHQ9_ITEM9(null) },
    { at: 3.2, recordedBy: 'patient' },
  );
  const blank = s.sent.at(-1).id;
  s.must(
    'AdverseEventReported',
    { code: 'dissociation-distress', severity: 'severe', sessionId: 'a' },
    { at: 3.3 },
  );
  const severe = s.sent.at(-1).id;
  s.must('AdverseEventReported', { code: 'nausea', severity: 'moderate', sessionId: 'a' }, { at: 3.4 });
  const moderate = s.sent.at(-1).id;
  s.must('AdverseEventReported', { code: 'headache', severity: 'mild' }, { at: 3.5 });
  const st = s.status(4);
  look('ep-alerts-safety', st, ['safety-flag', 'safety-item-unanswered', 'adverse-event']);
  const ae = st.alerts.filter((a) => a.code === 'adverse-event').map((a) => a.severity);
  if (ae.join() !== 'urgent,warning')
    problems.push(
      `ep-alerts-safety: adverse-event severities ${ae.join()} (expected urgent for severe, warning for moderate, none for mild)`,
    );
  s.must(
    'SafetyFlagReviewed',
    { assessmentEventId: positive, rule: 'phq9-item9-positive', outcome: 'safety-plan' },
    { at: 4 },
  );
  s.must('SafetyFlagReviewed', {
    assessmentEventId: blank,
    rule: 'phq9-item9-positive',
    outcome: 'no-current-risk',
  });
  s.must('AdverseEventReviewed', { adverseEventId: severe, outcome: 'no-current-risk' });
  s.must('AdverseEventReviewed', { adverseEventId: moderate, outcome: 'no-current-risk' });
  look('ep-alerts-safety', s.status(4.5), [], ['safety-flag', 'safety-item-unanswered', 'adverse-event']);
  dosingSession(s, 'b', 9, { integrate: false });
  s.must('AdverseEventReported', { code: 'suicidal-ideation', severity: 'mild' }, { at: 8 });
  const lateAe = s.sent.at(-1).id;
  look('ep-alerts-safety', s.status(10), ['adverse-event', 'late-entry', 'low-medication']);
  s.must('AdverseEventReviewed', { adverseEventId: lateAe, outcome: 'escalated' }, { at: 10 });
  look('ep-alerts-safety', s.status(10.5), [], ['adverse-event', 'late-entry']);
  s.must('MedicalFollowUpCompleted', { continueTreatment: false }, { at: 11 });
  look('ep-alerts-safety', s.status(11.5), ['treatment-stopped']);
  s.must('MedicalFollowUpCompleted', { continueTreatment: true }, { at: 12 });
  look('ep-alerts-safety', s.status(12.5), [], ['treatment-stopped']);
}

/** Vitals. */
function vitalsAlerts(look) {
  const s = preparedAndBooked('ep-alerts-vitals');
  s.must('VitalsRecorded', { sessionId: 'a', phase: 'pre', systolic: 150, diastolic: 95 }, { at: 2 });
  look('ep-alerts-vitals', s.status(2.01), ['vitals-hold'], ['vitals-alert']);
  s.must('VitalsRecorded', {
    sessionId: 'a',
    phase: 'pre',
    systolic: defaultPolicy.alertSystolicAbove + 10,
    diastolic: 100,
  });
  look('ep-alerts-vitals', s.status(2.02), ['vitals-hold', 'vitals-alert']);
  s.must('VitalsRecorded', { sessionId: 'a', phase: 'pre', ...NORMAL }, { at: 2.03 });
  look('ep-alerts-vitals', s.status(2.04), ['vitals-alert'], ['vitals-hold']);
}

/** Follow-up overdue (kept while paused), measures, the critical-period chain. */
function followUpAndMeasureAlerts(look) {
  const s = story('ep-alerts-calendar');
  prepare(s, { planned: 6, supply: 6, monitoring: [{ instrument: 'phq9', everyDays: 28 }] });
  look('ep-alerts-calendar', s.status(30), ['measure-due']);
  look('ep-alerts-calendar', s.status(40), ['measure-overdue']);
  s.must('AssessmentRecorded', { instrument: 'phq9', responses: PHQ9_BASELINE }, { at: 41 });
  dosingSession(s, 'a', 42);
  const end = 42 + 10 * MINUTE + defaultPolicy.criticalPeriodDays;
  look('ep-alerts-calendar', s.status(end - 1), ['critical-period-chain-ending']);
  look('ep-alerts-calendar', s.status(end + 1), ['critical-period-chain-broken']);
  s.must('EpisodePaused', { reason: 'financial' }, { at: 50 });
  look(
    'ep-alerts-calendar',
    s.status(42 + defaultPolicy.followUpIntervalDays + 2),
    ['follow-up-overdue'],
    ['measure-overdue', 'measure-due'],
  );
}

/** Not on track: no response, reliable deterioration, severe symptoms after the policy number of doses. */
function notOnTrackAlerts(look) {
  const s = story('ep-alerts-outcomes');
  prepare(s, { planned: 8, supply: 8 });
  for (let i = 0; i < defaultPolicy.noResponseAfterDoses; i++) dosingSession(s, `s${i + 1}`, 2 + 7 * i);
  const last = 2 + 7 * (defaultPolicy.noResponseAfterDoses - 1);
  s.must(
    'AssessmentRecorded',
    { instrument: 'phq9', responses: [3, 3, 3, 2, 2, 2, 2, 3, 0], context: 'integration' },
    { at: last + 2 },
  );
  look('ep-alerts-outcomes', s.status(last + 2.5), [
    'no-response',
    'reliable-deterioration',
    'severe-symptoms',
  ]);
}

/** Consent missing, then recorded; withdrawn. */
function consentAlerts(look) {
  const s = story('ep-alerts-consent');
  prepare(s, { consent: false });
  look('ep-alerts-consent', s.status(1), ['consent-missing']);
  s.must('InformedConsentRecorded', { scope: ['kap'], documentVersion: CONSENT_DOC }, { at: 1 });
  look('ep-alerts-consent', s.status(1.5), [], ['consent-missing']);
  dosingSession(s, 'a', 2);
  s.must('ConsentWithdrawn', { scope: ['kap'] }, { at: 4, recordedBy: 'patient' });
  look('ep-alerts-consent', s.status(4.5), ['consent-missing']);
  s.must('EpisodePaused', { reason: 'patient-request' }, { at: 5 });
  look('ep-alerts-consent', s.status(5.5), [], ['consent-missing']);
}

/** Concurrent medications: a finding per benzodiazepine above the threshold and per interaction class. */
function medicationAlerts(look) {
  const s = story('ep-alerts-medications');
  prepare(s);
  s.must(
    'MedicationsReviewed',
    {
      medications: [
        { name: 'lorazepam', class: 'benzodiazepine', dailyDose: 2 },
        { name: 'lamotrigine', class: 'lamotrigine', dailyDose: 100 },
        { name: 'sertraline', class: 'antidepressant', dailyDose: 100 },
      ],
    },
    { at: 1 },
  );
  const st = s.status(1.5);
  look('ep-alerts-medications', st, ['medication-interaction']);
  if (st.alerts.filter((a) => a.code === 'medication-interaction').length !== 2) {
    problems.push('ep-alerts-medications: expected one medication-interaction alert per finding (2)');
  }
  s.must(
    'MedicationsReviewed',
    { medications: [{ name: 'lorazepam', class: 'benzodiazepine', dailyDose: 0.5 }] },
    { at: 2 },
  );
  look('ep-alerts-medications', s.status(2.5), [], ['medication-interaction']);
}

/** Maintenance: due, then overdue, then cleared by a maintenance dose. */
function maintenanceAlerts(look) {
  const s = story('ep-alerts-maintenance');
  prepare(s, { planned: 1, supply: 4 });
  dosingSession(s, 'a', 2);
  s.must('MaintenancePlanned', { intervalDays: 28 }, { at: 4 });
  look('ep-alerts-maintenance', s.status(31), [], ['maintenance-session-due']);
  look('ep-alerts-maintenance', s.status(32.5), ['maintenance-session-due']);
  look('ep-alerts-maintenance', s.status(32 + defaultPolicy.measureGraceDays + 1), [
    'maintenance-session-due',
  ]);
  dosingSession(s, 'm1', 33);
  look('ep-alerts-maintenance', s.status(34.5), [], ['maintenance-session-due']);
}
