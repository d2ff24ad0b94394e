import type { EventType } from '../../src/episode/events.js';

/*
 * Groups of event types that the model-based tests (./model/) and the property tests (./prop/) both name: the
 * medical team's supply and treatment decisions, and the events of a dosing session.
 */

/** The treatment plan, prescriptions, deliveries, refills, training and follow-ups. */
export const supplyTypes = [
  'TreatmentPlanCreated',
  'PrescriptionIssued',
  'MedicationDelivered',
  'RefillIssued',
  'SelfAdministrationTrained',
  'MedicalFollowUpCompleted',
] as const satisfies readonly EventType[];

/** The events that name a dosing session in progress (or a booked one they start or cancel). */
export const inSessionTypes = [
  'VitalsRecorded',
  'DoseAdministered',
  'DosingSessionCompleted',
  'DosingSessionAborted',
] as const satisfies readonly EventType[];
