import * as z from 'zod';
import { doseUnits, medicationClassIds } from './medications.js';
import { defaultPermissions, type PermissionTable, primaryRoleOf } from './permissions.js';
import {
  abortReasons,
  adverseEventCodes,
  adverseEventSeverities,
  assessmentContexts,
  consentScopes,
  contraindicationCodes,
  discontinuationReasons,
  doseKinds,
  formulations,
  pauseReasons,
  recordedByRoles,
  reviewOutcomes,
  routes,
  sessionModes,
} from './vocabularies.js';

export type { ConsentScope, Role } from './vocabularies.js';

/**
 * Domain events of a KAP episode. Every fact is an immutable, timestamped event; an episode's state is a fold
 * of its events. Each event has `id` (unique, for idempotent writes), `episodeId`, `patientId`, `type`, two
 * times (`at`: when it happened, clinical time; `recordedAt`: when it was written), who recorded it
 * (`recordedBy`, a role, and an optional opaque `actorId`), `v` (schema version) and a typed payload.
 */

/**
 * Current schema version of every event type. Version 2 added `recordedAt`, made `recordedBy` required and
 * added `actorId`; version 1 events are upcast on reading (see {@link upcastEvent}).
 */
export const EVENT_SCHEMA_VERSION = 2;

const isoWithOffset = z.iso.datetime({ offset: true }).meta({
  description: 'ISO 8601 date-time with a UTC offset (Z or ±HH:MM), e.g. 2026-03-02T10:00:00-05:00.',
});

const text = z.string().max(4000);
const id = z.string().min(1).max(200);

const reason = z.string().min(1).max(2000);

const envelope = {
  id: id.meta({ description: 'Unique event id (idempotency key).' }),
  episodeId: id.meta({ description: 'The episode (one course of KAP for one patient).' }),
  patientId: id.meta({
    description: 'Patient identifier as used by the clinic; pseudonymised on research export.',
  }),
  at: isoWithOffset.meta({
    description:
      'When it happened (clinical time), ISO 8601 with a UTC offset. Status, alerts and analytics use this time.',
  }),
  recordedAt: isoWithOffset.meta({
    description:
      'When it was written (recording time), set by the writer. `at` may not be later than `recordedAt` (or the clock of whoever checks it) by more than the policy clock tolerance. Version 1 events are upcast with `recordedAt = at`.',
  }),
  v: z.literal(EVENT_SCHEMA_VERSION).meta({ description: 'Event schema version.' }),
  recordedBy: z.enum(recordedByRoles).meta({
    description:
      'The role of whoever recorded the event; the permission table says which role may record which event type.',
  }),
  actorId: id.optional().meta({
    description:
      'Opaque id of the person who recorded it (e.g. a user id); pseudonymised on research export.',
  }),
  synthetic: z
    .boolean()
    .optional()
    .meta({ description: 'True for generated demo data. Never true for real patients.' }),
  note: text.optional().meta({ description: 'Free text. Dropped from de-identified exports.' }),
};

const monitoredMeasure = z.object({
  instrument: z
    .string()
    .min(1)
    .meta({ description: 'Instrument id, e.g. phq9 (case-insensitive, hyphens ignored).' }),
  baseline: z.boolean().default(true).meta({ description: 'Due before the first dose.' }),
  beforeEachDoseWithinDays: z
    .number()
    .positive()
    .optional()
    .meta({ description: 'Due within this many days before each dosing session.' }),
  everyDays: z
    .number()
    .positive()
    .optional()
    .meta({ description: 'Due at least this often while the episode is active.' }),
});

/** An outcome-monitoring plan: which measures are due when. */
const monitoringPlanSchema = z.object({ measures: z.array(monitoredMeasure).min(1) });

