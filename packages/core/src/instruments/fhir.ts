import { InstrumentDefinitionError, type ValidationIssue } from '../errors.js';
import { defineInstrument, type InstrumentDefinition, itemScale, type ResponseScale } from './definition.js';
import { issue } from './outcome-checks.js';

/**
 * FHIR R4 `Questionnaire` export. The types below describe the parts of the resource kapkit produces (a subset
 * of FHIR R4 `Questionnaire`); the output is plain JSON, owned by the caller, ready to `JSON.stringify` or to
 * extend (`meta`, `publisher`, `date`, …) before upload.
 */

/** FHIR R4 `PublicationStatus`. */
export type FhirPublicationStatus = 'draft' | 'active' | 'retired' | 'unknown';

/** FHIR R4 `Coding` (the elements kapkit fills in). */
export interface FhirCoding {
  system: string;
  code: string;
  display?: string;
}

/** FHIR R4 `CodeableConcept`. */
export interface FhirCodeableConcept {
  coding: FhirCoding[];
  text?: string;
}

/** FHIR R4 `Expression`, as used by the SDC expression extensions. */
export interface FhirExpression {
  description?: string;
  name?: string;
  language: 'text/fhirpath' | 'text/cql' | 'application/x-fhir-query';
  expression: string;
}

/** An R4 extension with a `decimal` value (e.g. `ordinalValue`). */
export interface FhirDecimalExtension {
  url: string;
  valueDecimal: number;
}

/** An R4 extension with an `integer` value (e.g. `minValue`, `maxValue`). */
export interface FhirIntegerExtension {
  url: string;
  valueInteger: number;
}

/** An R4 extension with an `Expression` value (e.g. SDC `calculatedExpression`). */
export interface FhirExpressionExtension {
  url: string;
  valueExpression: FhirExpression;
}

/** An R4 extension with a `CodeableConcept` value (e.g. `questionnaire-itemControl`). */
export interface FhirCodeableConceptExtension {
  url: string;
  valueCodeableConcept: FhirCodeableConcept;
}

/** The extensions kapkit writes. */
export type FhirExtension =
  | FhirDecimalExtension
  | FhirIntegerExtension
  | FhirExpressionExtension
  | FhirCodeableConceptExtension;

/** FHIR R4 `Questionnaire.item.type` (`QuestionnaireItemType`). */
export type FhirQuestionnaireItemType =
  | 'group'
  | 'display'
  | 'boolean'
  | 'decimal'
  | 'integer'
  | 'date'
  | 'dateTime'
  | 'time'
  | 'string'
  | 'text'
  | 'url'
  | 'choice'
  | 'open-choice'
  | 'attachment'
  | 'reference'
  | 'quantity';

/** FHIR R4 `Questionnaire.item.answerOption` with a `Coding` value. */
export interface FhirQuestionnaireAnswerOption {
  /** Holds the `ordinalValue` extension: the option's numeric score. */
  extension?: FhirExtension[];
  valueCoding: FhirCoding;
}

/** FHIR R4 `Questionnaire.item`. Elements appear in the order the FHIR JSON format lists them. */
export interface FhirQuestionnaireItem {
  extension?: FhirExtension[];
  linkId: string;
  code?: FhirCoding[];
  prefix?: string;
  /** Absent on scored items whose text kapkit may not ship (`licence.itemTextIncluded: false`). */
  text?: string;
  type: FhirQuestionnaireItemType;
  required?: boolean;
  readOnly?: boolean;
  answerOption?: FhirQuestionnaireAnswerOption[];
  item?: FhirQuestionnaireItem[];
}

/** FHIR R4 `Questionnaire`, as produced by {@link toFhirQuestionnaire}. */
export interface FhirQuestionnaire {
  resourceType: 'Questionnaire';
  id: string;
  url: string;
  version: string;
  /** Computable name (`PHQ9`), matching the FHIR invariant que-0 `[A-Z]([A-Za-z0-9_]){0,254}`. */
  name: string;
  title: string;
  status: FhirPublicationStatus;
  subjectType: string[];
  /** Markdown. */
  description: string;
  /** Markdown. */
  copyright: string;
  /** LOINC panel code, when the instrument has one. */
  code?: FhirCoding[];
  item: FhirQuestionnaireItem[];
}

/** Options of {@link toFhirQuestionnaire}. */
export interface ToFhirQuestionnaireOptions {
  /**
   * FHIR base URL of the server that will host the Questionnaire (`https://fhir.example.org/fhir`). The canonical
   * URL becomes `${baseUrl}/Questionnaire/<id>`. Default: the location-independent `urn:kapkit:questionnaire:<id>`.
   */
  baseUrl?: string;
  /** `Questionnaire.status`. Default `'active'`. */
  status?: FhirPublicationStatus;
  /**
   * Mark every scored item `required` (default `true`). Pass `false` to let a form be submitted with unanswered
   * items, which kapkit then scores with the instrument's missing-item rule.
   */
  requireAnswers?: boolean;
}

