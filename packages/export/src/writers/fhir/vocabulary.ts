import { createHash } from 'node:crypto';
import { type EpisodeAssessment, type EpisodeContext, KapkitError } from '@kapkit/core';
import {
  type FhirCodeableConcept,
  type FhirCoding,
  type FhirQuestionnaire,
  type InstrumentDefinition,
  itemScale,
  safetyFlagsOf,
} from '@kapkit/core/instruments';

/* The vocabulary of kapkit's FHIR export: code systems, the resource shapes written (subsets of FHIR R4), ids, codes, tags and safety flags. */

export const DAYS_SINCE_BASELINE_URL = 'urn:kapkit:fhir:StructureDefinition/days-since-baseline';
/**
 * kapkit code system of safety flags, used in `meta.tag` and `interpretation`: `safety-flag` (a safety rule's
 * item was answered positively, e.g. PHQ-9 item 9 > 0) and `safety-flag-unanswered` (the item was left blank).
 * Query flagged resources with `_tag=urn:kapkit:fhir:CodeSystem/safety-flag|safety-flag`.
 */
export const SAFETY_FLAG_SYSTEM = 'urn:kapkit:fhir:CodeSystem/safety-flag';
/** kapkit code system whose codes are safety rule ids (`phq9-item9-positive`), used in `meta.tag`. */
export const SAFETY_RULE_SYSTEM = 'urn:kapkit:fhir:CodeSystem/safety-rule';
/** kapkit code system of other tags (`synthetic`). */
export const KAPKIT_TAG_SYSTEM = 'urn:kapkit:fhir:CodeSystem/tag';
/** `Patient.identifier.system` of the patient ref. */
export const PATIENT_REF_SYSTEM = 'urn:kapkit:fhir:patient-ref';
/** `QuestionnaireResponse.identifier.system`: `<episodeRef>/<n>`, the n-th assessment (1-based) of the episode. */
export const ASSESSMENT_REF_SYSTEM = 'urn:kapkit:fhir:assessment-ref';

const LOINC = 'http://loinc.org';
export const UCUM = 'http://unitsofmeasure.org';
const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
const V3_INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
const V3_ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
const V3_OBSERVATION_VALUE = 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue';
export const DATA_ABSENT_REASON = 'http://terminology.hl7.org/CodeSystem/data-absent-reason';
export const ORDINAL_VALUE = 'http://hl7.org/fhir/StructureDefinition/ordinalValue';
/** RFC 4122 name-based (v5) UUID namespace of kapkit FHIR exports. */
const UUID_NAMESPACE = Buffer.from('b44783a9c0c0488787e399dadd91ddb0', 'hex');
/** Output is handed to the disk in chunks of about this many bytes. */

// ---------------------------------------------------------------------------------------------------------
// The resource shapes written (subsets of FHIR R4).

export interface Reference {
  reference: string;
}

export interface Meta {
  tag?: FhirCoding[];
  security?: FhirCoding[];
}

export interface DecimalExtension {
  url: string;
  valueDecimal: number;
}

interface Patient {
  resourceType: 'Patient';
  id: string;
  meta?: Meta;
  identifier: { system: string; value: string }[];
}

export interface QuestionnaireResponseItem {
  linkId: string;
  answer: ({ valueCoding: FhirCoding } | { valueInteger: number } | { valueDecimal: number })[];
}

export interface QuestionnaireResponse {
  resourceType: 'QuestionnaireResponse';
  id: string;
  meta?: Meta;
  extension?: DecimalExtension[];
  identifier: { system: string; value: string };
  questionnaire: string;
  status: 'completed' | 'entered-in-error';
  subject: Reference;
  authored?: string;
  item?: QuestionnaireResponseItem[];
}

interface CodingWithOrdinal extends FhirCoding {
  extension?: DecimalExtension[];
}

export interface Observation {
  resourceType: 'Observation';
  id: string;
  meta?: Meta;
  extension?: DecimalExtension[];
  status: 'final' | 'entered-in-error';
  category: FhirCodeableConcept[];
  code: FhirCodeableConcept;
  subject: Reference;
  effectiveDateTime?: string;
  valueQuantity?: { value: number; unit: string; system: string; code: string };
  valueCodeableConcept?: { coding: CodingWithOrdinal[]; text?: string };
  valueInteger?: number;
  dataAbsentReason?: FhirCodeableConcept;
  interpretation?: FhirCodeableConcept[];
  hasMember?: Reference[];
  derivedFrom?: Reference[];
}

type Resource = Patient | QuestionnaireResponse | Observation | FhirQuestionnaire;

export interface Entry {
  fullUrl: string;
  resource: Resource;
}

// ---------------------------------------------------------------------------------------------------------
// Ids, codes and tags.