const policyOverrides = z
  .strictObject({
    criticalPeriodDays: z.number().positive().max(365),
    holdSystolicAbove: z.number().int().min(60).max(260),
    holdDiastolicAbove: z.number().int().min(30).max(160),
    requirePreparationBeforeFirstDose: z.boolean(),
    requireTrainingBeforeFirstDose: z.boolean(),
    minIntegrationSessionsBetweenDoses: z.number().int().min(0).max(10),
    requirePreDoseVitals: z.boolean(),
    requirePostDoseVitalsToComplete: z.boolean(),
    followUpIntervalDays: z.number().positive().max(366),
    refuseDoseWhenFollowUpOverdue: z.boolean(),
    refillRequiresFollowUp: z.boolean(),
    lowSupplyDoses: z.number().min(0),
    measureGraceDays: z.number().min(0).max(90),
    chainWarningDays: z.number().min(0).max(30),
    requireInformedConsent: z.boolean(),
  })
  .partial()
  .meta({
    description:
      'Per-episode overrides of the kapkit default policy (see EpisodePolicy). Safety-layer rules are clinic-level only: naming one here is refused, not ignored.',
  });

const vitals = {
  systolic: z.number().int().min(40).max(300).meta({ description: 'Systolic blood pressure, mmHg.' }),
  diastolic: z.number().int().min(20).max(200).meta({ description: 'Diastolic blood pressure, mmHg.' }),
  heartRate: z
    .number()
    .int()
    .min(20)
    .max(250)
    .optional()
    .meta({ description: 'Heart rate, beats per minute.' }),
  spo2: z.number().min(50).max(100).optional().meta({ description: 'Oxygen saturation, %.' }),
};

function event<T extends string, S extends z.ZodRawShape>(type: T, shape: S, description: string) {
  return z.object({ ...envelope, type: z.literal(type), ...shape }).meta({ title: type, description });
}

