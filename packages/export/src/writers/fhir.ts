import { openSync } from 'node:fs';
import { type EpisodeAssessment, type EpisodeContext, KapkitError } from '@kapkit/core';
import {
  createInstrumentRegistry,
  type FhirQuestionnaire,
  type InstrumentRegistry,
  toFhirQuestionnaire,
} from '@kapkit/core/instruments';
import { assessmentEntries, type EpisodeBuild, meta, withMeta } from './fhir/assessment-entries.js';
import {
  DAYS_SINCE_BASELINE_URL,
  type Entry,
  idFor,
  invalid,
  KAPKIT_TAG_SYSTEM,
  PATIENT_REF_SYSTEM,
  PSEUDONYMIZED,
  SAFETY_FLAG_SYSTEM,
  SAFETY_RULE_SYSTEM,
  SYNTHETIC_TAGS,
} from './fhir/vocabulary.js';
import { OrderedFileWrites, writeAt } from './file-output.js';

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

export {
  ASSESSMENT_REF_SYSTEM,
  DAYS_SINCE_BASELINE_URL,
  PATIENT_REF_SYSTEM,
  SAFETY_FLAG_SYSTEM,
  SAFETY_RULE_SYSTEM,
} from './fhir/vocabulary.js';

/** Output is handed to the disk in chunks of about this many bytes. */
const CHUNK_BYTES = 1 << 16;

/**
 * The entries of one episode: its `Patient` when `newPatient`, then every assessment's resources (the voided
 * ones last, `entered-in-error`); and the Questionnaires of instruments not `known` yet, in order of first use.
 */
function episodeEntries(
  input: FhirEpisodeInput,
  o: {
    deidentified: boolean;
    registry: InstrumentRegistry;
    newPatient: boolean;
    known: ReadonlyMap<string, FhirQuestionnaire>;
  },
): { entries: Entry[]; added: Map<string, FhirQuestionnaire> } {
  const { patientRef, context } = input;
  const patient = idFor('patient', patientRef);
  const build: EpisodeBuild = {
    deidentified: o.deidentified,
    input,
    patient: { reference: patient.fullUrl },
    episodeTags: context.synthetic ? SYNTHETIC_TAGS : [],
  };
  const entries: Entry[] = [];
  if (o.newPatient) {
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
  const voided = input.enteredInError ?? [];
  const all = [...context.assessments, ...voided];
  all.forEach((assessment, i) => {
    const definition = o.registry.get(assessment.instrument);
    if (!o.known.has(definition.id) && !added.has(definition.id)) {
      added.set(definition.id, toFhirQuestionnaire(definition));
    }
    entries.push(...assessmentEntries(build, assessment, i, definition, i >= context.assessments.length));
  });
  return { entries, added };
}

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
  /** Output is written strictly in order. */
  const file = new OrderedFileWrites(openSync(path, 'w'), path, 'FHIR', 'episodes can be added');
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
    return file.enqueue(() => writeAt(file.fd, bytes, at));
  };

  return {
    async addEpisode(input) {
      file.refuseIfNotOpen();
      const { patientRef, episodeRef } = input;
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
      const { entries, added } = episodeEntries(input, {
        deidentified,
        registry,
        newPatient: !patients.has(patientRef),
        known: questionnaires,
      });
      patients.add(patientRef);
      episodes.add(episodeRef);
      for (const [id, q] of added) questionnaires.set(id, q);
      for (const entry of entries) push(entry);
      await drain(false);
    },

    async close() {
      if (file.state === 'closed' && result) return result;
      file.refuseIfNotOpen();
      file.state = 'closing';
      try {
        for (const [id, questionnaire] of questionnaires) {
          push({ fullUrl: idFor('questionnaire', id).fullUrl, resource: questionnaire });
        }
        const closing = resources === 0 ? '}\n' : '\n]}\n';
        pending.push(closing);
        pendingLength += closing.length;
        await drain(true);
        await file.settled();
        if (file.failure !== undefined) throw file.failure;
        await file.syncAndClose();
        result = { resources, bytes: position };
        if (file.state === 'closing') file.state = 'closed';
        return result;
      } catch (error) {
        file.failure ??= error;
        throw error;
      }
    },

    async abort() {
      if (file.state !== 'closed') pending = [];
      await file.abort();
    },
  };
}
