/**
 * `@kapkit/core/instruments`: outcome measures. The built-in definitions (PHQ-9, PHQ-2, GAD-7, GAD-2, PCL-5,
 * WHO-5, QIDS-SR16, CADSS-6, MEQ-30, EBI), `defineInstrument` for your own, the registry, scoring one response
 * or a batch or a stream, zod and JSON Schemas of a response, and FHIR R4 Questionnaires, all derived from one
 * declarative definition per instrument. This entry does not load XState: use it in browsers and in analytics.
 *
 * The names are listed one by one; everything else in `src/` is internal and may change in any release.
 * @packageDocumentation
 */

// Errors scoring and registering raise (all are `KapkitError`s).
export {
  DuplicateInstrumentError,
  InstrumentDefinitionError,
  KapkitError,
  ResponseValidationError,
  UnknownInstrumentError,
  type ValidationIssue,
} from './errors.js';
// The registry and the built-in definitions.
export { builtinInstruments, createInstrumentRegistry } from './instruments/builtin.js';
// Scoring many responses at once.
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
// Writing a definition.
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
// FHIR R4 Questionnaires.
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
// Schemas of a response.
export {
  type JsonSchemaTarget,
  responseSchema,
  toJsonSchema,
} from './instruments/schema.js';
// Scoring one response.
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