const EpisodeOpened = event(
  'EpisodeOpened',
  {
    policy: policyOverrides.optional(),
    referral: z.enum(['therapist', 'medical', 'self']).optional(),
  },
  'A KAP episode begins: the therapist and patient start discussing intentions, concerns and fit.',
);
const FitAssessed = event(
  'FitAssessed',
  { outcome: z.enum(['good-fit', 'not-a-fit', 'needs-more-discussion']) },
  'Therapist and patient discussed intentions, concerns and fit for KAP.',
);
const MedicalEvaluationScheduled = event(
  'MedicalEvaluationScheduled',
  { scheduledFor: isoWithOffset, mode: z.enum(sessionModes) },
  'The initial medical evaluation (usually telehealth) is booked.',
);
const MedicalEvaluationCompleted = event(
  'MedicalEvaluationCompleted',
  {
    eligible: z.boolean(),
    contraindications: z.array(z.enum(contraindicationCodes)).default([]),
    contraindicationOverride: z.object({ reason }).optional().meta({
      description:
        'The medical team finds the patient eligible despite an absolute contraindication, with the reason.',
    }),
  },
  'The medical team reviewed history, educated the patient and decided eligibility (again during treatment: a re-evaluation).',
);
const TreatmentPlanCreated = event(
  'TreatmentPlanCreated',
  {
    plannedDosingSessions: z.number().int().min(1).max(60),
    monitoring: monitoringPlanSchema,
    criticalPeriodDays: z.number().positive().max(365).optional(),
    followUpIntervalDays: z.number().positive().max(366).optional(),
    titration: z
      .array(
        z.object({
          fromSession: z.number().int().min(1).max(60).meta({
            description: 'The dosing session (1-based, counting sessions with a dose) the step starts at.',
          }),
          doseMg: z
            .number()
            .positive()
            .max(2000)
            .meta({ description: 'Planned first dose of the session, mg.' }),
        }),
      )
      .min(1)
      .max(60)
      .optional()
      .meta({
        description:
          'Planned dose steps (titration), e.g. a half dose first: [{ fromSession: 1, doseMg: 100 }, { fromSession: 2, doseMg: 200 }]: the first step starts at session 1, later ones at increasing sessions (else the plan is refused, invalid-event). The last step holds for later sessions. A dose that departs from its step needs a reason.',
      }),
  },
  'The personalised treatment plan with its outcome-monitoring plan (and, optionally, its dose titration).',
);
const PrescriptionIssued = event(
  'PrescriptionIssued',
  {
    medication: z.literal('ketamine'),
    route: z.enum(routes),
    formulation: z.enum(formulations),
    doseMg: z.number().positive().max(2000).meta({ description: 'Prescribed dose per administration, mg.' }),
    dosesAuthorized: z
      .number()
      .int()
      .min(1)
      .max(100)
      .meta({ description: 'Doses (units) the prescription authorises.' }),
  },
  'The medical team prescribes ketamine.',
);
const MedicationDelivered = event(
  'MedicationDelivered',
  { doses: z.number().int().min(1).max(100), lot: z.string().max(100).optional() },
  'Medication reached the patient (e.g. shipped home); adds doses on hand.',
);
const SelfAdministrationTrained = event(
  'SelfAdministrationTrained',
  { vitalsTrained: z.boolean(), selfAdministrationTrained: z.boolean() },
  'The medical team taught the patient to take their own vitals and self-administer.',
);
const PreparationSessionCompleted = event(
  'PreparationSessionCompleted',
  { mode: z.enum(sessionModes), intentionsSet: z.boolean().optional() },
  'A preparation session (align on the process, set intentions) took place.',
);
const DosingSessionScheduled = event(
  'DosingSessionScheduled',
  {
    sessionId: id,
    scheduledFor: isoWithOffset,
    mode: z.enum(sessionModes),
    chaperone: z.boolean().optional().meta({ description: 'A chaperone checks in (remote sessions).' }),
  },
  'A dosing session is booked. Booking does not start it: its first pre-dose vitals (or dose) do.',
);
const VitalsRecorded = event(
  'VitalsRecorded',
  { sessionId: id, phase: z.enum(['pre', 'during', 'post']), ...vitals },
  'Vitals taken before dosing, during, or at the end of a dosing session.',
);
const DoseAdministered = event(
  'DoseAdministered',
  {
    sessionId: id,
    kind: z.enum(doseKinds),
    doseMg: z.number().positive().max(2000),
    route: z.enum(routes),
    formulation: z.enum(formulations),
    unitsUsed: z.number().positive().max(10).optional().meta({
      description:
        'Doses (units) taken from the supply on hand. They follow from the mg (doseMg / the prescribed doseMg): leave it out; a value that disagrees is refused (dose-mismatch).',
    }),
    vitalsOverride: z
      .object({
        clinicianRole: z.enum(['medical', 'therapist']),
        reason: z.string().min(3).max(2000),
        actorId: id.optional().meta({ description: 'Opaque id of the clinician who decided the override.' }),
      })
      .optional()
      .meta({
        description:
          'The medical team overrides a vitals hold, with a recorded reason (the policy refuses other roles and reasons too short to say anything).',
      }),
    reason: reason.optional().meta({
      description:
        'Why the first dose of the session departs from the treatment plan’s titration step (required then).',
    }),
  },
  'The patient self-administered a dose (full, half, or an optional booster) in a dosing session.',
);
const AdverseEventReported = event(
  'AdverseEventReported',
  {
    sessionId: id.optional(),
    code: z.enum(adverseEventCodes),
    severity: z.enum(adverseEventSeverities),
    description: text.optional(),
  },
  'An adverse event, during or between sessions.',
);
const DosingSessionCompleted = event(
  'DosingSessionCompleted',
  {
    sessionId: id,
    durationMinutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60)
      .optional(),
    reason: reason.optional().meta({
      description:
        'Why the session ends before the policy observation time after the last dose, or with the last post-dose blood pressure still above the hold threshold.',
    }),
  },
  'The dosing session ended normally.',
);
const DosingSessionAborted = event(
  'DosingSessionAborted',
  { sessionId: id, reason: z.enum(abortReasons) },
  'The dosing session was stopped (before or after dosing).',
);
const IntegrationSessionCompleted = event(
  'IntegrationSessionCompleted',
  {
    mode: z.enum(sessionModes),
    sessionId: id.optional().meta({ description: 'The dosing session it integrates.' }),
  },
  'An integration session took place.',
);
const AssessmentRecorded = event(
  'AssessmentRecorded',
  {
    assessmentId: id.optional(),
    instrument: z.string().min(1),
    responses: z.array(z.number().nullable()).min(1).max(200),
    supplementary: z.record(z.string(), z.number().nullable()).optional(),
    context: z.enum(assessmentContexts).optional(),
  },
  'An outcome measure was completed. Responses are validated against the instrument definition.',
);
const MedicalFollowUpCompleted = event(
  'MedicalFollowUpCompleted',
  { continueTreatment: z.boolean() },
  'A medical follow-up to monitor outcomes (at least once per quarter).',
);
const RefillIssued = event(
  'RefillIssued',
  { dosesAuthorized: z.number().int().min(1).max(100) },
  'The medical team authorises more doses.',
);
const SafetyFlagReviewed = event(
  'SafetyFlagReviewed',
  {
    assessmentEventId: id.meta({
      description: 'The AssessmentRecorded event whose safety flag was reviewed.',
    }),
    rule: z.string().min(1).meta({ description: 'The safety rule id, e.g. phq9-item9-positive.' }),
    outcome: z.enum(reviewOutcomes),
  },
  'A clinician followed up a safety flag (e.g. a suicide risk assessment after a positive PHQ-9 item 9).',
);
const AdverseEventReviewed = event(
  'AdverseEventReviewed',
  {
    adverseEventId: id.meta({ description: 'The AdverseEventReported event that was reviewed.' }),
    outcome: z.enum(reviewOutcomes),
  },
  'A clinician reviewed an adverse event (required before the next dose for severe, serious or suicidal-ideation events).',
);
const EventVoided = event(
  'EventVoided',
  {
    voidedEventId: id.meta({ description: 'The accepted event that was entered in error.' }),
    reason: reason.meta({ description: 'Why it was entered in error.' }),
  },
  'A clinician marks an earlier event as entered in error. The voided event stays in the log; the episode becomes the replay without it.',
);
const InformedConsentRecorded = event(
  'InformedConsentRecorded',
  {
    scope: z
      .array(z.enum(consentScopes))
      .min(1)
      .meta({ description: 'What the patient consented to: kap, remote-sessions, research-use.' }),
    documentVersion: z
      .string()
      .min(1)
      .max(100)
      .meta({ description: 'Version of the consent document signed, e.g. "KAP consent v3 (2026-01)".' }),
  },
  'The patient gave informed consent (to KAP, to remote dosing sessions with a chaperone, to research use of de-identified data).',
);
const ConsentWithdrawn = event(
  'ConsentWithdrawn',
  {
    scope: z.array(z.enum(consentScopes)).min(1).meta({ description: 'The consent scopes withdrawn.' }),
    reason: reason.optional(),
  },
  'The patient withdrew consent: kap stops dosing, remote-sessions stops remote dosing, research-use drops the episode from research exports.',
);
const MedicationsReviewed = event(
  'MedicationsReviewed',
  {
    medications: z
      .array(
        z.object({
          name: z.string().min(1).max(200).meta({ description: 'Generic name, e.g. lorazepam.' }),
          class: z.enum(medicationClassIds).meta({ description: 'Medication class (see docs/episode.md).' }),
          dailyDose: z.number().positive().max(100000).optional().meta({ description: 'Total daily dose.' }),
          unit: z.enum(doseUnits).optional().meta({ description: 'Unit of dailyDose (default mg).' }),
        }),
      )
      .max(100)
      .meta({
        description: 'Every medication the patient takes now (empty: none). Replaces the previous list.',
      }),
  },
  'The medical team reviewed the patient’s concurrent medications (at or after the medical evaluation).',
);
const MaintenancePlanned = event(
  'MaintenancePlanned',
  {
    intervalDays: z
      .number()
      .int()
      .min(7)
      .max(365)
      .meta({ description: 'Days between maintenance dosing sessions (practices: every 1–2 months).' }),
    reason: reason.optional().meta({
      description:
        'Why maintenance starts before the planned dosing sessions of the initial course (required then).',
    }),
  },
  'After the initial course, the medical team plans maintenance dosing sessions every intervalDays.',
);
const EpisodePaused = event('EpisodePaused', { reason: z.enum(pauseReasons) }, 'Treatment is paused.');
const EpisodeResumed = event('EpisodeResumed', {}, 'Treatment resumes where it was paused.');
const EpisodeCompleted = event(
  'EpisodeCompleted',
  {
    reason: reason.optional().meta({
      description: 'Why the course ends before its planned dosing sessions (required then).',
    }),
  },
  'The course of treatment ended.',
);
const EpisodeDiscontinued = event(
  'EpisodeDiscontinued',
  { reason: z.enum(discontinuationReasons) },
  'The course ended early.',
);