const LOINC = 'http://loinc.org';
const ORDINAL_VALUE = 'http://hl7.org/fhir/StructureDefinition/ordinalValue';
const MIN_VALUE = 'http://hl7.org/fhir/StructureDefinition/minValue';
const MAX_VALUE = 'http://hl7.org/fhir/StructureDefinition/maxValue';
const ITEM_CONTROL = 'http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl';
const ITEM_CONTROL_SYSTEM = 'http://hl7.org/fhir/questionnaire-item-control';
const CALCULATED_EXPRESSION =
  'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression';
/** FHIR `id` datatype. */
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/**
 * Canonical URL of an instrument's Questionnaire: `urn:kapkit:questionnaire:<id>`, or
 * `${baseUrl}/Questionnaire/<id>` when a base URL is given. Use it as `QuestionnaireResponse.questionnaire`.
 */
export function fhirQuestionnaireUrl(
  definition: InstrumentDefinition,
  options: { baseUrl?: string } = {},
): string {
  return options.baseUrl === undefined
    ? `urn:kapkit:questionnaire:${definition.id}`
    : `${options.baseUrl.replace(/\/+$/, '')}/Questionnaire/${definition.id}`;
}

/** `linkId` of the read-only total-score item of an instrument's Questionnaire (`phq9-total`). */
export function fhirTotalLinkId(definition: InstrumentDefinition): string {
  return `${definition.id}-total`;
}

/** `linkId` of the display item holding the question stem (`phq9-stem`). */
function stemLinkId(definition: InstrumentDefinition): string {
  return `${definition.id}-stem`;
}

/** A FHIR computable name from a display name: `PHQ-9` → `PHQ9`, `Emotional breakthrough` → `EmotionalBreakthrough`. */
function computableName(definition: InstrumentDefinition): string {
  const joined = definition.name
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part !== '')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
  const base = joined === '' ? definition.id.charAt(0).toUpperCase() + definition.id.slice(1) : joined;
  return (/^[A-Z]/.test(base) ? base : `Q${base}`).slice(0, 255);
}

function loincCoding(code: string | undefined): FhirCoding[] | undefined {
  return code === undefined ? undefined : [{ system: LOINC, code }];
}

/** Join sentences, adding a full stop where one is missing. */
function sentences(...parts: (string | undefined)[]): string {
  return parts
    .filter((p): p is string => p !== undefined && p.trim() !== '')
    .map((p) => p.trim())
    .map((p) => (/[.!?]$/.test(p) ? p : `${p}.`))
    .join(' ');
}

function hasOptions(scale: ResponseScale): boolean {
  return scale.options !== undefined && scale.options.length > 0;
}

/** True when the total is a plain, unweighted sum of the item values: the only rule written as FHIRPath. */
function isPlainSum(definition: InstrumentDefinition): boolean {
  const { scoring } = definition;
  return scoring.method === 'sum' && scoring.groups === undefined && (scoring.factor ?? 1) === 1;
}

/** The scoring rule in words (`sum of the 9 item scores`). */
function describeRule(definition: InstrumentDefinition): string {
  const { scoring, items } = definition;
  const units = scoring.groups
    ? `the highest answer in each of ${scoring.groups.length} item groups`
    : `the ${items.length} item scores`;
  const factor = (scoring.factor ?? 1) === 1 ? '' : ` × ${scoring.factor}`;
  return `${scoring.method === 'sum' ? 'sum' : 'mean'} of ${units}${factor}`;
}

/** The missing-item rule in words (`up to 2 unanswered items are prorated`). */
function describeMissing(definition: InstrumentDefinition): string {
  const grouped = definition.scoring.groups !== undefined;
  const { maxMissing } = definition.missing;
  return maxMissing > 0
    ? `up to ${maxMissing} unanswered ${grouped ? 'item groups' : 'items'} are prorated`
    : `every ${grouped ? 'item group' : 'item'} must be answered`;
}

/** Escape a string for a single-quoted FHIRPath string literal. */
function fhirPathString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * SDC FHIRPath for a plain-sum total. Choice items contribute the `ordinalValue` of the chosen answerOption
 * through `ordinal()` (SDC 3.0 FHIRPath supplements; renamed `weight()` in FHIR R5 / SDC 4), integer items their
 * value. The result stays empty until every item is answered, so the form never shows an unprorated partial sum
 * as the total: kapkit applies the instrument's missing-item rule.
 */
