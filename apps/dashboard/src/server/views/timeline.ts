/** The patient page's session timeline: how each recorded event reads, voided and late entries marked. */

import type { EpisodeContext, EpisodeEvent } from '@kapkit/core';
import type { TimelineEntry } from '../../shared/api.js';

function mmHg(v: { systolic: number; diastolic: number }): string {
  return `${v.systolic}/${v.diastolic} mmHg`;
}

/**
 * The session timeline: every step of the course except assessments (they are in the assessment table), a
 * dosing session as one entry with its vitals and dose.
 */
export function timelineOf(events: readonly EpisodeEvent[], context: EpisodeContext): TimelineEntry[] {
  const entries = timelineEntries(events, context);
  // Every entry knows its event: voided ones are struck through, late ones say when they were written.
  const voided = new Map<string, { at: string; reason: string }>();
  for (const e of events) {
    if (e.type === 'EventVoided') voided.set(e.voidedEventId, { at: e.at, reason: e.reason });
  }
  const byId = new Map(events.map((e) => [e.id, e]));
  return entries
    .map((x) => {
      const e = byId.get(x.eventId)!;
      const late = Date.parse(e.recordedAt) - Date.parse(e.at) > LATE_ENTRY_MS;
      const v = voided.get(x.eventId);
      return {
        ...x,
        recordedAt: e.recordedAt,
        recordedBy: e.recordedBy,
        late,
        voided: v ? { at: v.at, reason: v.reason } : null,
        voidable: !v && e.type !== 'EpisodeOpened' && e.type !== 'EventVoided',
      };
    })
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

/** An entry written more than a day after it happened is shown as a late entry. kapkit display default. */
const LATE_ENTRY_MS = 24 * 3_600_000;

type BareEntry = Omit<TimelineEntry, 'recordedAt' | 'recordedBy' | 'late' | 'voided' | 'voidable'>;

/** A timeline entry's kind, title and detail. */
type EntryText = Pick<BareEntry, 'kind' | 'title' | 'detail'>;

/** What an entry may look up besides its event. */
interface TimelineSources {
  readonly events: readonly EpisodeEvent[];
  readonly context: EpisodeContext;
  readonly sessions: ReadonlyMap<string, EpisodeContext['sessions'][number]>;
}

/** A dosing session's entry, on its completion or abort. */
function dosingEntry(
  e: Extract<EpisodeEvent, { type: 'DosingSessionCompleted' | 'DosingSessionAborted' }>,
  src: TimelineSources,
): EntryText {
  const s = src.sessions.get(e.sessionId);
  const dose = s?.doses[0];
  const pre = s?.preVitals[s.preVitals.length - 1];
  const post = s?.otherVitals.filter((v) => v.phase === 'post').at(-1);
  const parts = [
    dose ? `${dose.kind} dose ${dose.doseMg} mg ${dose.route}` : 'no dose',
    s && s.doses.length > 1 ? `+ ${s.doses.length - 1} booster(s)` : '',
    pre ? `pre ${mmHg(pre)}${pre.aboveHold ? ' (above hold)' : ''}` : '',
    dose?.vitalsOverride ? 'hold overridden by a clinician' : '',
    post ? `post ${mmHg(post)}` : '',
    e.type === 'DosingSessionCompleted' && e.durationMinutes ? `${e.durationMinutes} min` : '',
    e.type === 'DosingSessionAborted' ? `aborted: ${e.reason.replaceAll('-', ' ')}` : '',
    s ? s.mode : '',
  ].filter(Boolean);
  return {
    kind: 'dosing',
    title: s?.doseNumber ? `Dosing session ${s.doseNumber}` : 'Dosing session (no dose)',
    detail: parts.join('; '),
  };
}

/** How each event type reads on the timeline (types not listed are not shown). */
const timelineText: {
  readonly [T in EpisodeEvent['type']]?: (
    e: Extract<EpisodeEvent, { type: T }>,
    src: TimelineSources,
  ) => EntryText;
} = {
  EpisodeOpened: (e) => ({
    kind: 'course',
    title: 'Episode opened',
    detail: e.referral ? `Referral: ${e.referral}` : '',
  }),
  FitAssessed: (e) => ({
    kind: 'course',
    title: 'Fit discussion',
    detail: e.outcome.replaceAll('-', ' '),
  }),
  MedicalEvaluationScheduled: (e) => ({
    kind: 'medical',
    title: 'Medical evaluation booked',
    detail: `${e.mode}, for ${e.scheduledFor.slice(0, 10)}`,
  }),
  MedicalEvaluationCompleted: (e) => ({
    kind: 'medical',
    title: 'Medical evaluation',
    detail: `${e.eligible ? 'eligible' : 'not eligible'}${e.contraindications.length ? `; recorded: ${e.contraindications.join(', ')}` : ''}`,
  }),
  TreatmentPlanCreated: (e) => ({
    kind: 'course',
    title: 'Treatment plan',
    detail: `${e.plannedDosingSessions} dosing sessions; monitoring ${e.monitoring.measures.map((m) => m.instrument).join(', ')}`,
  }),
  PrescriptionIssued: (e) => ({
    kind: 'medication',
    title: 'Prescription',
    detail: `${e.doseMg} mg ${e.route} (${e.formulation}), ${e.dosesAuthorized} doses authorised`,
  }),
  MedicationDelivered: (e) => ({
    kind: 'medication',
    title: 'Medication delivered',
    detail: `${e.doses} dose(s)`,
  }),
  RefillIssued: (e) => ({
    kind: 'medication',
    title: 'Refill',
    detail: `${e.dosesAuthorized} dose(s) authorised`,
  }),
  SelfAdministrationTrained: (e) => ({
    kind: 'medical',
    title: 'Training',
    detail: `vitals ${e.vitalsTrained ? 'trained' : 'not trained'}, self-administration ${e.selfAdministrationTrained ? 'trained' : 'not trained'}`,
  }),
  PreparationSessionCompleted: (e) => ({
    kind: 'preparation',
    title: 'Preparation session',
    detail: `${e.mode}${e.intentionsSet ? ', intentions set' : ''}`,
  }),
  IntegrationSessionCompleted: (e) => ({ kind: 'integration', title: 'Integration session', detail: e.mode }),
  DosingSessionCompleted: dosingEntry,
  DosingSessionAborted: dosingEntry,
  AdverseEventReported: (e) => ({
    kind: 'adverse-event',
    title: 'Adverse event',
    detail: `${e.code.replaceAll('-', ' ')} (${e.severity})`,
  }),
  MedicalFollowUpCompleted: (e) => ({
    kind: 'medical',
    title: 'Medical follow-up',
    detail: e.continueTreatment ? 'continue treatment' : 'do not continue',
  }),
  AssessmentRecorded: (e, src) => {
    const a = src.context.assessments.find((x) => x.eventId === e.id);
    return {
      kind: 'assessment',
      title: `${e.instrument.toUpperCase()} ${e.recordedBy === 'patient' ? '(patient-reported)' : ''}`.trim(),
      detail: a
        ? `total ${a.total === null ? 'not scorable' : Number(a.total.toFixed(2))}${a.severity ? ` (${a.severity.replaceAll('-', ' ')})` : ''}${e.context ? `; ${e.context}` : ''}`
        : 'entered in error',
    };
  },
  AdverseEventReviewed: (e) => ({
    kind: 'safety',
    title: 'Adverse event reviewed',
    detail: e.outcome.replaceAll('-', ' '),
  }),
  EventVoided: (e, src) => {
    const target = src.events.find((x) => x.id === e.voidedEventId);
    return {
      kind: 'correction',
      title: 'Entered in error',
      detail: `${target ? target.type.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase() : 'an event'} of ${target ? target.at.slice(0, 10) : '?'} voided: ${e.reason}`,
    };
  },
  SafetyFlagReviewed: (e) => ({
    kind: 'safety',
    title: 'Safety flag reviewed',
    detail: `${e.rule}: ${e.outcome.replaceAll('-', ' ')}`,
  }),
  InformedConsentRecorded: (e) => ({
    kind: 'course',
    title: 'Informed consent',
    detail: `${e.scope.map((x) => x.replaceAll('-', ' ')).join(', ')}; ${e.documentVersion}`,
  }),
  ConsentWithdrawn: (e) => ({
    kind: 'course',
    title: `Consent withdrawn${e.recordedBy === 'patient' ? ' (by the patient)' : ''}`,
    detail: e.scope.map((x) => x.replaceAll('-', ' ')).join(', '),
  }),
  MedicationsReviewed: (e) => ({
    kind: 'medical',
    title: 'Medications reviewed',
    detail: e.medications.length
      ? e.medications
          .map(
            (m) =>
              `${m.name}${m.dailyDose !== undefined ? ` ${m.dailyDose} ${m.unit ?? 'mg'}/day` : ''} (${m.class})`,
          )
          .join('; ')
      : 'none',
  }),
  MaintenancePlanned: (e) => ({
    kind: 'medical',
    title: 'Maintenance planned',
    detail: `every ${e.intervalDays} days${e.reason ? `; ${e.reason}` : ''}`,
  }),
  EpisodePaused: (e) => ({ kind: 'course', title: 'Paused', detail: e.reason.replaceAll('-', ' ') }),
  EpisodeResumed: (_e) => ({ kind: 'course', title: 'Resumed', detail: '' }),
  EpisodeCompleted: (_e) => ({ kind: 'course', title: 'Course completed', detail: '' }),
  EpisodeDiscontinued: (e) => ({
    kind: 'course',
    title: 'Course discontinued',
    detail: e.reason.replaceAll('-', ' '),
  }),
};

function timelineEntries(events: readonly EpisodeEvent[], context: EpisodeContext): BareEntry[] {
  const src: TimelineSources = {
    events,
    context,
    sessions: new Map(context.sessions.map((s) => [s.sessionId, s])),
  };
  const out: BareEntry[] = [];
  for (const e of events) {
    const text = timelineText[e.type] as ((e: EpisodeEvent, src: TimelineSources) => EntryText) | undefined;
    if (text) out.push({ at: e.at, ...text(e, src), eventId: e.id, type: e.type });
  }
  return out;
}
