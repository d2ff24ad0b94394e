// Part of scripts/gen-episode-docs.mjs: the synthetic-episode builder the replayed cases use; problems found while replaying are collected here.
import {
  code,
  decide,
  EVENT_SCHEMA_VERSION,
  esc,
  formatInOffset,
  initialEpisodeState,
  phaseOf,
  statusAt,
  table,
} from './env.mjs';
import { primaryRole } from './source.mjs';

// ---------------------------------------------------------------------------------------------------------
// Synthetic episodes: the prose is checked against the model by replaying them, and their results are shown

const T0 = Date.parse('2026-03-02T15:00:00Z');
const OFFSET = '-05:00';
export const MINUTE = 1 / 1440;
/** The instant `d` days after the start of every synthetic episode (10:00 at UTC−05:00), to the minute. */
export const dayAt = (d) => formatInOffset(T0 + Math.round(d * 1440) * 60_000, OFFSET);

export const problems = [];
export const RX = (dosesAuthorized) => ({
  medication: 'ketamine',
  route: 'sublingual',
  formulation: 'sublingual-lozenge',
  doseMg: 300,
  dosesAuthorized,
});
export const FULL = { kind: 'full', doseMg: 300, route: 'sublingual', formulation: 'sublingual-lozenge' };
/** The payload of a full dose of the prescription in session `sessionId`, with `changes`. */
export const fullDose = (sessionId, changes = {}) => ({ sessionId, ...FULL, ...changes });
/** The payload of a booster dose of `doseMg` in session `sessionId`. */
export const booster = (sessionId, doseMg) => fullDose(sessionId, { kind: 'booster', doseMg });
export const NORMAL = { systolic: 122, diastolic: 78, heartRate: 72, spo2: 98 };
export const PHQ9_BASELINE = [2, 2, 2, 2, 1, 2, 1, 1, 0];

/**
 * A synthetic episode. Events are one minute apart unless `at` (days after T0) is given; `recordedAt` defaults
 * to the later of `at` and the latest time so far (a late entry is written now); `recordedBy` to the event
 * type's primary role.
 */
export function story(name) {
  let n = 0;
  let clock = 0;
  const s = {
    state: initialEpisodeState,
    sent: [],
    lastDay: 0,
    ev(type, payload = {}, o = {}) {
      const at = o.at ?? clock + MINUTE;
      const recordedAt = o.recordedAt ?? Math.max(at, clock);
      s.lastDay = at;
      return {
        id: o.id ?? `${name}-e${++n}`,
        episodeId: name,
        patientId: `pt-synthetic-${name}`,
        type,
        at: dayAt(at),
        recordedAt: dayAt(recordedAt),
        v: EVENT_SCHEMA_VERSION,
        recordedBy: o.recordedBy ?? primaryRole(type),
        synthetic: true,
        ...payload,
      };
    },
    /** Decide an event (built by `ev`, or given as is with `o.raw`); apply it when accepted. */
    add(type, payload, o = {}) {
      s.lastDay = clock;
      const e = o.raw ?? s.ev(type, payload, o);
      const d = decide(s.state, e, o.now === undefined ? {} : { now: dayAt(o.now) });
      if (d.ok) {
        // The clock of the story moves with accepted events only.
        clock = Math.max(clock, s.lastDay);
        s.state = d.state;
        s.sent.push(e);
      }
      return { ...d, sent: e };
    },
    /** An event that must be accepted. */
    must(type, payload, o) {
      const d = s.add(type, payload, o);
      if (!d.ok) problems.push(`${name}: ${type} refused (${d.refusal.code}: ${d.refusal.message})`);
      return d;
    },
    /** The result of an event, checked: `expected` is the phase after it, or the refusal code. */
    expect(list, what, type, payload, o, expected) {
      const d = s.add(type, payload, o);
      const got = d.ok ? phaseOf(d.state) : d.refusal.code;
      if (got !== expected) {
        problems.push(
          `${name}: ${what}: expected ${expected}, got ${got}${d.ok ? '' : ` (${d.refusal.message})`}`,
        );
      }
      list?.push({ what, d });
      return d;
    },
    status(day) {
      return statusAt(s.state, dayAt(day));
    },
  };
  return s;
}

