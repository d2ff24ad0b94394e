/**
 * `@kapkit/core/read`: everything needed to read and analyse KAP data without the XState episode machine:
 * instruments and scoring, event schemas, episode context, critical periods and the read-side projection.
 * Analytics, exports and browser code import this entry so that XState stays out of their bundles.
 *
 * The names below are listed one by one (no `export *` of internal modules); `@kapkit/core` is this list plus
 * the episode model. Everything else in `src/` is internal and may change in any release.
 * @packageDocumentation
 */

export {
  type AdministeredDose,
  type ConsentRecord,
  consentInForce,
  type DosingSessionRecord,
  dosedSessions,
  dosesOnHand,
  type EpisodeAdverseEvent,
  type EpisodeAssessment,
  type EpisodeContext,
  type EpisodeSafetyFlag,
  emptyContext,
  eventIdsOf,
  type MonitoredMeasure,
  plannedDoseFor,
  researchConsentWithdrawn,
  type SafetyReview,
  type TreatmentStop,
  type VitalSign,
  type VitalsReading,
} from './episode/context.js';
// Critical periods and clinical time.
export {
  analyzeCriticalPeriods,
  CRITICAL_PERIOD_DEFAULTS,
  type CriticalChain,
  type CriticalCoverage,
  type CriticalGap,
  type CriticalOverlap,
  type CriticalPeriodAnalysis,
  type CriticalPeriodLocation,
  type CriticalPeriodOptions,
  type CriticalWindow,
  DAY_MS,
  type DoseTime,
  formatInOffset,
  InvalidTimestampError,
  locateInCriticalPeriods,
  type NextDoseDeadline,
  offsetOf,
  type UtcOffset,
  windowMsFromDays,
  windowMsFromHours,
  wouldKeepChain,
} from './episode/critical-periods.js';
// Episode events: schemas, vocabularies, parsing and upcasting.
export {
  type EpisodeEvent,
  type EpisodeEventInput,
  EVENT_SCHEMA_VERSION,
  type EventOf,
  type EventType,
  episodeEventSchema,
  eventSchemas,
  eventTypes,
  parseEvent,
  type Role,
  upcastEvent,
} from './episode/events.js';
export {
  type DoseUnit,
  diazepamEquivalentMg,
  diazepamEquivalentPerDay,
  diazepamEquivalentSource,
  doseUnits,
  interactionClasses,
  type MedicationClass,
  type MedicationFinding,
  type MedicationInput,
  medicationClasses,
  medicationFindings,
  totalDiazepamEquivalent,
} from './episode/medications.js';
export {
  defaultPermissions,
  mayRecord,
  type PermissionTable,
  permissionSources,
  primaryRoleOf,
} from './episode/permissions.js';
// Policy, permissions, medications: configurable defaults, each with its source.
export {
  defaultMonitoringPlan,
  defaultPolicy,
  type EpisodePolicy,
  INITIAL_SUPPLY_SESSIONS,
  policySources,
} from './episode/policy.js';
// What an episode holds, and questions about it; the read-side projection.
export { projectEpisodes } from './episode/projection.js';
// The vocabularies the events' fields take their values from.
export {
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
} from './episode/vocabularies.js';
// Errors.
export {
  DuplicateInstrumentError,
  describeValue,
  formatPath,
  InstrumentDefinitionError,
  KapkitError,
  ResponseValidationError,
  UnknownInstrumentError,
  type ValidationIssue,
} from './errors.js';
// Outcome measures: definitions, registry, scoring, schemas, FHIR Questionnaires.
export { builtinInstruments, createInstrumentRegistry } from './instruments/builtin.js';
export {
  type BatchScores,
  type BulkRecordError,
  type BulkScoreOutcome,
  SAFETY_POSITIVE,
  SAFETY_UNANSWERED,
  scoreBatch,
  scoreStream,
} from './instruments/bulk.js';
export { cadss6 } from './instruments/cadss6.js';
export {
  type AnswerOption,
  type AnswersFor,
  type BandDefinition,
  type BandIdOf,
  type ChangeConstants,
  type Comparison,
  type CompositeCutoffDefinition,
  type CutoffDefinition,
  defineInstrument,
  type InstrumentDefinition,
  type InstrumentResponse,
  type IntRange,
  type ItemDefinition,
  type ItemValue,
  itemScale,
  type Licence,
  type MissingRule,
  type OutcomeDefinitions,
  type ResponseScale,
  type ResponsesOf,
  type SafetyRule,
  type ScaleValue,
  type ScoreDefinition,
  type ScoringRule,
  type Source,
  type SupplementaryOf,
  type SupplementaryQuestion,
} from './instruments/definition.js';
export { ebi } from './instruments/ebi.js';
export {
  type FhirCodeableConcept,
  type FhirCodeableConceptExtension,
  type FhirCoding,
  type FhirDecimalExtension,
  type FhirExpression,
  type FhirExpressionExtension,
  type FhirExtension,
  type FhirIntegerExtension,
  type FhirPublicationStatus,
  type FhirQuestionnaire,
  type FhirQuestionnaireAnswerOption,
  type FhirQuestionnaireItem,
  type FhirQuestionnaireItemType,
  fhirQuestionnaireUrl,
  fhirTotalLinkId,
  type ToFhirQuestionnaireOptions,
  toFhirQuestionnaire,
} from './instruments/fhir.js';
export { gad2, gad7 } from './instruments/gad7.js';
export { meq30 } from './instruments/meq30.js';
export { pcl5 } from './instruments/pcl5.js';
export { phq2, phq9 } from './instruments/phq9.js';
export { qidssr16 } from './instruments/qidssr16.js';
export { type InstrumentRegistry, normalizeInstrumentId } from './instruments/registry.js';
export {
  type JsonSchemaTarget,
  responseSchema,
  toJsonSchema,
} from './instruments/schema.js';
export {
  type CutoffResult,
  type ExtraScore,
  type SafeScoreResult,
  type SafetyFlag,
  type ScoreResult,
  type ScoreStatus,
  STATUS_CODES,
  safeScoreResponse,
  safetyFlagsOf,
  scoreResponse,
} from './instruments/scoring.js';
export { validateResponse } from './instruments/validate.js';
export { who5 } from './instruments/who5.js';
// Reading event logs.
export { type NdjsonLine, ndjsonLines, ndjsonTextLines } from './log/ndjson.js';
