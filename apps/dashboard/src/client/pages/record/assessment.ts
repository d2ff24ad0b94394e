import type { InstrumentDefinition } from '@kapkit/core/instruments';
import type { InstrumentView } from '../../../shared/api.js';
import { instrumentForm } from '../../../shared/instruments.js';
import { h } from '../../dom.js';
import { day, localInputValue } from '../../format.js';
import type { Built, FormContext } from '../../forms.js';
import { field, numberInput, numberValue, radios, radioValue, select } from '../../inputs.js';

import { atOf, type Correction, codeOptions, recordForm, roleField, whenField } from './fields.js';

/* An instrument's form, generated from its definition. */

type ScaleOptions = readonly { readonly value: number; readonly label: string }[];

/** Radio buttons for a scale's options, led by "Not answered". */
function scaleRadios(
  label: string | HTMLElement,
  name: string,
  options: ScaleOptions,
  key: string,
  value: string,
  attrs?: Record<string, string>,
): HTMLElement {
  return radios(
    label,
    name,
    [
      { value: '', label: 'Not answered' },
      ...options.map((o) => ({ value: String(o.value), label: `${o.value} ${o.label}` })),
    ],
    key,
    value,
    attrs,
  );
}

/** One field per item: radios for a scale with options, a number input otherwise. */
function itemFields(form: InstrumentView, correction: Correction | null): HTMLElement[] {
  return form.items.map((item, i) => {
    const key = `assessment.responses[${i}]`;
    const label = h(
      'span',
      {},
      `${item.number}. ${item.text}`,
      form.safetyItems.includes(item.number) ? h('span', { class: 'safety-tag' }, ' (safety item)') : null,
    );
    if (item.scale.options) {
      return scaleRadios(
        label,
        `item-${i}`,
        item.scale.options,
        key,
        correction ? String(correction.responses[i] ?? '') : '',
        { 'data-item': String(item.number) },
      );
    }
    const input = numberInput({ name: `item-${i}`, min: item.scale.min, max: item.scale.max, step: 1 });
    return field(
      `${item.number}. ${item.text}`,
      input,
      key,
      `${item.scale.anchors ? `${item.scale.anchors.min} to ${item.scale.anchors.max}` : `${item.scale.min} to ${item.scale.max}`}; empty if not answered.`,
    );
  });
}

function supplementaryFields(form: InstrumentView): HTMLElement[] {
  return form.supplementary.map((q) =>
    q.scale.options
      ? scaleRadios(q.text, `supp-${q.id}`, q.scale.options, `assessment.supplementary.${q.id}`, '')
      : field(q.text, numberInput({ name: `supp-${q.id}` }), `assessment.supplementary.${q.id}`),
  );
}

/** The heading, the correction note, the stem with its recall period, and the licence note. */
function formIntro(form: InstrumentView, correction: Correction | null): (HTMLElement | null)[] {
  return [
    h('h2', {}, `${correction ? 'Correct ' : ''}${form.name}: ${form.title}`),
    correction
      ? h(
          'p',
          { class: 'note' },
          `Correcting the ${form.name} of ${day(correction.at)}: saving marks that record as entered in error and stores this one instead, in one step. The old record stays in the history, struck through.`,
        )
      : null,
    form.stem
      ? h(
          'p',
          { class: 'stem' },
          form.stem.toLowerCase().includes(form.recall.toLowerCase())
            ? form.stem
            : `${form.stem} (${form.recall})`,
        )
      : h('p', { class: 'stem' }, `Recall: ${form.recall}.`),
    form.itemTextIncluded
      ? null
      : h(
          'p',
          { class: 'note' },
          `The ${form.name} licence (${form.licence.holder}) does not let kapkit ship its item text: items are shown as “Item n”. Use your licensed form for the wording.`,
        ),
  ];
}

const parseQuick = (text: string): unknown[] =>
  text
    .trim()
    .split(/[\s,;]+/)
    .map((t) => (t === '-' || t === '' ? null : /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : t));

