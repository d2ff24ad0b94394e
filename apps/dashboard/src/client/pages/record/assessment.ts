import type { InstrumentDefinition } from '@kapkit/core';
import { instrumentForm } from '../../../shared/instruments.js';
import { h } from '../../dom.js';
import { day, localInputValue } from '../../format.js';
import {
  type Built,
  type FormContext,
  field,
  numberInput,
  numberValue,
  radios,
  radioValue,
  select,
  wireForm,
} from '../../forms.js';

import { atOf, type Correction, roleField, submitButton, whenField } from './fields.js';

/* An instrument's form, generated from its definition. */

/** An instrument's form, generated from its definition (prefilled when it corrects an earlier record). */
export function assessmentForm(
  definition: InstrumentDefinition,
  ctx: FormContext,
  correction: Correction | null = null,
): HTMLElement {
  const form = instrumentForm(definition);
  const items = form.items.map((item, i) => {
    const key = `assessment.responses[${i}]`;
    const label = h(
      'span',
      {},
      `${item.number}. ${item.text}`,
      form.safetyItems.includes(item.number) ? h('span', { class: 'safety-tag' }, ' (safety item)') : null,
    );
    if (item.scale.options) {
      return radios(
        label,
        `item-${i}`,
        [
          { value: '', label: 'Not answered' },
          ...item.scale.options.map((o) => ({ value: String(o.value), label: `${o.value} ${o.label}` })),
        ],
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
  const quick = h('input', {
    type: 'text',
    name: 'quick',
    autocomplete: 'off',
    inputmode: 'numeric',
    spellcheck: 'false',
  });
  const supplementary = form.supplementary.map((q) =>
    q.scale.options
      ? radios(
          q.text,
          `supp-${q.id}`,
          [
            { value: '', label: 'Not answered' },
            ...q.scale.options.map((o) => ({ value: String(o.value), label: `${o.value} ${o.label}` })),
          ],
          `assessment.supplementary.${q.id}`,
          '',
        )
      : field(q.text, numberInput({ name: `supp-${q.id}` }), `assessment.supplementary.${q.id}`),
  );
  const context = select(
    ['routine', 'baseline', 'pre-dose', 'post-dose', 'integration', 'follow-up'].map((v) => ({
      value: v,
      label: v.replace('-', ' '),
    })),
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
  const el = h(
    'form',
    { class: 'record-form', 'data-form': definition.id },
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
    h('div', { class: 'items' }, items),
    field(
      'Or type all answers in item order',
      quick,
      'assessment.responses',
      `For example “${form.items.map((_, i) => (i % 4) % (form.items[0]?.scale.max ?? 3)).join(' ')}”; “-” for not answered. When filled in, it is used instead of the choices above.`,
    ),
    supplementary,
    field('Context', context, 'assessment.context'),
    when.el,
    role.el,
    correction ? field('Why the earlier record was wrong', reason, 'void.reason', 'Required.') : null,
    submitButton(correction ? `Save the correction` : `Record ${form.name}`),
  );
  const parseQuick = (text: string): unknown[] =>
    text
      .trim()
      .split(/[\s,;]+/)
      .map((t) => (t === '-' || t === '' ? null : /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : t));
  wireForm(el, ctx, (): Built => {
    const responses = quick.value.trim()
      ? parseQuick(quick.value)
      : form.items.map((item, i) => {
          if (item.scale.options) {
            const v = radioValue(el, `item-${i}`);
            return v === null || v === '' ? null : Number(v);
          }
          return numberValue(el.querySelector<HTMLInputElement>(`input[name="item-${i}"]`)!);
        });
    const supp: Record<string, unknown> = {};
    for (const q of form.supplementary) {
      const v = q.scale.options
        ? radioValue(el, `supp-${q.id}`)
        : (el.querySelector<HTMLInputElement>(`input[name="supp-${q.id}"]`)?.value ?? '');
      if (v !== null && v !== '') supp[q.id] = Number(v);
    }
    const assessment = {
      type: 'AssessmentRecorded',
      instrument: definition.id,
      responses,
      ...(Object.keys(supp).length ? { supplementary: supp } : {}),
      context: context.value,
      recordedBy: role.input.value,
      ...atOf(when.input),
    };
    if (!correction) return { events: [assessment], keys: ['assessment'], labels: [form.name] };
    if (role.input.value === 'patient')
      throw new Error('A correction is recorded by a clinician: choose therapist or medical team.');
    return {
      events: [
        {
          type: 'EventVoided',
          voidedEventId: correction.eventId,
          reason: reason.value.trim() || 'Corrected',
          recordedBy: role.input.value,
        },
        assessment,
      ],
      keys: ['void', 'assessment'],
      labels: ['marking the earlier record as entered in error', form.name],
    };
  });
  return el;
}
