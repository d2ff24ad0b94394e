import { MINUTE_MS } from './clock.js';
import type { CourseWriter } from './course-writer.js';
import type { SessionMode } from './episode-log.js';
import { clamp, overrideReasons } from './profile.js';

/*
 * One simulated dosing session, in stages. Each stage draws from the patient's generator in the order the
 * single function it was split from did: the demo output is pinned byte for byte, so a stage must not draw
 * earlier, later or more often than before.
 */

/** A booked session: its id and the epoch ms of a minute offset from its start. */
interface BookedSession {
  readonly sessionId: string;
  readonly day: number;
  min(minutes: number): number;
}

/** What the pre-dose check leaves for the dose: when (minutes from the start), the blood pressure, any override. */
interface PreDose {
  readonly t: number;
  readonly sys: number;
  readonly dia: number;
  readonly override: { clinicianRole: 'medical' | 'therapist'; reason: string } | undefined;
}

/** Options of one session. */
export interface SessionOptions {
  /** A serious adverse event in this session (the course ends after it). */
  readonly seriousAdverseEvent: boolean;
  /** A booster after the dose, when half a unit is on hand. */
  readonly booster: boolean;
}

/**
 * One dosing session on `day`: scheduled, pre-dose vitals (a hold is re-measured, overridden with a reason, or
 * ends the session), dose (and booster), adverse events, post-dose vitals, completed or aborted. `w.dosed`
 * tells whether a dose was given.
 */
export function dosingSession(w: CourseWriter, day: number, opts: SessionOptions): void {
  const session = book(w, day);
  if (session === null) return;
  const pre = preDoseVitals(w, session);
  if (pre === null) return;
  const { t, lastDose } = administer(w, session, pre, opts.booster);
  const rng = w.rng;
  if (rng.chance(0.3))
    w.vitals(session.sessionId, 'during', session.min(t + rng.int(38, 50)), pre.sys + 12, pre.dia + 6);
  // Observed at least 2 hours after the last dose (esketamine REMS; the policy's observation time).
  const postAt = lastDose + rng.int(120, 150);
  if (!adverseEvents(w, session, pre, t, opts.seriousAdverseEvent)) return;
  observeAndComplete(w, session, pre, postAt);
}

/** Schedule the session (mode, start time); a remote session may end at once on a technical failure (null). */
function book(w: CourseWriter, day: number): BookedSession | null {
  const { rng, p, log } = w;
  w.sessionCount++;
  const sessionId = `${log.episodeId}-s${String(w.sessionCount).padStart(2, '0')}`;
  const mode: SessionMode = rng.chance(0.15) ? (p.mode === 'in-person' ? 'telehealth' : 'in-person') : p.mode;
  // After whatever the day already holds (a late delivery, the pre-dose measures), so the session keeps its timing.
  const start = Math.max(log.at(day, w.time(9, 15)), log.lastMs + 30 * MINUTE_MS);
  const min = (m: number) => start + m * MINUTE_MS;
  log.add(
    'DosingSessionScheduled',
    { sessionId, scheduledFor: log.clock.format(start), mode, chaperone: mode === 'telehealth' },
    min(-rng.int(5, 20)),
    'therapist',
  );
  if (mode === 'telehealth' && rng.chance(0.01)) {
    const end = min(rng.int(10, 25));
    log.add('DosingSessionAborted', { sessionId, reason: 'technical' }, end, 'therapist');
    return null;
  }
  return { sessionId, day, min };
}

/**
 * Pre-dose vitals. Above the hold line (140/90) the reading is re-measured, overridden by the medical team, or
 * the session is aborted; rarely the patient declines. Null when the session ended without a dose.
 */
function preDoseVitals(w: CourseWriter, s: BookedSession): PreDose | null {
  const { rng, p, log } = w;
  const { sessionId, min } = s;
  let t = rng.int(0, 5);
  let sys = p.systolic + rng.normal(0, 5);
  let dia = p.diastolic + rng.normal(0, 3.5);
  w.vitals(sessionId, 'pre', min(t), sys, dia);
  let override: PreDose['override'];
  if (Math.round(sys) > 140 || Math.round(dia) > 90) {
    const handling = rng.weighted([
      ['re-measure', 55],
      ['override', 30],
      ['abort', 15],
    ] as const);
    if (handling === 'abort') {
      const end = min(t + rng.int(20, 35));
      log.add('DosingSessionAborted', { sessionId, reason: 'vitals-hold' }, end, 'therapist');
      return null;
    }
    if (handling === 're-measure') {
      t += rng.int(15, 20);
      sys = Math.min(sys - rng.uniform(4, 12), 138);
      dia = Math.min(dia - rng.uniform(2, 6), 88);
      w.vitals(sessionId, 'pre', min(t), sys, dia);
    } else {
      // A vitals-hold override is the medical team's decision (permission table).
      override = { clinicianRole: 'medical', reason: rng.pick(overrideReasons) };
    }
  }
  if (rng.chance(0.006)) {
    const end = min(t + rng.int(10, 25));
    log.add('DosingSessionAborted', { sessionId, reason: 'patient-declined' }, end, 'therapist');
    return null;
  }
  return { t, sys, dia, override };
}

