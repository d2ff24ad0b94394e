/*
 * The vocabularies of episode events: the codes and names a field of an event may take (modes, routes,
 * formulations, contraindications, adverse events, reasons, contexts, consent scopes, roles, review outcomes).
 * The event schemas (events.ts) are built from them. Every export of this module is public:
 * `@kapkit/core/vocabularies` re-exports it whole.
 */

export const sessionModes = ['in-person', 'telehealth'] as const;
export const routes = ['sublingual', 'oral', 'intranasal', 'intramuscular', 'intravenous'] as const;
export const formulations = [
  'sublingual-lozenge',
  'rapidly-dissolving-tablet',
  'oral-solution',
  'nasal-spray',
  'injection',
  'infusion',
] as const;
export const doseKinds = ['full', 'half', 'booster'] as const;

/**
 * Contraindications and considerations screened at the medical evaluation (Journey Clinical
 * eligibility criteria). Recorded as codes; kapkit does not decide eligibility, the clinician does.
 * The nine absolute contraindications come first: the default policy takes them by that position
 * (`defaultPolicy.absoluteContraindications`, policy.ts); the codes after them are considerations.
 */
export const contraindicationCodes = [
  'uncontrolled-hypertension',
  'uncontrolled-glaucoma',
  'severe-breathing-problems',
  'ketamine-allergy',
  'uncontrolled-substance-use-disorder',
  'acute-mania-or-mixed-state',
  'primary-psychosis-history',
  'active-suicidal-ideation',
  'severe-decompensation',
  'pregnancy',
  'liver-disease',
  'cystitis',
  'hyperthyroidism',
  'prior-ketamine-use',
  'other',
] as const;

export const adverseEventCodes = [
  'nausea',
  'vomiting',
  'elevated-blood-pressure',
  'tachycardia',
  'dissociation-distress',
  'anxiety',
  'headache',
  'dizziness',
  'sedation',
  'fall',
  'urinary-symptoms',
  'suicidal-ideation',
  'other',
] as const;

export const adverseEventSeverities = ['mild', 'moderate', 'severe', 'serious'] as const;

export const abortReasons = [
  'vitals-hold',
  'patient-declined',
  'adverse-event',
  'technical',
  'other',
] as const;
export const pauseReasons = ['patient-request', 'medical', 'scheduling', 'financial', 'other'] as const;
export const discontinuationReasons = [
  'patient-choice',
  'ineligible',
  'not-a-fit',
  'adverse-event',
  'clinical-decision',
  'lost-to-follow-up',
  'other',
] as const;
export const assessmentContexts = [
  'baseline',
  'pre-dose',
  'post-dose',
  'integration',
  'follow-up',
  'routine',
] as const;

/**
 * What a patient consents to: KAP itself (required before the first dose), remote (telehealth) dosing
 * sessions with a chaperone, and the use of their de-identified data for research.
 */
export const consentScopes = ['kap', 'remote-sessions', 'research-use'] as const;
export type ConsentScope = (typeof consentScopes)[number];

/** Who recorded an event (a role, never a name). */
export const recordedByRoles = ['therapist', 'medical', 'patient', 'chaperone', 'system'] as const;
export type Role = (typeof recordedByRoles)[number];

/** Outcomes of a clinician's review of a safety signal. */
export const reviewOutcomes = ['no-current-risk', 'safety-plan', 'escalated'] as const;