function sumExpression(definition: InstrumentDefinition): FhirExpression | undefined {
  if (!isPlainSum(definition)) return undefined;
  const choice: string[] = [];
  const numeric: string[] = [];
  definition.items.forEach((item, i) => {
    (hasOptions(itemScale(definition, i)) ? choice : numeric).push(item.id);
  });
  const answers = (ids: string[]) =>
    `%resource.item.where(linkId in (${ids.map(fhirPathString).join(' | ')})).answer.value`;
  const parts: string[] = [];
  if (choice.length > 0) parts.push(`${answers(choice)}.ordinal()`);
  if (numeric.length > 0) parts.push(answers(numeric));
  // combine(), not |: a union would drop equal scores.
  const scores = parts.length === 2 ? `${parts[0]}.combine(${parts[1]})` : parts[0];
  const n = definition.items.length;
  return {
    description: `Sum of the ${n} item scores; empty until all ${n} items are answered (kapkit prorates incomplete forms).`,
    language: 'text/fhirpath',
    expression: `iif((${scores}).count() = ${n}, (${scores}).sum())`,
  };
}

/** A child display item with an item-control code (`lower`/`upper` anchors of a numeric scale). */
function anchorItem(linkId: string, text: string, control: 'lower' | 'upper'): FhirQuestionnaireItem {
  return {
    extension: [
      {
        url: ITEM_CONTROL,
        valueCodeableConcept: { coding: [{ system: ITEM_CONTROL_SYSTEM, code: control }] },
      },
    ],
    linkId,
    text,
    type: 'display',
  };
}

interface QuestionSpec {
  readonly linkId: string;
  readonly prefix?: string;
  readonly text?: string;
  readonly loinc?: string;
  readonly scale: ResponseScale;
  readonly required: boolean;
}

function question(
  definition: InstrumentDefinition,
  spec: QuestionSpec,
  textAllowed: boolean,
): FhirQuestionnaireItem {
  const { scale } = spec;
  const options = scale.options && scale.options.length > 0 ? scale.options : undefined;
  const code = loincCoding(spec.loinc);
  const anchors = textAllowed && !options ? scale.anchors : undefined;
  return {
    ...(options
      ? {}
      : {
          extension: [
            { url: MIN_VALUE, valueInteger: scale.min },
            { url: MAX_VALUE, valueInteger: scale.max },
          ],
        }),
    linkId: spec.linkId,
    ...(code ? { code } : {}),
    ...(spec.prefix !== undefined ? { prefix: spec.prefix } : {}),
    ...(textAllowed && spec.text !== undefined ? { text: spec.text } : {}),
    type: options ? 'choice' : 'integer',
    required: spec.required,
    ...(options
      ? {
          answerOption: options.map((option) => ({
            extension: [{ url: ORDINAL_VALUE, valueDecimal: option.value }],
            valueCoding:
              option.loinc === undefined
                ? {
                    system: `urn:kapkit:answer:${definition.id}`,
                    code: String(option.value),
                    display: option.label,
                  }
                : { system: LOINC, code: option.loinc, display: option.label },
          })),
        }
      : {}),
    ...(anchors
      ? {
          item: [
            anchorItem(`${spec.linkId}-lower`, anchors.min, 'lower'),
            anchorItem(`${spec.linkId}-upper`, anchors.max, 'upper'),
          ],
        }
      : {}),
  };
}

/** Checks {@link defineInstrument} does not make but a FHIR export needs. */
function checkExportable(definition: InstrumentDefinition): void {
  const out: ValidationIssue[] = [];
  if (!FHIR_ID.test(definition.id)) {
    out.push(
      issue(
        ['id'],
        'a FHIR id: 1–64 letters, digits, "-" or "."',
        definition.id,
        'id is not a valid FHIR id',
      ),
    );
  }
  definition.supplementary?.forEach((q, i) => {
    const { min, max } = q.scale;
    if (!Number.isInteger(min) || !Number.isInteger(max) || min > max) {
      out.push(
        issue(
          ['supplementary', i, 'scale'],
          'integer min ≤ max',
          `${min}..${max}`,
          `supplementary "${q.id}": bad scale`,
        ),
      );
    }
  });
  if (out.length > 0) throw new InstrumentDefinitionError(definition.id, out);
}

