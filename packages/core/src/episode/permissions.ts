import type { EventType, Role } from './events.js';

/**
 * Which role may record which event type. Domain policy, overridable per clinic (pass `permissions` to
 * `createEpisodeModel`); an episode cannot change it. The first role listed is the event type's primary role,
 * to which version 1 events without `recordedBy` are attributed when they are upcast.
 */
export type PermissionTable = Readonly<Record<EventType, readonly Role[]>>;

const CLINICIANS = ['therapist', 'medical'] as const;

/**
 * The default permission table, following the division of labour of a KAP practice that works with a medical
 * partner (seed; Journey Clinical): the medical team evaluates, plans, prescribes, refills, runs follow-ups and
 * trains self-administration; the therapist runs the fit discussion, preparation, dosing and integration
 * sessions; patients (and a chaperone, for vitals and adverse events) may record their own assessments, vitals
 * and adverse events, and the dose they self-administer (seed: "you will self-administer your ketamine
 * lozenge(s)"); safety reviews, voids and episode decisions are clinicians' only. `system` may record
 * bookings and deliveries (integrations with scheduling and pharmacy systems).
 */
export const defaultPermissions: PermissionTable = {
  EpisodeOpened: CLINICIANS,
  FitAssessed: ['therapist'],
  MedicalEvaluationScheduled: ['medical', 'therapist', 'patient', 'system'],
  MedicalEvaluationCompleted: ['medical'],
  TreatmentPlanCreated: ['medical'],
  PrescriptionIssued: ['medical'],
  MedicationDelivered: ['medical', 'system', 'patient'],
  SelfAdministrationTrained: ['medical'],
  PreparationSessionCompleted: ['therapist'],
  DosingSessionScheduled: ['therapist', 'medical', 'system'],
  VitalsRecorded: ['therapist', 'medical', 'patient', 'chaperone'],
  // The patient self-administers (seed) and may record the dose taken; a vitals-hold override is the medical team's.
  DoseAdministered: ['therapist', 'medical', 'patient'],
  AdverseEventReported: ['therapist', 'medical', 'patient', 'chaperone'],
  DosingSessionCompleted: CLINICIANS,
  DosingSessionAborted: CLINICIANS,
  IntegrationSessionCompleted: ['therapist'],
  AssessmentRecorded: ['therapist', 'medical', 'patient'],
  MedicalFollowUpCompleted: ['medical'],
  RefillIssued: ['medical'],
  SafetyFlagReviewed: CLINICIANS,
  AdverseEventReviewed: CLINICIANS,
  EventVoided: CLINICIANS,
  InformedConsentRecorded: CLINICIANS,
  // A patient may withdraw consent themselves (e.g. from a patient portal); a clinician may record it for them.
  ConsentWithdrawn: ['therapist', 'medical', 'patient'],
  MedicationsReviewed: ['medical'],
  MaintenancePlanned: ['medical'],
  EpisodePaused: CLINICIANS,
  EpisodeResumed: CLINICIANS,
  EpisodeCompleted: CLINICIANS,
  EpisodeDiscontinued: CLINICIANS,
};

/** Where each row of the default table comes from (shown in docs/episode.md). */
export const permissionSources: Readonly<Record<string, string>> = {
  medical:
    'Journey Clinical: the medical team takes "all KAP medical responsibilities, including determining patient eligibility, providing ketamine prescriptions, and ongoing outcome monitoring"; "the medical decision to provide the patient a prescription of ketamine relies solely on the prescriber"',
  therapist:
    'Seed: the therapist takes "the psychotherapy portion": fit discussion, preparation, dosing and integration sessions',
  patient:
    'Journey Clinical: patients record their clinical scales in the patient portal and take their own vitals before and after dosing',
  chaperone:
    'Journey Clinical chaperone guidelines: a chaperone is present for remote sessions and checks in every 15 minutes; may record vitals and adverse events',
  consent:
    'AMA Code of Medical Ethics, Opinion 2.1.1: consent is the patient’s to give and to withdraw; a clinician records consent given (with the document signed), the patient or a clinician records a withdrawal',
  clinicians:
    'kapkit default: safety reviews, voids, overrides and episode decisions are clinicians’ only; a vitals-hold override is the medical team’s',
};

/** The primary role of an event type (the first of its row), or undefined for an unknown type. */
export function primaryRoleOf(type: unknown, table: PermissionTable = defaultPermissions): Role | undefined {
  return typeof type === 'string' && Object.hasOwn(table, type) ? table[type as EventType][0] : undefined;
}

/** Whether `role` may record events of `type` under `table`. */
export function mayRecord(type: EventType, role: Role, table: PermissionTable = defaultPermissions): boolean {
  return table[type].includes(role);
}