/** The answers: the quick-entry line when filled in, else each item's field (null when not answered). */
function readResponses(el: HTMLElement, form: InstrumentView, quick: HTMLInputElement): unknown[] {
  if (quick.value.trim()) return parseQuick(quick.value);
  return form.items.map((item, i) => {
    if (item.scale.options) {
      const v = radioValue(el, `item-${i}`);
      return v === null || v === '' ? null : Number(v);
    }
    return numberValue(el.querySelector<HTMLInputElement>(`input[name="item-${i}"]`)!);
  });
}

function readSupplementary(el: HTMLElement, form: InstrumentView): Record<string, unknown> {
  const supp: Record<string, unknown> = {};
  for (const q of form.supplementary) {
    const v = q.scale.options
      ? radioValue(el, `supp-${q.id}`)
      : (el.querySelector<HTMLInputElement>(`input[name="supp-${q.id}"]`)?.value ?? '');
    if (v !== null && v !== '') supp[q.id] = Number(v);
  }
  return supp;
}

/** The assessment, or for a correction the voiding of the earlier record and the assessment, in one append. */
function assessmentEvents(
  form: InstrumentView,
  assessment: Record<string, unknown>,
  correction: Correction | null,
  recordedBy: string,
  reason: string,
): Built {
  if (!correction) return { events: [assessment], keys: ['assessment'], labels: [form.name] };
  if (recordedBy === 'patient')
    throw new Error('A correction is recorded by a clinician: choose therapist or medical team.');
  return {
    events: [
      {
        type: 'EventVoided',
        voidedEventId: correction.eventId,
        reason: reason.trim() || 'Corrected',
        recordedBy,
      },
      assessment,
    ],
    keys: ['void', 'assessment'],
    labels: ['marking the earlier record as entered in error', form.name],
  };
}

/** An instrument's form, generated from its definition (prefilled when it corrects an earlier record). */
export function assessmentForm(
  definition: InstrumentDefinition,
  ctx: FormContext,
  correction: Correction | null = null,
): HTMLElement {
  const form = instrumentForm(definition);
  const quick = h('input', {
    type: 'text',
    name: 'quick',
    autocomplete: 'off',
    inputmode: 'numeric',
    spellcheck: 'false',
  });
  const context = select(
    codeOptions(['routine', 'baseline', 'pre-dose', 'post-dose', 'integration', 'follow-up']),
    correction?.context ?? 'routine',
    { name: 'context' },
  );
  const when = whenField(
    'assessment.at',
    'When',
    correction ? localInputValue(Date.parse(correction.at)) : '',
  );
  const role = roleField('assessment.recordedBy', 'therapist');
  const reason = h('input', { type: 'text', name: 'correction-reason', maxlength: 2000 });
  const content = [
    formIntro(form, correction),
    h('div', { class: 'items' }, itemFields(form, correction)),
    field(
      'Or type all answers in item order',
      quick,
      'assessment.responses',
      `For example “${form.items.map((_, i) => (i % 4) % (form.items[0]?.scale.max ?? 3)).join(' ')}”; “-” for not answered. When filled in, it is used instead of the choices above.`,
    ),
    supplementaryFields(form),
    field('Context', context, 'assessment.context'),
    when.el,
    role.el,
    correction ? field('Why the earlier record was wrong', reason, 'void.reason', 'Required.') : null,
  ];
  const el = recordForm(
    definition.id,
    content,
    correction ? `Save the correction` : `Record ${form.name}`,
    ctx,
    () => {
      const supp = readSupplementary(el, form);
      const assessment = {
        type: 'AssessmentRecorded',
        instrument: definition.id,
        responses: readResponses(el, form, quick),
        ...(Object.keys(supp).length ? { supplementary: supp } : {}),
        context: context.value,
        recordedBy: role.input.value,
        ...atOf(when.input),
      };
      return assessmentEvents(form, assessment, correction, role.input.value, reason.value);
    },
  );
  return el;
}