/** Every event schema, by type. */
export const eventSchemas = {
  EpisodeOpened,
  FitAssessed,
  MedicalEvaluationScheduled,
  MedicalEvaluationCompleted,
  TreatmentPlanCreated,
  PrescriptionIssued,
  MedicationDelivered,
  SelfAdministrationTrained,
  PreparationSessionCompleted,
  DosingSessionScheduled,
  VitalsRecorded,
  DoseAdministered,
  AdverseEventReported,
  DosingSessionCompleted,
  DosingSessionAborted,
  IntegrationSessionCompleted,
  AssessmentRecorded,
  MedicalFollowUpCompleted,
  RefillIssued,
  SafetyFlagReviewed,
  AdverseEventReviewed,
  EventVoided,
  InformedConsentRecorded,
  ConsentWithdrawn,
  MedicationsReviewed,
  MaintenancePlanned,
  EpisodePaused,
  EpisodeResumed,
  EpisodeCompleted,
  EpisodeDiscontinued,
} as const;

export type EventType = keyof typeof eventSchemas;
export const eventTypes = Object.keys(eventSchemas) as EventType[];

/** Any domain event (discriminated on `type`). */
export const episodeEventSchema = z
  .discriminatedUnion(
    'type',
    // The union's members are the values of `eventSchemas`, in its order (one list to keep up to date).
    Object.values(eventSchemas) as [
      (typeof eventSchemas)[EventType],
      (typeof eventSchemas)[EventType],
      ...(typeof eventSchemas)[EventType][],
    ],
  )
  .meta({ title: 'KAP episode event', description: 'One immutable, timestamped fact about a KAP episode.' });

