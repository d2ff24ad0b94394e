import {
  analyzeCriticalPeriods,
  DAY_MS,
  dosedSessions,
  type EpisodeContext,
  type EpisodeEvent,
  locateInCriticalPeriods,
  projectEpisodes,
  windowMsFromDays,
} from '@kapkit/core/read';
import type { OutcomeRecord, PatientCourse } from './records.js';

/** Outcome records and per-patient critical-period facts read from episodes. */
export interface EpisodeRecords {
  readonly records: OutcomeRecord[];
  readonly courses: Map<string, PatientCourse>;
}

/**
 * Turn episode contexts (from `projectEpisodes` or `replay`) into outcome records: one per scorable
 * assessment, with days since the episode opened, the first-dose day, dose number, days since the last dose
 * and whether it fell inside a critical period. The unit of analysis is the patient; a patient with several
 * episodes gets one unit per episode (`patientId/episodeId`).
 */
export function recordsFromEpisodes(contexts: Iterable<EpisodeContext>): EpisodeRecords {
  const list = [...contexts].filter((c) => c.openedAt !== null && c.patientId !== null);
  const perPatient = new Map<string, number>();
  for (const c of list) perPatient.set(c.patientId!, (perPatient.get(c.patientId!) ?? 0) + 1);
  const records: OutcomeRecord[] = [];
  const courses = new Map<string, PatientCourse>();
  for (const c of list) {
    const unit = perPatient.get(c.patientId!)! > 1 ? `${c.patientId}/${c.episodeId}` : c.patientId!;
    const origin = Date.parse(c.openedAt!);
    const doses = dosedSessions(c).map((s) => ({ at: s.doses[0]!.at, sessionId: s.sessionId }));
    const end = c.closed?.at ?? c.lastEventAt ?? c.openedAt!;
    const analysis = analyzeCriticalPeriods(doses, {
      windowMs: windowMsFromDays(c.policy.criticalPeriodDays),
      until: end,
    });
    const firstDoseDay = doses[0] ? (Date.parse(doses[0].at) - origin) / DAY_MS : null;
    for (const a of c.assessments) {
      if (a.total === null) continue;
      const where = doses.length ? locateInCriticalPeriods(analysis, a.at) : null;
      records.push({
        patientId: unit,
        instrument: a.instrument,
        day: (Date.parse(a.at) - origin) / DAY_MS,
        score: a.total,
        firstDoseDay,
        doseNumber: where?.doseNumber ?? 0,
        daysSinceLastDose: where?.daysSinceLastDose ?? null,
        inCriticalPeriod: where ? where.inside : null,
      });
    }
    courses.set(unit, {
      patientId: unit,
      doses: doses.length,
      coverage: analysis.coverage?.fraction ?? null,
      longestChain: analysis.longestChain?.doses.length ?? 0,
      medicationClasses: medicationClassesAtFirstDose(c, doses[0]?.at ?? null),
    });
  }
  return { records, courses };
}

/** Classes of the medication review in force at the first dose (else the first review), or null without one. */
function medicationClassesAtFirstDose(c: EpisodeContext, firstDoseAt: string | null): string[] | null {
  let chosen: EpisodeEvent | null = null;
  const limit = firstDoseAt === null ? Number.POSITIVE_INFINITY : Date.parse(firstDoseAt);
  for (const e of c.history) {
    if (e.type !== 'MedicationsReviewed') continue;
    if (chosen === null || Date.parse(e.at) <= limit) chosen = e;
  }
  if (chosen === null || chosen.type !== 'MedicationsReviewed') return null;
  return [...new Set(chosen.medications.map((m) => m.class))].sort();
}

/** Records straight from an accepted event log (read-side projection; no state machine). */
export function recordsFromEvents(events: Iterable<EpisodeEvent>): EpisodeRecords {
  return recordsFromEpisodes(projectEpisodes(events).values());
}