/** A deterministic RFC 4122 version-5 UUID (SHA-1 of kapkit's namespace and the name). */
function uuidFor(name: string): string {
  const hash = createHash('sha1').update(UUID_NAMESPACE).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Resource id and full URL from an unambiguous name (a JSON array, so no separator can collide). */
export function idFor(...parts: (string | number)[]): { id: string; fullUrl: string } {
  const id = uuidFor(JSON.stringify(parts));
  return { id, fullUrl: `urn:uuid:${id}` };
}

/**
 * Code system of an instrument's kapkit codes. Instruments (or items) without a LOINC code get
 * `urn:kapkit:instrument:<id>` codes instead: `panel`, `total` and the item ids (= Questionnaire linkIds). These
 * are local codes, not LOINC: a consumer cannot map them to a standard terminology without a ConceptMap.
 */
function kapkitInstrumentSystem(definition: InstrumentDefinition): string {
  return `urn:kapkit:instrument:${definition.id}`;
}

export function codeOf(
  definition: InstrumentDefinition,
  loinc: string | undefined,
  local: string,
  text: string,
) {
  return {
    coding: [
      loinc === undefined
        ? { system: kapkitInstrumentSystem(definition), code: local }
        : { system: LOINC, code: loinc },
    ],
    text,
  };
}

/** The coding of an ordinal answer: the option's LOINC answer code, else the same kapkit coding as the Questionnaire. */
export function answerCoding(
  definition: InstrumentDefinition,
  index: number,
  value: number,
): FhirCoding | undefined {
  const option = itemScale(definition, index).options?.find((o) => o.value === value);
  if (!option) return undefined;
  return option.loinc === undefined
    ? { system: `urn:kapkit:answer:${definition.id}`, code: String(value), display: option.label }
    : { system: LOINC, code: option.loinc, display: option.label };
}

export const SURVEY: FhirCodeableConcept = {
  coding: [{ system: OBSERVATION_CATEGORY, code: 'survey', display: 'Survey' }],
};
export const SYNTHETIC_TAGS: FhirCoding[] = [
  { system: KAPKIT_TAG_SYSTEM, code: 'synthetic', display: 'Synthetic data, not from a real patient' },
  { system: V3_ACT_REASON, code: 'HTEST', display: 'test health data' },
];
export const PSEUDONYMIZED: FhirCoding = {
  system: V3_OBSERVATION_VALUE,
  code: 'PSEUDED',
  display: 'pseudonymized',
};

interface Flag {
  readonly rule: string;
  readonly kind: 'positive' | 'unanswered';
  readonly item: number;
  readonly message: string;
}

export function flagTags(flags: readonly Flag[]): FhirCoding[] {
  const tags: FhirCoding[] = [];
  const seen = new Set<string>();
  const add = (coding: FhirCoding) => {
    const key = `${coding.system}|${coding.code}`;
    if (!seen.has(key)) tags.push(coding);
    seen.add(key);
  };
  for (const f of flags) {
    add(
      f.kind === 'positive'
        ? { system: SAFETY_FLAG_SYSTEM, code: 'safety-flag', display: 'Safety flag raised' }
        : {
            system: SAFETY_FLAG_SYSTEM,
            code: 'safety-flag-unanswered',
            display: 'Safety item left unanswered',
          },
    );
    add({ system: SAFETY_RULE_SYSTEM, code: f.rule });
  }
  return tags;
}

/** `interpretation` for safety flags: v3 `A` (abnormal) plus kapkit's code, with the rule's message. */
export function flagInterpretation(flags: readonly Flag[]): FhirCodeableConcept[] {
  return flags.map((f) =>
    f.kind === 'positive'
      ? {
          coding: [
            { system: V3_INTERPRETATION, code: 'A', display: 'Abnormal' },
            { system: SAFETY_FLAG_SYSTEM, code: 'safety-flag', display: 'Safety flag raised' },
          ],
          text: f.message,
        }
      : {
          coding: [
            {
              system: SAFETY_FLAG_SYSTEM,
              code: 'safety-flag-unanswered',
              display: 'Safety item left unanswered',
            },
          ],
          text: f.message,
        },
  );
}

/**
 * Safety flags of an assessment: those the episode recorded, plus those its instrument's rules raise on the
 * responses (so a positive PHQ-9 item 9 is exported even from a context that lost its flags).
 */
export function flagsOf(
  definition: InstrumentDefinition,
  assessment: EpisodeAssessment,
  context: EpisodeContext,
): Flag[] {
  const out: Flag[] = [];
  const seen = new Set<string>();
  const add = (f: Flag) => {
    const key = `${f.rule}|${f.kind}|${f.item}`;
    if (!seen.has(key)) out.push({ rule: f.rule, kind: f.kind, item: f.item, message: f.message });
    seen.add(key);
  };
  for (const f of context.safetyFlags) if (f.assessmentEventId === assessment.eventId) add(f);
  for (const f of safetyFlagsOf(definition, assessment.responses)) add(f);
  return out;
}

export function invalid(message: string): KapkitError {
  return new KapkitError('invalid-fhir-input', message);
}