/** A domain event as stored (defaults applied). */
export type EpisodeEvent = { [K in EventType]: z.output<(typeof eventSchemas)[K]> }[EventType];
/** A domain event as written by a caller (fields with defaults may be omitted). */
export type EpisodeEventInput = { [K in EventType]: z.input<(typeof eventSchemas)[K]> }[EventType];
/** The event of one type. */
export type EventOf<T extends EventType> = Extract<EpisodeEvent, { type: T }>;

/**
 * Upcast a version 1 event to version 2, leaving anything else unchanged. Version 1 events (every log written
 * before schema version 2) had no `recordedAt` and an optional `recordedBy`: the upcast sets `recordedAt = at`
 * (the best knowledge of when it was written) and, when `recordedBy` is missing, the event type's primary role
 * in the permission table (`primaryRoleOf`); an `EpisodeOpened` gets `policy.requireInformedConsent: false`
 * (version 1 had no consent records, so its episodes are not held to the consent gate). A `recordedBy` that was given is kept, and the permission table
 * applies to it as to any other event. Pure; returns a new object, never mutates its input.
 */
export function upcastEvent(input: unknown, table: PermissionTable = defaultPermissions): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  const e = input as Record<string, unknown>;
  if (e.v !== 1) return input;
  const out: Record<string, unknown> = { ...e, v: EVENT_SCHEMA_VERSION };
  if (e.recordedAt === undefined) out.recordedAt = e.at;
  if (e.recordedBy === undefined) {
    const role = primaryRoleOf(e.type, table);
    if (role !== undefined) out.recordedBy = role;
  }
  // Version 1 could not record consent: an episode opened then keeps going without the consent gate.
  if (e.type === 'EpisodeOpened') {
    const policy = typeof e.policy === 'object' && e.policy !== null ? e.policy : {};
    out.policy = { requireInformedConsent: false, ...policy };
  }
  return out;
}

/** Parse an event of any supported schema version (version 1 is upcast first). */
export function parseEvent(input: unknown, table: PermissionTable = defaultPermissions) {
  return episodeEventSchema.safeParse(upcastEvent(input, table));
}