export const CONSENT_DOC = 'KAP consent v3 (2026-01)';

/**
 * Opened, eligible, consent to KAP (unless `consent` is false), planned (with `titration` if given), prescribed
 * (300 mg sublingual lozenges), supplied, trained, baseline PHQ-9, prepared.
 */
export function prepare(
  s,
  { planned = 4, supply = 4, monitoring = [{ instrument: 'phq9' }], consent = true, titration, opened } = {},
) {
  if (opened) s.must('EpisodeOpened', null, { raw: opened });
  else s.must('EpisodeOpened', {});
  s.must('FitAssessed', { outcome: 'good-fit' });
  s.must('MedicalEvaluationScheduled', { scheduledFor: dayAt(0.5), mode: 'telehealth' });
  s.must('MedicalEvaluationCompleted', { eligible: true });
  if (consent) s.must('InformedConsentRecorded', { scope: ['kap'], documentVersion: CONSENT_DOC });
  s.must('TreatmentPlanCreated', {
    plannedDosingSessions: planned,
    monitoring: { measures: monitoring },
    ...(titration ? { titration } : {}),
  });
  s.must('PrescriptionIssued', RX(supply));
  s.must('MedicationDelivered', { doses: supply });
  s.must('SelfAdministrationTrained', { vitalsTrained: true, selfAdministrationTrained: true });
  s.must('AssessmentRecorded', { instrument: 'phq9', responses: PHQ9_BASELINE, context: 'baseline' });
  s.must('PreparationSessionCompleted', { mode: 'in-person', intentionsSet: true });
}

/** A new story (`name` is its episode id), prepared as `prepare` does, with session `a` booked on day 1 for day 2. */
export function preparedAndBooked(name) {
  const s = story(name);
  prepare(s);
  s.must('DosingSessionScheduled', { sessionId: 'a', scheduledFor: dayAt(2), mode: 'in-person' }, { at: 1 });
  return s;
}

/**
 * A dosing session booked on day `bookedAt` for day `day` (`mode` in-person unless given; `chaperone` for a
 * remote one), and its normal pre-dose vitals taken at that time (by `vitalsBy` if given): ready for a dose.
 */
export function bookedWithVitals(s, sessionId, { bookedAt, day, mode = 'in-person', chaperone, vitalsBy }) {
  const booking = { sessionId, scheduledFor: dayAt(day), mode, ...(chaperone ? { chaperone } : {}) };
  s.must('DosingSessionScheduled', booking, { at: bookedAt });
  s.must(
    'VitalsRecorded',
    { sessionId, phase: 'pre', ...NORMAL },
    { at: day, ...(vitalsBy ? { recordedBy: vitalsBy } : {}) },
  );
}

/** A dosing session on `day`: booked, pre-dose vitals, a full dose, post-dose vitals 2 h later, completed; integration the next day. */
export function dosingSession(s, sessionId, day, { integrate = true } = {}) {
  bookedWithVitals(s, sessionId, { bookedAt: day, day: day + 5 * MINUTE });
  s.must('DoseAdministered', fullDose(sessionId), { at: day + 10 * MINUTE });
  s.must('VitalsRecorded', { sessionId, phase: 'post', ...NORMAL }, { at: day + 130 * MINUTE });
  s.must('DosingSessionCompleted', { sessionId, durationMinutes: 125 }, { at: day + 135 * MINUTE });
  if (integrate) s.must('IntegrationSessionCompleted', { mode: 'telehealth', sessionId }, { at: day + 1 });
}

/** How a case ended, for the tables: the phase it left the episode in, or the refusal code. */
function outcome(d) {
  if (d.ok) return `accepted (${code(phaseOf(d.state))})`;
  const inv = d.refusal.invalidates;
  return `refused ${code(d.refusal.code)}${inv ? `, invalidates the ${code(inv.type)} of ${inv.at.slice(0, 10)} (${code(inv.code)})` : ''}`;
}

export function casesTable(list) {
  return table(
    ['Case', 'Result'],
    list.map((c) => [esc(c.what), c.d ? outcome(c.d) : esc(c.result)]),
  );
}
