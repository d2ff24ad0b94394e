import { createHash } from 'node:crypto';
import { close as fsClose, write as fsWrite, fsync, openSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import {
  createInstrumentRegistry,
  type EpisodeAssessment,
  type EpisodeContext,
  type FhirCodeableConcept,
  type FhirCoding,
  type FhirQuestionnaire,
  fhirQuestionnaireUrl,
  fhirTotalLinkId,
  type InstrumentDefinition,
  type InstrumentRegistry,
  itemScale,
  KapkitError,
  safetyFlagsOf,
  toFhirQuestionnaire,
} from '@kapkit/core';

/**
 * Streaming FHIR R4 export: one `Bundle` of type `collection`, written to a file as episodes are added.
 *
 * Per episode: a pseudonymous `Patient` (once per patient) and, per assessment, a `QuestionnaireResponse` and
 * US Core screening-assessment style `Observation`s (a panel with `hasMember` items and total, each `derivedFrom`
 * the response). The `Questionnaire` of every instrument used closes the bundle. All references are `urn:uuid:`
 * full URLs of entries in the same bundle, derived deterministically from the caller's refs, so the same input
 * gives the same bytes.
 *
 * De-identified bundles carry no dates or times at all. US Core's screening-assessment Observation profile
 * expects `effective[x]` (and QuestionnaireResponse `authored`); de-identified bundles omit both by design and
 * carry the {@link DAYS_SINCE_BASELINE_URL} extension (days since the episode's baseline) instead. For the same
 * reason the resources declare no `meta.profile`: a consumer that needs strict US Core conformance should use an
 * identified export.
 */

/** One episode to export. */
export interface FhirEpisodeInput {
  /** The patient's id in the export (a pseudonym when de-identifying); becomes `Patient.identifier`. */
  readonly patientRef: string;
  /** The episode's id in the export (a pseudonym when de-identifying). Each episode is added once. */
  readonly episodeRef: string;
  readonly context: EpisodeContext;
  /** Days since the episode's baseline for an event time (used only in de-identified bundles). */
  readonly dayOf: (isoAt: string) => number;
  /**
   * Assessments voided as entered in error (not in `context`): written with status `entered-in-error`
   * (FHIR R4 QuestionnaireResponse and Observation status) when the export includes voided events.
   */
  readonly enteredInError?: readonly EpisodeAssessment[];
}

/** Options of {@link createFhirBundleWriter}. */
export interface FhirBundleWriterOptions {
  /** No dates or times anywhere; {@link DAYS_SINCE_BASELINE_URL} instead. */
  readonly deidentified: boolean;
  /** Where assessments' instruments are looked up (default: the built-ins). */
  readonly registry?: InstrumentRegistry;
}

/** A streaming FHIR Bundle writer, from {@link createFhirBundleWriter}. */
export interface FhirBundleWriter {
  /** Append an episode's resources. Await it: it resolves once the output buffer is handed to the disk. */
  addEpisode(input: FhirEpisodeInput): Promise<void>;
  /** Append the Questionnaires, close the Bundle, sync and close the file. Calling it again returns the same result. */
  close(): Promise<{ resources: number; bytes: number }>;
  /** Stop, close the file and delete it. Does nothing after a successful `close()`. */
  abort(): Promise<void>;
}

/** Extension on QuestionnaireResponse and Observations of de-identified bundles: days since baseline (decimal). */
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
const KAPKIT_TAG_SYSTEM = 'urn:kapkit:fhir:CodeSystem/tag';
/** `Patient.identifier.system` of the patient ref. */
export const PATIENT_REF_SYSTEM = 'urn:kapkit:fhir:patient-ref';
/** `QuestionnaireResponse.identifier.system`: `<episodeRef>/<n>`, the n-th assessment (1-based) of the episode. */
export const ASSESSMENT_REF_SYSTEM = 'urn:kapkit:fhir:assessment-ref';

const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
const V3_INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
const V3_ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
const V3_OBSERVATION_VALUE = 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue';
const DATA_ABSENT_REASON = 'http://terminology.hl7.org/CodeSystem/data-absent-reason';
const ORDINAL_VALUE = 'http://hl7.org/fhir/StructureDefinition/ordinalValue';
/** RFC 4122 name-based (v5) UUID namespace of kapkit FHIR exports. */
const UUID_NAMESPACE = Buffer.from('b44783a9c0c0488787e399dadd91ddb0', 'hex');
/** Output is handed to the disk in chunks of about this many bytes. */
const CHUNK_BYTES = 1 << 16;

// ---------------------------------------------------------------------------------------------------------
// The resource shapes written (subsets of FHIR R4).

interface Reference {
  reference: string;
}

interface Meta {
  tag?: FhirCoding[];
  security?: FhirCoding[];
}

interface DecimalExtension {
  url: string;
  valueDecimal: number;
}

interface Patient {
  resourceType: 'Patient';
  id: string;
  meta?: Meta;
  identifier: { system: string; value: string }[];
}

interface QuestionnaireResponseItem {
  linkId: string;
  answer: ({ valueCoding: FhirCoding } | { valueInteger: number } | { valueDecimal: number })[];
}

interface QuestionnaireResponse {
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

interface Observation {
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

interface Entry {
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
function idFor(...parts: (string | number)[]): { id: string; fullUrl: string } {
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

function codeOf(definition: InstrumentDefinition, loinc: string | undefined, local: string, text: string) {
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
function answerCoding(
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

const SURVEY: FhirCodeableConcept = {
  coding: [{ system: OBSERVATION_CATEGORY, code: 'survey', display: 'Survey' }],
};
const SYNTHETIC_TAGS: FhirCoding[] = [
  { system: KAPKIT_TAG_SYSTEM, code: 'synthetic', display: 'Synthetic data, not from a real patient' },
  { system: V3_ACT_REASON, code: 'HTEST', display: 'test health data' },
];
const PSEUDONYMIZED: FhirCoding = { system: V3_OBSERVATION_VALUE, code: 'PSEUDED', display: 'pseudonymized' };

interface Flag {
  readonly rule: string;
  readonly kind: 'positive' | 'unanswered';
  readonly item: number;
  readonly message: string;
}

function flagTags(flags: readonly Flag[]): FhirCoding[] {
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
function flagInterpretation(flags: readonly Flag[]): FhirCodeableConcept[] {
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
function flagsOf(
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

function invalid(message: string): KapkitError {
  return new KapkitError('invalid-fhir-input', message);
}

// ---------------------------------------------------------------------------------------------------------
// Resources of one episode.

interface EpisodeBuild {
  readonly deidentified: boolean;
  readonly input: FhirEpisodeInput;
  readonly patient: Reference;
  readonly episodeTags: readonly FhirCoding[];
}

function meta(build: EpisodeBuild, extraTags: readonly FhirCoding[] = []): Meta | undefined {
  const tag = [...build.episodeTags, ...extraTags];
  const out: Meta = {};
  if (tag.length > 0) out.tag = tag;
  if (build.deidentified) out.security = [PSEUDONYMIZED];
  return out.tag || out.security ? out : undefined;
}

/** `authored`/`effectiveDateTime` when identified; the days-since-baseline extension when de-identified. */
function timing(build: EpisodeBuild, at: string): { extension?: DecimalExtension[]; dateTime?: string } {
  if (!build.deidentified) return { dateTime: at };
  const day = build.input.dayOf(at);
  if (typeof day !== 'number' || !Number.isFinite(day)) {
    throw invalid(
      `Episode ${build.input.episodeRef}: dayOf returned ${String(day)}, expected a finite number of days.`,
    );
  }
  return { extension: [{ url: DAYS_SINCE_BASELINE_URL, valueDecimal: day }] };
}

function assessmentEntries(
  build: EpisodeBuild,
  assessment: EpisodeAssessment,
  index: number,
  definition: InstrumentDefinition,
  enteredInError = false,
): Entry[] {
  const obsStatus = enteredInError ? ('entered-in-error' as const) : ('final' as const);
  const { episodeRef } = build.input;
  const d = definition;
  if (assessment.responses.length !== d.items.length) {
    throw invalid(
      `Episode ${episodeRef}, assessment ${index + 1} (${d.id}): ${assessment.responses.length} responses for ${d.items.length} items.`,
    );
  }
  const flags = flagsOf(d, assessment, build.input.context);
  const positive = flags.filter((f) => f.kind === 'positive');
  const { extension, dateTime } = timing(build, assessment.at);
  const name = (...parts: (string | number)[]) => idFor('assessment', episodeRef, index, ...parts);
  const qr = name('questionnaire-response');
  const derivedFrom = [{ reference: qr.fullUrl }];

  const qrItems: QuestionnaireResponseItem[] = [];
  const itemEntries: Entry[] = [];
  assessment.responses.forEach((value, i) => {
    if (value === null) return; // unanswered: omitted from the response and from the Observations
    const item = d.items[i]!;
    const hasOptions = (itemScale(d, i).options?.length ?? 0) > 0;
    const coding = hasOptions ? answerCoding(d, i, value) : undefined;
    if (hasOptions && !coding) {
      throw invalid(
        `Episode ${episodeRef}, assessment ${index + 1} (${d.id}): item ${i + 1} has no answer option ${value}.`,
      );
    }
    qrItems.push({ linkId: item.id, answer: [coding ? { valueCoding: coding } : { valueInteger: value }] });
    const itemFlags = positive.filter((f) => f.item === i + 1);
    const obs = name('item', item.id);
    const observation: Observation = {
      resourceType: 'Observation',
      id: obs.id,
      ...withMeta(meta(build, flagTags(itemFlags))),
      ...(extension ? { extension } : {}),
      status: obsStatus,
      category: [SURVEY],
      code: codeOf(d, item.loinc, item.id, `${d.name} item ${i + 1}`),
      subject: build.patient,
      ...(dateTime ? { effectiveDateTime: dateTime } : {}),
      ...(coding
        ? {
            valueCodeableConcept: {
              coding: [{ extension: [{ url: ORDINAL_VALUE, valueDecimal: value }], ...coding }],
            },
          }
        : { valueInteger: value }),
      ...(itemFlags.length > 0 ? { interpretation: flagInterpretation(itemFlags) } : {}),
      derivedFrom,
    };
    itemEntries.push({ fullUrl: obs.fullUrl, resource: observation });
  });
  if (assessment.total !== null) {
    qrItems.push({ linkId: fhirTotalLinkId(d), answer: [{ valueDecimal: assessment.total }] });
  }

  const response: QuestionnaireResponse = {
    resourceType: 'QuestionnaireResponse',
    id: qr.id,
    ...withMeta(meta(build, flagTags(flags))),
    ...(extension ? { extension } : {}),
    identifier: { system: ASSESSMENT_REF_SYSTEM, value: `${episodeRef}/${index + 1}` },
    questionnaire: fhirQuestionnaireUrl(d),
    status: enteredInError ? 'entered-in-error' : 'completed',
    subject: build.patient,
    ...(dateTime ? { authored: dateTime } : {}),
    ...(qrItems.length > 0 ? { item: qrItems } : {}),
  };

  const members = itemEntries.map((e) => ({ reference: e.fullUrl }));
  const entries: Entry[] = [{ fullUrl: qr.fullUrl, resource: response }];
  let totalEntry: Entry | undefined;
  if (assessment.total !== null) {
    const total = name('total');
    totalEntry = {
      fullUrl: total.fullUrl,
      resource: {
        resourceType: 'Observation',
        id: total.id,
        ...withMeta(meta(build)),
        ...(extension ? { extension } : {}),
        status: obsStatus,
        category: [SURVEY],
        code: codeOf(d, d.loinc?.total, 'total', `${d.name} total score`),
        subject: build.patient,
        ...(dateTime ? { effectiveDateTime: dateTime } : {}),
        // Exact: a prorated total is not rounded.
        valueQuantity: { value: assessment.total, unit: '{score}', system: UCUM, code: '{score}' },
        derivedFrom,
      },
    };
    members.push({ reference: total.fullUrl });
  }

  // The panel. A not-scorable assessment (too many unanswered items) still gets its answered items, so a
  // positive safety item is never dropped; one with no answer at all says why it has no members.
  const panel = name('panel');
  entries.push({
    fullUrl: panel.fullUrl,
    resource: {
      resourceType: 'Observation',
      id: panel.id,
      ...withMeta(meta(build, flagTags(flags))),
      ...(extension ? { extension } : {}),
      status: obsStatus,
      category: [SURVEY],
      code: codeOf(d, d.loinc?.panel, 'panel', d.name),
      subject: build.patient,
      ...(dateTime ? { effectiveDateTime: dateTime } : {}),
      ...(members.length === 0
        ? {
            dataAbsentReason: {
              coding: [{ system: DATA_ABSENT_REASON, code: 'asked-unknown', display: 'Asked But Unknown' }],
            },
          }
        : {}),
      ...(flags.length > 0 ? { interpretation: flagInterpretation(flags) } : {}),
      ...(members.length > 0 ? { hasMember: members } : {}),
      derivedFrom,
    },
  });
  entries.push(...itemEntries);
  if (totalEntry) entries.push(totalEntry);
  return entries;
}

function withMeta(m: Meta | undefined): { meta?: Meta } {
  return m ? { meta: m } : {};
}

// ---------------------------------------------------------------------------------------------------------
// File output.

function writeAt(fd: number, bytes: Uint8Array, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (done: number): void => {
      if (done >= bytes.length) {
        resolve();
        return;
      }
      fsWrite(fd, bytes, done, bytes.length - done, position + done, (error, written) => {
        if (error) reject(error);
        else step(done + written);
      });
    };
    step(0);
  });
}

function syncAndClose(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fsync(fd, (syncError) => {
      fsClose(fd, (closeError) => {
        const error = syncError ?? closeError;
        if (error) reject(error);
        else resolve();
      });
    });
  });
}

type State = 'open' | 'closing' | 'closed' | 'aborted';

/**
 * Stream a FHIR R4 `Bundle` (type `collection`) to `path` (created or truncated now; the caller renames
 * temporary files). The bundle's opening is written first, each episode's entries as it is added, and at
 * `close()` the `Questionnaire` of every instrument that appeared (from `toFhirQuestionnaire`, canonical URL
 * `urn:kapkit:questionnaire:<id>`, referenced by each `QuestionnaireResponse.questionnaire`) and the closing
 * brackets. Memory holds one episode's resources and a 64 KiB output buffer, plus the sets of patient and
 * episode refs already written (a patient with several episodes gets one `Patient`; an episode added twice is
 * refused, as its full URLs would repeat).
 *
 * Per episode: a `Patient` with no name, telecom, address, birth date or gender, only
 * `identifier` = the patient ref; per assessment a `QuestionnaireResponse` (answered items only, ordinal answers
 * as `valueCoding` with LOINC answer codes where defined, numeric ones as `valueInteger`, and the total as
 * `valueDecimal`), a panel `Observation` (LOINC panel code, category `survey`, `hasMember` the item and total
 * Observations, `derivedFrom` the response), one item `Observation` per answered item and a total `Observation`
 * (`valueQuantity` in `{score}`) when the assessment was scorable. A safety flag (e.g. PHQ-9 item 9 > 0) puts
 * an `interpretation` (v3 `A` + {@link SAFETY_FLAG_SYSTEM} `safety-flag`, with the rule's message) and
 * `meta.tag`s ({@link SAFETY_FLAG_SYSTEM}, {@link SAFETY_RULE_SYSTEM}) on the item Observation and the panel
 * (tags on the response too). Synthetic episodes are tagged `synthetic` ({@link KAPKIT_TAG_SYSTEM}) and v3
 * `HTEST`; de-identified resources carry the v3 `PSEUDED` security label.
 *
 * @throws {KapkitError} (from `addEpisode`, as a rejection) `invalid-fhir-input` for an empty ref, a response
 *   count that does not match the instrument or a non-finite `dayOf`; `duplicate-episode`; `unknown-instrument`.
 */
export function createFhirBundleWriter(path: string, options: FhirBundleWriterOptions): FhirBundleWriter {
  const deidentified = options.deidentified;
  const registry = options.registry ?? createInstrumentRegistry();
  const fd = openSync(path, 'w');
  let fdOpen = true;

  let state: State = 'open';
  let failure: unknown;
  let result: { resources: number; bytes: number } | undefined;
  let resources = 0;
  let position = 0;
  let pending: string[] = [
    JSON.stringify({
      resourceType: 'Bundle',
      ...(deidentified ? { meta: { security: [PSEUDONYMIZED] } } : {}),
      type: 'collection',
    }).slice(0, -1),
  ];
  let pendingLength = pending[0]!.length;
  const patients = new Set<string>();
  const episodes = new Set<string>();
  /** Questionnaires of the instruments seen, in order of first use (built on first use, so a bad one fails early). */
  const questionnaires = new Map<string, FhirQuestionnaire>();
  let tail: Promise<void> = Promise.resolve();

  const push = (entry: Entry): void => {
    const text = `${resources === 0 ? ',"entry":[\n' : ',\n'}${JSON.stringify(entry)}`;
    pending.push(text);
    pendingLength += text.length;
    resources++;
  };

  /** Hand the buffered text to the disk, in order, when it is large enough (or always, with `force`). */
  const drain = (force: boolean): Promise<void> => {
    if (!force && pendingLength < CHUNK_BYTES) return Promise.resolve();
    const bytes = Buffer.from(pending.join(''), 'utf8');
    pending = [];
    pendingLength = 0;
    const at = position;
    position += bytes.length;
    const run = tail.then(() => {
      if (failure !== undefined) throw failure;
      if (state === 'aborted')
        throw new KapkitError('writer-aborted', `FHIR writer for ${path} was aborted.`);
      return writeAt(fd, bytes, at);
    });
    tail = run.catch((error: unknown) => {
      failure ??= error;
    });
    return run;
  };

  const refuseIfNotOpen = (): void => {
    if (state === 'open' && failure === undefined) return;
    throw new KapkitError(
      'writer-closed',
      `FHIR writer for ${path} is ${failure === undefined ? state : 'failed'}; no more episodes can be added.`,
      failure === undefined ? undefined : { cause: failure },
    );
  };

  return {
    async addEpisode(input) {
      refuseIfNotOpen();
      const { patientRef, episodeRef, context } = input;
      if (
        typeof patientRef !== 'string' ||
        patientRef === '' ||
        typeof episodeRef !== 'string' ||
        episodeRef === ''
      ) {
        throw invalid('patientRef and episodeRef must be non-empty strings.');
      }
      if (episodes.has(episodeRef)) {
        throw new KapkitError(
          'duplicate-episode',
          `Episode ${episodeRef} was already added to the FHIR bundle.`,
        );
      }
      // Everything is built before anything is written, so a refused episode leaves no partial entries.
      const patient = idFor('patient', patientRef);
      const build: EpisodeBuild = {
        deidentified,
        input,
        patient: { reference: patient.fullUrl },
        episodeTags: context.synthetic ? SYNTHETIC_TAGS : [],
      };
      const entries: Entry[] = [];
      if (!patients.has(patientRef)) {
        entries.push({
          fullUrl: patient.fullUrl,
          resource: {
            resourceType: 'Patient',
            id: patient.id,
            ...withMeta(meta(build)),
            identifier: [{ system: PATIENT_REF_SYSTEM, value: patientRef }],
          },
        });
      }
      const added = new Map<string, FhirQuestionnaire>();
      context.assessments.forEach((assessment, i) => {
        const definition = registry.get(assessment.instrument);
        if (!questionnaires.has(definition.id) && !added.has(definition.id)) {
          added.set(definition.id, toFhirQuestionnaire(definition));
        }
        entries.push(...assessmentEntries(build, assessment, i, definition));
      });
      const offset = context.assessments.length;
      (input.enteredInError ?? []).forEach((assessment, j) => {
        const definition = registry.get(assessment.instrument);
        if (!questionnaires.has(definition.id) && !added.has(definition.id)) {
          added.set(definition.id, toFhirQuestionnaire(definition));
        }
        entries.push(...assessmentEntries(build, assessment, offset + j, definition, true));
      });
      patients.add(patientRef);
      episodes.add(episodeRef);
      for (const [id, q] of added) questionnaires.set(id, q);
      for (const entry of entries) push(entry);
      await drain(false);
    },

    async close() {
      if (state === 'closed' && result) return result;
      refuseIfNotOpen();
      state = 'closing';
      try {
        for (const [id, questionnaire] of questionnaires) {
          push({ fullUrl: idFor('questionnaire', id).fullUrl, resource: questionnaire });
        }
        const closing = resources === 0 ? '}\n' : '\n]}\n';
        pending.push(closing);
        pendingLength += closing.length;
        await drain(true);
        await tail;
        if (failure !== undefined) throw failure;
        fdOpen = false;
        await syncAndClose(fd);
        result = { resources, bytes: position };
        if (state === 'closing') state = 'closed';
        return result;
      } catch (error) {
        failure ??= error;
        throw error;
      }
    },

    async abort() {
      if (state === 'closed' || state === 'aborted') return;
      state = 'aborted';
      pending = [];
      await tail;
      if (fdOpen) {
        fdOpen = false;
        await new Promise<void>((resolve) => fsClose(fd, () => resolve()));
      }
      await rm(path, { force: true });
    },
  };
}
