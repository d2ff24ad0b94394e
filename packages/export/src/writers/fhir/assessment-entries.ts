import type { EpisodeAssessment } from '@kapkit/core';
import {
  type FhirCoding,
  fhirQuestionnaireUrl,
  fhirTotalLinkId,
  type InstrumentDefinition,
  itemScale,
} from '@kapkit/core/instruments';
import type { FhirEpisodeInput } from '../fhir.js';
import {
  ASSESSMENT_REF_SYSTEM,
  answerCoding,
  codeOf,
  DATA_ABSENT_REASON,
  DAYS_SINCE_BASELINE_URL,
  type DecimalExtension,
  type Entry,
  flagInterpretation,
  flagsOf,
  flagTags,
  idFor,
  invalid,
  type Meta,
  type Observation,
  ORDINAL_VALUE,
  PSEUDONYMIZED,
  type QuestionnaireResponse,
  type QuestionnaireResponseItem,
  type Reference,
  SURVEY,
  UCUM,
} from './vocabulary.js';

/* The resources of one assessment: QuestionnaireResponse, panel, item and total Observations. */

// ---------------------------------------------------------------------------------------------------------
// Resources of one episode.

export interface EpisodeBuild {
  readonly deidentified: boolean;
  readonly input: FhirEpisodeInput;
  readonly patient: Reference;
  readonly episodeTags: readonly FhirCoding[];
}

export function meta(build: EpisodeBuild, extraTags: readonly FhirCoding[] = []): Meta | undefined {
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

/** The opening every Observation of an assessment shares, up to its time (value, members and links follow). */
function observationHead(
  build: EpisodeBuild,
  id: string,
  tags: readonly FhirCoding[],
  when: { extension?: DecimalExtension[]; dateTime?: string },
  status: 'final' | 'entered-in-error',
  code: Observation['code'],
) {
  return {
    resourceType: 'Observation' as const,
    id,
    ...withMeta(meta(build, tags)),
    ...(when.extension ? { extension: when.extension } : {}),
    status,
    category: [SURVEY],
    code,
    subject: build.patient,
    ...(when.dateTime ? { effectiveDateTime: when.dateTime } : {}),
  };
}

export function assessmentEntries(
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
  const when = timing(build, assessment.at);
  const { extension, dateTime } = when;
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
    const code = codeOf(d, item.loinc, item.id, `${d.name} item ${i + 1}`);
    const observation: Observation = {
      ...observationHead(build, obs.id, flagTags(itemFlags), when, obsStatus, code),
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
        ...observationHead(
          build,
          total.id,
          [],
          when,
          obsStatus,
          codeOf(d, d.loinc?.total, 'total', `${d.name} total score`),
        ),
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
      ...observationHead(
        build,
        panel.id,
        flagTags(flags),
        when,
        obsStatus,
        codeOf(d, d.loinc?.panel, 'panel', d.name),
      ),
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

export function withMeta(m: Meta | undefined): { meta?: Meta } {
  return m ? { meta: m } : {};
}