/** The dose (half the first time when titrating) and an optional booster; the minutes of the dose and the last. */
function administer(
  w: CourseWriter,
  s: BookedSession,
  pre: PreDose,
  booster: boolean,
): { t: number; lastDose: number } {
  const { rng, p, log } = w;
  const { sessionId, min } = s;
  const half = p.halfFirstDose && w.dosed === 0;
  const t = pre.t + rng.int(5, 10);
  log.add(
    'DoseAdministered',
    {
      sessionId,
      kind: half ? 'half' : 'full',
      doseMg: half ? p.doseMg / 2 : p.doseMg,
      route: 'sublingual',
      formulation: 'sublingual-lozenge',
      ...(pre.override ? { vitalsOverride: pre.override } : {}),
    },
    min(t),
    // The patient records the dose they take; a dose under a medical override is recorded by the therapist.
    pre.override ? 'therapist' : 'patient',
  );
  let lastDose = t;
  w.used += half ? 0.5 : 1;
  w.dosed++;
  w.lastDoseMs = min(t);
  if (w.followUpDueDay === null) w.followUpDueDay = s.day + rng.int(27, 34);
  if (booster && w.onHand >= 0.5) {
    lastDose = t + rng.int(20, 40);
    log.add(
      'DoseAdministered',
      {
        sessionId,
        kind: 'booster',
        // Half the prescribed dose (the booster policy's most), so it uses half a unit.
        doseMg: p.doseMg / 2,
        route: 'sublingual',
        formulation: 'sublingual-lozenge',
      },
      min(lastDose),
      'patient',
    );
    w.used += 0.5;
  }
  return { t, lastDose };
}

/**
 * Adverse events after the dose (at minute `t`): a serious one (escalated), vomiting (the session stops: false),
 * or a mild or moderate one (a moderate one is reviewed the next day). True when the session goes on.
 */
function adverseEvents(
  w: CourseWriter,
  s: BookedSession,
  pre: PreDose,
  t: number,
  serious: boolean,
): boolean {
  const { rng, log } = w;
  const { sessionId, min, day } = s;
  if (serious) {
    const ae = log.add(
      'AdverseEventReported',
      {
        sessionId,
        code: rng.pick(['dissociation-distress', 'elevated-blood-pressure', 'anxiety'] as const),
        severity: rng.chance(0.7) ? 'severe' : 'serious',
      },
      min(t + rng.int(30, 60)),
      'therapist',
    );
    w.reviewAdverseEvent(ae, day, 'escalated', 'medical');
  } else if (rng.chance(0.006)) {
    // vomiting soon after the dose: the session is stopped (a dose was given, so it still counts)
    const ae = log.add(
      'AdverseEventReported',
      { sessionId, code: 'vomiting', severity: 'moderate' },
      min(t + rng.int(15, 35)),
      'therapist',
    );
    w.reviewAdverseEvent(ae, day, 'no-current-risk', 'medical');
    w.vitals(sessionId, 'post', min(t + rng.int(40, 55)), pre.sys + 6, pre.dia + 3);
    const end = min(t + rng.int(60, 70));
    log.add('DosingSessionAborted', { sessionId, reason: 'adverse-event' }, end, 'therapist');
    return false;
  } else if (rng.chance(0.12)) {
    const severity = rng.chance(0.85) ? 'mild' : 'moderate';
    const ae = log.add(
      'AdverseEventReported',
      {
        sessionId,
        code: rng.weighted([
          ['nausea', 50],
          ['headache', 15],
          ['dizziness', 15],
          ['anxiety', 15],
          ['dissociation-distress', 5],
        ] as const),
        severity,
      },
      min(t + rng.int(30, 90)),
      'therapist',
    );
    if (severity === 'moderate') w.reviewAdverseEvent(ae, day, 'no-current-risk', 'therapist');
  }
  return true;
}

/** Post-dose vitals at minute `postAt` (measured again while above the hold line), then completion. */
function observeAndComplete(w: CourseWriter, s: BookedSession, pre: PreDose, postAt: number): void {
  const { rng, log } = w;
  const { sessionId, min } = s;
  const postSys = pre.sys + rng.normal(4, 4);
  const postDia = pre.dia + rng.normal(2, 3);
  w.vitals(sessionId, 'post', min(postAt), postSys, postDia);
  if (Math.round(clamp(postSys, 85, 200)) > 140 || Math.round(clamp(postDia, 50, 120)) > 90) {
    // Still above the hold threshold: the patient rests and is measured again before going home.
    postAt += rng.int(20, 40);
    w.vitals(
      sessionId,
      'post',
      min(postAt),
      Math.min(postSys - rng.uniform(6, 12), 136),
      Math.min(postDia - rng.uniform(3, 6), 86),
    );
  }
  const endMin = postAt + rng.int(5, 20);
  log.add('DosingSessionCompleted', { sessionId, durationMinutes: endMin }, min(endMin), 'therapist');
}