/** FHIR invariant que-2: linkIds are unique across the whole item tree. */
function checkLinkIds(definition: InstrumentDefinition, items: readonly FhirQuestionnaireItem[]): void {
  const out: ValidationIssue[] = [];
  const seen = new Set<string>();
  const walk = (list: readonly FhirQuestionnaireItem[]) => {
    for (const item of list) {
      if (seen.has(item.linkId)) {
        out.push(
          issue(
            [item.linkId],
            'unique FHIR linkIds',
            item.linkId,
            `two Questionnaire items would share the linkId "${item.linkId}" (item, supplementary question, stem or total)`,
          ),
        );
      }
      seen.add(item.linkId);
      if (item.item) walk(item.item);
    }
  };
  walk(items);
  if (out.length > 0) throw new InstrumentDefinitionError(definition.id, out);
}

/**
 * A FHIR R4 `Questionnaire` for an instrument (built-in or user-registered).
 *
 * Items, in order: the question stem as a `display` item; one item per scored item (`linkId` = item id,
 * `prefix` = item number, LOINC item code, `required`), a `choice` with LOINC-coded `answerOption`s carrying the
 * `ordinalValue` extension, or an `integer` with `minValue`/`maxValue` when the scale has no labelled options;
 * the supplementary questions (not required); and a read-only `decimal` total (`<id>-total`, LOINC total code)
 * with an SDC `calculatedExpression` when the total is a plain sum. Item text, stem and scale anchors are
 * omitted when `licence.itemTextIncluded` is false: kapkit never invents text.
 *
 * @example
 * ```ts
 * const questionnaire = toFhirQuestionnaire(phq9, { baseUrl: 'https://fhir.example.org/fhir' });
 * questionnaire.url; // 'https://fhir.example.org/fhir/Questionnaire/phq9'
 * await fetch(questionnaire.url, { method: 'PUT', body: JSON.stringify(questionnaire) });
 * ```
 * @throws {InstrumentDefinitionError} when the definition is inconsistent, its id is not a valid FHIR id, a
 *   supplementary scale is invalid, or two items would share a `linkId`.
 */
export function toFhirQuestionnaire(
  definition: InstrumentDefinition,
  options: ToFhirQuestionnaireOptions = {},
): FhirQuestionnaire {
  defineInstrument(definition);
  const d = definition;
  const textAllowed = d.licence.itemTextIncluded;
  const totalLinkId = fhirTotalLinkId(d);
  const showStem = textAllowed && d.stem !== undefined && d.stem.trim() !== '';
  checkExportable(d);

  const items: FhirQuestionnaireItem[] = [];
  if (showStem && d.stem !== undefined) items.push({ linkId: stemLinkId(d), text: d.stem, type: 'display' });
  const requireAnswers = options.requireAnswers ?? true;
  d.items.forEach((item, i) => {
    items.push(
      question(
        d,
        {
          linkId: item.id,
          prefix: String(i + 1),
          text: item.text,
          loinc: item.loinc,
          scale: itemScale(d, i),
          required: requireAnswers,
        },
        textAllowed,
      ),
    );
  });
  for (const q of d.supplementary ?? []) {
    items.push(
      question(
        d,
        { linkId: q.id, text: q.text, loinc: q.loinc, scale: q.scale, required: false },
        textAllowed,
      ),
    );
  }

  const expression = sumExpression(d);
  const totalCode = loincCoding(d.loinc?.total);
  items.push({
    ...(expression ? { extension: [{ url: CALCULATED_EXPRESSION, valueExpression: expression }] } : {}),
    linkId: totalLinkId,
    ...(totalCode ? { code: totalCode } : {}),
    text: expression
      ? `${d.name} total score`
      : `${d.name} total score (calculated by kapkit, not by this form: ${describeRule(d)}; ${describeMissing(d)})`,
    type: 'decimal',
    readOnly: true,
  });
  checkLinkIds(d, items);

  const panel = loincCoding(d.loinc?.panel);
  return {
    resourceType: 'Questionnaire',
    id: d.id,
    url: fhirQuestionnaireUrl(d, options),
    version: d.version,
    name: computableName(d),
    title: d.title,
    status: options.status ?? 'active',
    subjectType: ['Patient'],
    description: sentences(
      `${d.title} (${d.name})`,
      `Measures: ${d.construct}`,
      `Recall period: ${d.recall}`,
      `${d.items.length} items; total ${d.range.min}–${d.range.max}, ${d.direction === 'higher-is-worse' ? 'higher is worse' : 'higher is better'}`,
      `Total = ${describeRule(d)}`,
      `Missing items: ${describeMissing(d)}`,
      `Missing-item rule source: ${d.missing.source}`,
      textAllowed
        ? undefined
        : 'Item text is not included (licence): present the items from your licensed copy of the instrument',
    ),
    copyright: sentences(
      `Copyright holder: ${d.licence.holder}`,
      d.licence.terms,
      d.licence.url ? `See ${d.licence.url}` : undefined,
    ),
    ...(panel ? { code: panel } : {}),
    item: items,
  };
}
