/**
 * Recording forms. Instrument forms are generated from the instrument definitions (items, answer options,
 * item text where the licence ships it, else "Item n"); the other forms record the steps of a KAP course. Every
 * submission goes through the episode machine on the server, with the episode version the form was loaded at.
 */
import type { InstrumentDefinition } from '@kapkit/core';
import type { EpisodeView, PatientResponse } from '../../shared/api.js';
import { instrumentForm } from '../../shared/instruments.js';
import { api } from '../api.js';
import { h, mount, on } from '../dom.js';
import { day, localInputToIso, localInputValue, words } from '../format.js';
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
} from '../forms.js';
import { instruments } from '../instruments.js';
import { demoBadge, link } from '../ui.js';

const MINUTE = 60_000;

const ROLE_OPTIONS = [
  { value: 'therapist', label: 'Therapist' },
  { value: 'medical', label: 'Medical team' },
  { value: 'patient', label: 'Patient (self-report)' },
];
const MODE_OPTIONS = [
  { value: 'in-person', label: 'In person' },
  { value: 'telehealth', label: 'Telehealth' },
];

function whenField(key: string, label = 'When', value = ''): { el: HTMLElement; input: HTMLInputElement } {
  const input = h('input', { type: 'datetime-local', name: 'at', value });
  return {
    el: field(label, input, key, 'Leave empty for now. Your browser’s time zone is recorded with it.'),
    input,
  };
}

function atOf(input: HTMLInputElement): Record<string, string> {
  return input.value ? { at: localInputToIso(input.value) } : {};
}

function roleField(key: string, value: string) {
  const input = select(ROLE_OPTIONS, value, { name: 'recordedBy' });
  return { el: field('Recorded by', input, key), input };
}

function submitButton(text: string) {
  return h('button', { type: 'submit', class: 'button primary' }, text);
}

/** The record an assessment form corrects: its event, voided and replaced in one atomic append. */
interface Correction {
  readonly eventId: string;
  readonly at: string;
  readonly responses: readonly (number | null)[];
  readonly context: string | null;
}

/** An instrument's form, generated from its definition (prefilled when it corrects an earlier record). */
function assessmentForm(
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

/** A dosing session: booking, pre-dose vitals, dose (hold policy, override with a reason), post-dose vitals. */
function dosingForm(ep: EpisodeView, ctx: FormContext): HTMLElement {
  const p = ep.prescription;
  const lastMs = ep.context.lastEventAt ? Date.parse(ep.context.lastEventAt) : 0;
  // Journey Clinical sessions last 2–3 hours; the policy observes 2 hours after the last dose.
  const duration = numberInput({ name: 'duration', min: 1, max: 1440, value: 180 });
  const startDefault = Math.max(Date.now() - 180 * MINUTE, lastMs + MINUTE);
  const start = h('input', { type: 'datetime-local', name: 'start', value: localInputValue(startDefault) });
  const mode = select(MODE_OPTIONS, 'in-person', { name: 'mode' });
  const chaperone = h('input', { type: 'checkbox', name: 'chaperone' });
  const preSys = numberInput({ name: 'pre-systolic', min: 40, max: 300 });
  const preDia = numberInput({ name: 'pre-diastolic', min: 20, max: 200 });
  const preHr = numberInput({ name: 'pre-hr', min: 20, max: 250 });
  const preSpo2 = numberInput({ name: 'pre-spo2', min: 50, max: 100 });
  const holdNote = h('p', { class: 'hold-warning', role: 'status', hidden: true });
  const outcome = radios(
    'Outcome of the session',
    'outcome',
    [
      { value: 'dosed', label: 'Dose given, session completed' },
      { value: 'aborted', label: 'Session stopped without a dose' },
    ],
    'outcome',
    'dosed',
  );
  const kind = select(
    [
      { value: 'full', label: 'Full dose' },
      { value: 'half', label: 'Half dose' },
    ],
    'full',
    { name: 'kind' },
  );
  const planned = ep.nextPlannedDoseMg;
  const doseMg = numberInput({ name: 'dose-mg', min: 1, max: 2000, value: planned ?? p?.doseMg ?? '' });
  if (planned !== null && p && Math.abs(planned - p.doseMg / 2) < 1e-9) kind.value = 'half';
  const doseReason = h('textarea', { name: 'dose-reason', rows: 2, maxlength: 2000 });
  const override = h('input', { type: 'checkbox', name: 'override' });
  const overrideReason = h('textarea', { name: 'override-reason', rows: 2, maxlength: 2000 });
  const completionReason = h('textarea', { name: 'completion-reason', rows: 2, maxlength: 2000 });
  const recorder = select(
    [
      { value: 'therapist', label: 'Therapist' },
      { value: 'medical', label: 'Medical team' },
    ],
    'therapist',
    { name: 'recordedBy' },
  );
  const booster = numberInput({ name: 'booster-mg', min: 1, max: 2000 });
  const postSys = numberInput({ name: 'post-systolic', min: 40, max: 300 });
  const postDia = numberInput({ name: 'post-diastolic', min: 20, max: 200 });
  const postHr = numberInput({ name: 'post-hr', min: 20, max: 250 });
  const postSpo2 = numberInput({ name: 'post-spo2', min: 50, max: 100 });
  const abortReason = select(
    ['vitals-hold', 'patient-declined', 'adverse-event', 'technical', 'other'].map((v) => ({
      value: v,
      label: v.replace('-', ' '),
    })),
    'vitals-hold',
    { name: 'abort-reason' },
  );
  const { holdSystolicAbove: hs, holdDiastolicAbove: hd } = ep.policy;
  const checkHold = () => {
    const s = Number(preSys.value);
    const d = Number(preDia.value);
    const above = (preSys.value !== '' && s > hs) || (preDia.value !== '' && d > hd);
    holdNote.hidden = !above;
    holdNote.textContent = above
      ? `Above the hold threshold (${hs}/${hd} mmHg): the dose will be refused unless a clinician overrides the hold with a reason. Re-measuring is an option.`
      : '';
  };
  on(preSys, 'input', checkHold);
  on(preDia, 'input', checkHold);
  const overrideBox = h(
    'fieldset',
    { class: 'group', 'data-key': 'dose.vitalsOverride' },
    h('legend', {}, 'Vitals hold override'),
    h(
      'p',
      { class: 'hint' },
      `The episode policy holds dosing when pre-dose blood pressure is above ${hs}/${hd} mmHg (and on a high heart rate or low SpO₂). Only the medical team may override it; the reason is recorded.`,
    ),
    h('label', {}, override, ' The medical team overrides the hold'),
    field(
      'Reason for the override',
      overrideReason,
      'dose.vitalsOverride.reason',
      'Say why (e.g. a repeat reading by phone); at least 10 letters or digits.',
    ),
    h('p', { class: 'field-error', hidden: true }),
  );
  const doseGroup = h(
    'fieldset',
    { class: 'group', 'data-key': 'dose' },
    h('legend', {}, 'Dose'),
    field('Kind', kind, 'dose.kind'),
    field(
      'Dose (mg)',
      doseMg,
      'dose.doseMg',
      p ? `Prescribed: ${p.doseMg} mg ${p.route} (${p.formulation}).` : 'No prescription recorded.',
    ),
    h('p', { class: 'hint' }, `On hand: ${ep.dosesOnHand} dose(s); units used follow from the mg.`),
    planned !== null
      ? field(
          'Why the dose departs from the plan',
          doseReason,
          'dose.reason',
          `The treatment plan’s titration step for this session is ${planned} mg; a different dose needs a reason.`,
        )
      : null,
    field(
      'Booster (mg), optional',
      booster,
      'booster.doseMg',
      p ? `At most ${p.doseMg / 2} mg (half the prescribed dose), one per session.` : undefined,
    ),
    overrideBox,
    h('p', { class: 'field-error', hidden: true }),
  );
  const postGroup = h(
    'fieldset',
    { class: 'group', 'data-key': 'post' },
    h('legend', {}, 'Vitals at the end of the session'),
    h(
      'div',
      { class: 'row' },
      field('Systolic (mmHg)', postSys, 'post.systolic'),
      field('Diastolic (mmHg)', postDia, 'post.diastolic'),
      field('Heart rate (bpm)', postHr, 'post.heartRate'),
      field('SpO₂ (%)', postSpo2, 'post.spo2'),
    ),
    field('Session length (minutes)', duration, 'complete.durationMinutes'),
    field(
      'Reason, if the session ended within 2 hours of the last dose or with blood pressure still above the hold',
      completionReason,
      'complete.reason',
    ),
    h('p', { class: 'field-error', hidden: true }),
  );
  const abortGroup = h(
    'fieldset',
    { class: 'group', hidden: true, 'data-key': 'abort' },
    h('legend', {}, 'Why the session stopped'),
    field('Reason', abortReason, 'abort.reason'),
  );
  const sync = () => {
    const aborted = radioValue(el, 'outcome') === 'aborted';
    doseGroup.hidden = aborted;
    postGroup.hidden = aborted;
    abortGroup.hidden = !aborted;
  };
  const el = h(
    'form',
    { class: 'record-form', 'data-form': 'dosing' },
    h('h2', {}, 'Dosing session'),
    h(
      'p',
      { class: 'hint' },
      'Records the whole session: booking, pre-dose vitals, the dose, vitals at the end and completion. The episode machine checks each step (preparation, training, integration since the last dose, medication on hand, the vitals hold).',
    ),
    h(
      'fieldset',
      { class: 'group', 'data-key': 'schedule' },
      h('legend', {}, 'Session'),
      field('Started', start, 'schedule.scheduledFor'),
      field('Mode', mode, 'schedule.mode'),
      h('label', {}, chaperone, ' A chaperone is physically present (required for a remote session)'),
      field('Recorded by', recorder, 'schedule.recordedBy'),
    ),
    h(
      'fieldset',
      { class: 'group', 'data-key': 'pre' },
      h('legend', {}, 'Vitals before the dose'),
      h(
        'div',
        { class: 'row' },
        field('Systolic (mmHg)', preSys, 'pre.systolic'),
        field('Diastolic (mmHg)', preDia, 'pre.diastolic'),
        field('Heart rate (bpm)', preHr, 'pre.heartRate'),
        field('SpO₂ (%)', preSpo2, 'pre.spo2'),
      ),
      holdNote,
      h('p', { class: 'field-error', hidden: true }),
    ),
    outcome,
    doseGroup,
    postGroup,
    abortGroup,
    submitButton('Record dosing session'),
  );
  for (const r of outcome.querySelectorAll('input')) on(r, 'change', sync);
  wireForm(el, ctx, (): Built => {
    if (!start.value) throw new Error('Enter when the session started.');
    const t0 = Date.parse(localInputToIso(start.value));
    const at = (ms: number) => localInputToIso(localInputValue(ms));
    const sessionId = `session-${start.value.replace(/\D/g, '')}-${Math.floor(Math.random() * 1e6)}`;
    const events: Record<string, unknown>[] = [];
    const keys: string[] = [];
    const labels: string[] = [];
    const push = (key: string, label: string, e: Record<string, unknown>) => {
      events.push({ ...e, recordedBy: recorder.value });
      keys.push(key);
      labels.push(label);
    };
    const vitals = (
      phase: string,
      s: HTMLInputElement,
      d: HTMLInputElement,
      hr: HTMLInputElement,
      spo2?: HTMLInputElement,
    ) => ({
      type: 'VitalsRecorded',
      sessionId,
      phase,
      systolic: numberValue(s),
      diastolic: numberValue(d),
      ...(hr.value ? { heartRate: numberValue(hr) } : {}),
      ...(spo2?.value ? { spo2: numberValue(spo2) } : {}),
    });
    push('schedule', 'booking', {
      type: 'DosingSessionScheduled',
      sessionId,
      scheduledFor: at(t0),
      mode: mode.value,
      ...(chaperone.checked ? { chaperone: true } : {}),
      at: at(t0),
    });
    const hasPre = preSys.value !== '' || preDia.value !== '';
    if (hasPre || radioValue(el, 'outcome') !== 'aborted') {
      push('pre', 'vitals before the dose', {
        ...vitals('pre', preSys, preDia, preHr, preSpo2),
        at: at(t0 + 5 * MINUTE),
      });
    }
    if (radioValue(el, 'outcome') === 'aborted') {
      push('abort', 'stopping the session', {
        type: 'DosingSessionAborted',
        sessionId,
        reason: abortReason.value,
        at: at(t0 + 10 * MINUTE),
      });
      return { events, keys, labels };
    }
    const minutes = Number(duration.value) || 180;
    push('dose', 'the dose', {
      type: 'DoseAdministered',
      sessionId,
      kind: kind.value,
      doseMg: numberValue(doseMg),
      route: p?.route ?? 'sublingual',
      formulation: p?.formulation ?? 'sublingual-lozenge',
      ...(override.checked
        ? { vitalsOverride: { clinicianRole: 'medical', reason: overrideReason.value } }
        : {}),
      ...(doseReason.value.trim() ? { reason: doseReason.value.trim() } : {}),
      at: at(t0 + 10 * MINUTE),
    });
    if (booster.value) {
      push('booster', 'the booster', {
        type: 'DoseAdministered',
        sessionId,
        kind: 'booster',
        doseMg: numberValue(booster),
        route: p?.route ?? 'sublingual',
        formulation: p?.formulation ?? 'sublingual-lozenge',
        at: at(t0 + 40 * MINUTE),
      });
    }
    push('post', 'vitals at the end', {
      ...vitals('post', postSys, postDia, postHr, postSpo2),
      at: at(t0 + Math.max(minutes - 5, 11) * MINUTE),
    });
    push('complete', 'completing the session', {
      type: 'DosingSessionCompleted',
      sessionId,
      durationMinutes: numberValue(duration),
      ...(completionReason.value.trim() ? { reason: completionReason.value.trim() } : {}),
      at: at(t0 + Math.max(minutes, 12) * MINUTE),
    });
    return { events, keys, labels };
  });
  return el;
}

function simpleForm(
  title: string,
  formId: string,
  hint: string,
  ctx: FormContext,
  fields: HTMLElement[],
  build: () => Record<string, unknown>[],
  key: string,
  buttonText: string,
): HTMLElement {
  const el = h(
    'form',
    { class: 'record-form', 'data-form': formId },
    h('h2', {}, title),
    h('p', { class: 'hint' }, hint),
    fields,
    submitButton(buttonText),
  );
  wireForm(el, ctx, () => {
    const events = build();
    return {
      events,
      keys: events.map((_, i) => (i === 0 ? key : `${key}${i}`)),
      labels: events.map((e) => String(e.type)),
    };
  });
  return el;
}

function preparationForm(ctx: FormContext): HTMLElement {
  const mode = select(MODE_OPTIONS, 'in-person', { name: 'mode' });
  const intentions = h('input', { type: 'checkbox', name: 'intentions', checked: true });
  const when = whenField('prep.at');
  return simpleForm(
    'Preparation session',
    'preparation',
    'A preparation session aligns on the process and sets intentions; the policy asks for one before the first dose.',
    ctx,
    [
      field('Mode', mode, 'prep.mode'),
      h('label', { class: 'check' }, intentions, ' Intentions set'),
      when.el,
    ],
    () => [
      {
        type: 'PreparationSessionCompleted',
        mode: mode.value,
        intentionsSet: intentions.checked,
        recordedBy: 'therapist',
        ...atOf(when.input),
      },
    ],
    'prep',
    'Record preparation session',
  );
}

function integrationForm(ep: EpisodeView, ctx: FormContext): HTMLElement {
  const mode = select(MODE_OPTIONS, 'in-person', { name: 'mode' });
  const sessions = ep.doses.map((d) => ({
    value: d.sessionId,
    label: `Dose ${d.doseNumber} (${day(d.at)})`,
  }));
  const session = select(
    [{ value: '', label: 'Not tied to one session' }, ...sessions.reverse()],
    sessions[0]?.value ?? '',
    { name: 'session' },
  );
  const when = whenField('integration.at');
  return simpleForm(
    'Integration session',
    'integration',
    'Integration sessions follow each dosing session and prepare the next one.',
    ctx,
    [field('Mode', mode, 'integration.mode'), field('Integrates', session, 'integration.sessionId'), when.el],
    () => [
      {
        type: 'IntegrationSessionCompleted',
        mode: mode.value,
        ...(session.value ? { sessionId: session.value } : {}),
        recordedBy: 'therapist',
        ...atOf(when.input),
      },
    ],
    'integration',
    'Record integration session',
  );
}

function followUpForm(ctx: FormContext): HTMLElement {
  const cont = radios(
    'Continue treatment?',
    'continue',
    [
      { value: 'yes', label: 'Yes' },
      { value: 'no', label: 'No' },
    ],
    'followup.continueTreatment',
    'yes',
  );
  const when = whenField('followup.at');
  return simpleForm(
    'Medical follow-up',
    'follow-up',
    'The medical team follows up at least once a quarter after the first dose, to review progress and authorise refills.',
    ctx,
    [cont, when.el],
    () => [
      {
        type: 'MedicalFollowUpCompleted',
        continueTreatment: radioValue(cont, 'continue') !== 'no',
        ...atOf(when.input),
      },
    ],
    'followup',
    'Record follow-up',
  );
}

function refillForm(ep: EpisodeView, ctx: FormContext): HTMLElement {
  const refill = numberInput({ name: 'refill', min: 1, max: 100, step: 1 });
  const delivered = numberInput({ name: 'delivered', min: 1, max: 100, step: 1 });
  const lot = h('input', { type: 'text', name: 'lot', maxlength: 100 });
  const when = whenField('refill.at');
  const el = h(
    'form',
    { class: 'record-form', 'data-form': 'refill' },
    h('h2', {}, 'Refill and delivery'),
    h(
      'p',
      { class: 'hint' },
      `Authorised so far: ${ep.dosesAuthorized}; on hand: ${ep.dosesOnHand}. A refill needs a medical follow-up since the last prescription or refill (policy).`,
    ),
    field(
      'Refill: doses authorised',
      refill,
      'refill.dosesAuthorized',
      'Leave empty to record a delivery only.',
    ),
    field(
      'Delivered to the patient: doses',
      delivered,
      'delivery.doses',
      'Leave empty to record a refill only.',
    ),
    field('Lot (optional)', lot, 'delivery.lot'),
    when.el,
    submitButton('Record'),
  );
  wireForm(el, ctx, (): Built => {
    const events: Record<string, unknown>[] = [];
    const keys: string[] = [];
    const labels: string[] = [];
    const at = atOf(when.input);
    if (refill.value !== '') {
      events.push({
        type: 'RefillIssued',
        dosesAuthorized: numberValue(refill),
        ...at,
      });
      keys.push('refill');
      labels.push('the refill');
    }
    if (delivered.value !== '') {
      events.push({
        type: 'MedicationDelivered',
        doses: numberValue(delivered),
        ...(lot.value ? { lot: lot.value } : {}),
        ...at,
      });
      keys.push('delivery');
      labels.push('the delivery');
    }
    if (events.length === 0) throw new Error('Enter a refill, a delivery, or both.');
    return { events, keys, labels };
  });
  return el;
}

const REVIEW_OUTCOMES = [
  { value: 'no-current-risk', label: 'No current risk' },
  { value: 'safety-plan', label: 'Safety plan made' },
  { value: 'escalated', label: 'Escalated' },
];

function clinicianField(key: string) {
  const input = select(
    [
      { value: 'therapist', label: 'Therapist' },
      { value: 'medical', label: 'Medical team' },
    ],
    'therapist',
    { name: 'recordedBy' },
  );
  return { el: field('Reviewed by', input, key), input };
}

/** Reviews of safety flags and of adverse events: a dose waits for them, and the alerts stay until they exist. */
function reviewForm(ep: EpisodeView, ctx: FormContext): HTMLElement {
  const flags = ep.unreviewedSafetyFlags;
  const adverse = ep.unreviewedAdverseEvents;
  if (flags.length === 0 && adverse.length === 0) {
    return h('p', { class: 'muted' }, 'No safety flag or adverse event waits for a review.');
  }
  const choices = [
    ...flags.map((f, i) => ({
      value: `flag-${i}`,
      label: `${f.instrument.toUpperCase()} item ${f.item} ${f.kind === 'positive' ? `answered ${f.value}` : 'unanswered'} on ${day(f.at)}`,
    })),
    ...adverse.map((a, i) => ({
      value: `adverse-${i}`,
      label: `${a.severity} adverse event: ${a.code.replaceAll('-', ' ')} on ${day(a.at)}${a.unknownSession ? ' (names an unknown session)' : ''}`,
    })),
  ];
  const which = select(choices, choices[0]!.value, { name: 'flag' });
  const outcome = radios('Outcome of the review', 'review-outcome', REVIEW_OUTCOMES, 'review.outcome');
  const when = whenField('review.at');
  const by = clinicianField('review.recordedBy');
  return simpleForm(
    'Safety review',
    'review',
    'Record the follow-up of a safety flag (for example a suicide risk assessment such as the C-SSRS after a positive PHQ-9 item 9) or of an adverse event. A dose is refused and the alert stays until a clinician records the review.',
    ctx,
    [field('Flag or adverse event', which, 'review.assessmentEventId'), outcome, by.el, when.el],
    () => {
      const [kind, index] = which.value.split('-') as [string, string];
      const chosenOutcome = radioValue(outcome, 'review-outcome') ?? '';
      if (kind === 'adverse') {
        const a = adverse[Number(index)]!;
        return [
          {
            type: 'AdverseEventReviewed',
            adverseEventId: a.eventId,
            outcome: chosenOutcome,
            recordedBy: by.input.value,
            ...atOf(when.input),
          },
        ];
      }
      const f = flags[Number(index)]!;
      return [
        {
          type: 'SafetyFlagReviewed',
          assessmentEventId: f.assessmentEventId,
          rule: f.rule,
          outcome: chosenOutcome,
          recordedBy: by.input.value,
          ...atOf(when.input),
        },
      ];
    },
    'review',
    'Record review',
  );
}

const ADVERSE_CODES = [
  'nausea',
  'vomiting',
  'elevated-blood-pressure',
  'tachycardia',
  'dissociation-distress',
  'anxiety',
  'headache',
  'dizziness',
  'sedation',
  'fall',
  'urinary-symptoms',
  'suicidal-ideation',
  'other',
];

/** An adverse event, during or between sessions; accepted in every phase, closed courses included. */
function adverseEventForm(ep: EpisodeView, ctx: FormContext): HTMLElement {
  const code = select(
    ADVERSE_CODES.map((v) => ({ value: v, label: v.replaceAll('-', ' ') })),
    'nausea',
    { name: 'code' },
  );
  const severity = radios(
    'Severity',
    'severity',
    ['mild', 'moderate', 'severe', 'serious'].map((v) => ({ value: v, label: v })),
    'adverse.severity',
    'mild',
  );
  const session = select(
    [
      { value: '', label: 'Not during a session' },
      ...ep.doses.map((d) => ({
        value: d.sessionId,
        label: `Dosing session ${d.doseNumber} (${day(d.at)})`,
      })),
    ],
    '',
    { name: 'session' },
  );
  const description = h('textarea', { name: 'description', rows: 2, maxlength: 4000 });
  const role = roleField('adverse.recordedBy', 'therapist');
  const when = whenField('adverse.at');
  return simpleForm(
    'Adverse event',
    'adverse-event',
    'Severe, serious and suicidal-ideation events raise an urgent alert and hold the next dose until a clinician reviews them; moderate ones raise a warning.',
    ctx,
    [
      field('What happened', code, 'adverse.code'),
      severity,
      field('During', session, 'adverse.sessionId'),
      field('Description (optional)', description, 'adverse.description'),
      role.el,
      when.el,
    ],
    () => [
      {
        type: 'AdverseEventReported',
        code: code.value,
        severity: radioValue(severity, 'severity') ?? '',
        ...(session.value ? { sessionId: session.value } : {}),
        ...(description.value.trim() ? { description: description.value.trim() } : {}),
        recordedBy: role.input.value,
        ...atOf(when.input),
      },
    ],
    'adverse',
    'Record adverse event',
  );
}

/** Pause, resume, complete or discontinue the course (clinicians). */
function courseForm(ep: EpisodeView, ctx: FormContext): HTMLElement {
  const options = ep.paused
    ? [
        { value: 'resume', label: 'Resume treatment' },
        { value: 'discontinue', label: 'Discontinue the course' },
      ]
    : [
        { value: 'pause', label: 'Pause treatment' },
        { value: 'complete', label: 'Complete the course' },
        { value: 'discontinue', label: 'Discontinue the course' },
      ];
  const action = radios('Decision', 'action', options, 'course.type', options[0]!.value);
  const pauseReason = select(
    ['patient-request', 'medical', 'scheduling', 'financial', 'other'].map((v) => ({
      value: v,
      label: v.replaceAll('-', ' '),
    })),
    'patient-request',
    { name: 'pause-reason' },
  );
  const stopReason = select(
    [
      'patient-choice',
      'clinical-decision',
      'adverse-event',
      'lost-to-follow-up',
      'not-a-fit',
      'ineligible',
      'other',
    ].map((v) => ({ value: v, label: v.replaceAll('-', ' ') })),
    'patient-choice',
    { name: 'stop-reason' },
  );
  const reason = h('textarea', { name: 'completion-reason', rows: 2, maxlength: 2000 });
  const by = clinicianField('course.recordedBy');
  const when = whenField('course.at');
  const short = ep.plannedDosingSessions !== null && ep.dosesGiven < ep.plannedDosingSessions;
  return simpleForm(
    'Course',
    'course',
    `${ep.dosesGiven} of ${ep.plannedDosingSessions ?? '?'} planned dosing sessions given.${short ? ' Completing short of the plan needs a reason.' : ''}`,
    ctx,
    [
      action,
      field('Why paused', pauseReason, 'course.reason'),
      field('Why discontinued', stopReason, 'course.discontinueReason'),
      field('Reason for completing now (required short of the plan)', reason, 'course.completionReason'),
      by.el,
      when.el,
    ],
    () => {
      const common = { recordedBy: by.input.value, ...atOf(when.input) };
      switch (radioValue(action, 'action')) {
        case 'pause':
          return [{ type: 'EpisodePaused', reason: pauseReason.value, ...common }];
        case 'resume':
          return [{ type: 'EpisodeResumed', ...common }];
        case 'complete':
          return [
            {
              type: 'EpisodeCompleted',
              ...(reason.value.trim() ? { reason: reason.value.trim() } : {}),
              ...common,
            },
          ];
        default:
          return [{ type: 'EpisodeDiscontinued', reason: stopReason.value, ...common }];
      }
    },
    'course',
    'Record decision',
  );
}

const SCOPES: readonly [string, string][] = [
  ['kap', 'Ketamine-assisted psychotherapy'],
  ['remote-sessions', 'Remote (telehealth) dosing sessions with a chaperone'],
  ['research-use', 'Use of de-identified data for research'],
];

function consentForm(ep: EpisodeView, ctx: FormContext): HTMLElement {
  const action = radios(
    'Record',
    'consent-action',
    [
      { value: 'give', label: 'Consent given' },
      { value: 'withdraw', label: 'Consent withdrawn' },
    ],
    'consent.action',
    'give',
  );
  const boxes = SCOPES.map(([value, label]) => ({
    value,
    box: h('input', { type: 'checkbox', name: `scope-${value}`, checked: value !== 'research-use' }),
    label,
  }));
  const version = h('input', { type: 'text', name: 'document-version', maxlength: 100 });
  const reason = h('textarea', { name: 'withdraw-reason', rows: 2, maxlength: 2000 });
  const by = roleField('consent.recordedBy', 'therapist');
  const when = whenField('consent.at');
  const inForce = ep.consent.inForce.length ? ep.consent.inForce.map(words).join(', ') : 'none';
  return simpleForm(
    'Informed consent',
    'consent',
    `In force: ${inForce}${ep.consent.withdrawn.length ? `; withdrawn: ${ep.consent.withdrawn.map(words).join(', ')}` : ''}. ${ep.consent.required ? 'The policy refuses a dose without consent to KAP, and a remote dose without consent to remote sessions.' : ''} Withdrawing research use leaves the course out of research exports.`,
    ctx,
    [
      action,
      h(
        'fieldset',
        { class: 'group', 'data-key': 'consent.scope' },
        h('legend', {}, 'Scope'),
        boxes.map((b) => h('label', { class: 'check' }, b.box, ` ${b.label}`)),
        h('p', { class: 'field-error', hidden: true }),
      ),
      field('Consent document version', version, 'consent.documentVersion', 'e.g. KAP consent v3 (2026-01)'),
      field('Reason (withdrawal, optional)', reason, 'consent.reason'),
      by.el,
      when.el,
    ],
    () => {
      const scope = boxes.filter((b) => b.box.checked).map((b) => b.value);
      const common = { recordedBy: by.input.value, ...atOf(when.input) };
      return radioValue(action, 'consent-action') === 'withdraw'
        ? [
            {
              type: 'ConsentWithdrawn',
              scope,
              ...(reason.value.trim() ? { reason: reason.value.trim() } : {}),
              ...common,
            },
          ]
        : [{ type: 'InformedConsentRecorded', scope, documentVersion: version.value.trim(), ...common }];
    },
    'consent',
    'Record consent',
  );
}

const MEDICATION_CLASSES: readonly [string, string][] = [
  ['antidepressant', 'Antidepressant'],
  ['benzodiazepine', 'Benzodiazepine'],
  ['lamotrigine', 'Lamotrigine'],
  ['maoi', 'MAO inhibitor'],
  ['stimulant', 'Stimulant'],
  ['cyp-inducer', 'CYP3A4/2B6 inducer'],
  ['cyp-inhibitor', 'CYP3A4/2B6 inhibitor'],
  ['other', 'Other'],
];

function medicationsForm(ep: EpisodeView, ctx: FormContext): HTMLElement {
  const rows = h('div', { class: 'medication-rows' });
  const inputs: {
    name: HTMLInputElement;
    cls: HTMLSelectElement;
    dose: HTMLInputElement;
    unit: HTMLSelectElement;
  }[] = [];
  const addRow = (m?: { name: string; class: string; dailyDose: number | null; unit: string | null }) => {
    const n = inputs.length + 1;
    const row = {
      name: h('input', { type: 'text', name: `med-${n}-name`, maxlength: 200, value: m?.name ?? '' }),
      cls: select(
        MEDICATION_CLASSES.map(([value, label]) => ({ value, label })),
        m?.class ?? 'other',
        { name: `med-${n}-class` },
      ),
      dose: numberInput({
        name: `med-${n}-dose`,
        min: 0,
        max: 100000,
        step: 'any',
        value: m?.dailyDose ?? '',
      }),
      unit: select(
        ['mg', 'mcg', 'g'].map((u) => ({ value: u, label: u })),
        m?.unit ?? 'mg',
        { name: `med-${n}-unit` },
      ),
    };
    inputs.push(row);
    rows.append(
      h(
        'div',
        { class: 'medication-row', 'data-key': `medications.${n - 1}` },
        field(`Medication ${n}`, row.name, `medications.${n - 1}.name`),
        field('Class', row.cls, `medications.${n - 1}.class`),
        field('Daily dose', row.dose, `medications.${n - 1}.dailyDose`),
        field('Unit', row.unit, `medications.${n - 1}.unit`),
      ),
    );
  };
  for (const m of ep.medications.list) addRow(m);
  addRow();
  const more = h('button', { type: 'button', class: 'button small' }, 'Add a medication');
  on(more, 'click', () => addRow());
  const when = whenField('medications.at');
  return simpleForm(
    'Concurrent medications',
    'medications',
    'The medical team records every medication the patient takes now (leave a row empty to drop it; no rows: none). Benzodiazepines above the policy diazepam-equivalent, lamotrigine, MAO inhibitors, stimulants and CYP3A4/2B6 inducers or inhibitors raise an alert for the medical team.',
    ctx,
    [rows, more, when.el],
    () => [
      {
        type: 'MedicationsReviewed',
        medications: inputs
          .filter((r) => r.name.value.trim() !== '')
          .map((r) => ({
            name: r.name.value.trim(),
            class: r.cls.value,
            ...(r.dose.value !== '' ? { dailyDose: Number(r.dose.value), unit: r.unit.value } : {}),
          })),
        ...atOf(when.input),
      },
    ],
    'medications',
    'Record medications',
  );
}

function maintenanceForm(ep: EpisodeView, ctx: FormContext): HTMLElement {
  const interval = numberInput({
    name: 'interval',
    min: 7,
    max: 365,
    step: 1,
    value: ep.maintenance?.intervalDays ?? 45,
  });
  const reason = h('textarea', { name: 'maintenance-reason', rows: 2, maxlength: 2000 });
  const when = whenField('maintenance.at');
  const done = ep.dosesGiven;
  const planned = ep.plannedDosingSessions;
  return simpleForm(
    'Maintenance plan',
    'maintenance',
    `After the initial course (6–8 dosing sessions), practices continue with maintenance sessions every 1–2 months. ${planned !== null && done < planned ? `Only ${done} of ${planned} planned sessions are done: say why maintenance starts now.` : ''}`,
    ctx,
    [
      field('Days between maintenance sessions', interval, 'maintenance.intervalDays'),
      field('Reason (required before the initial course is done)', reason, 'maintenance.reason'),
      when.el,
    ],
    () => [
      {
        type: 'MaintenancePlanned',
        intervalDays: numberValue(interval),
        ...(reason.value.trim() ? { reason: reason.value.trim() } : {}),
        ...atOf(when.input),
      },
    ],
    'maintenance',
    'Record maintenance plan',
  );
}

const TABS: readonly [string, string][] = [
  ['phq9', 'PHQ-9'],
  ['gad7', 'GAD-7'],
  ['other', 'Other measure'],
  ['dosing', 'Dosing session'],
  ['preparation', 'Preparation'],
  ['integration', 'Integration'],
  ['follow-up', 'Follow-up'],
  ['refill', 'Refill & delivery'],
  ['adverse-event', 'Adverse event'],
  ['review', 'Safety review'],
  ['consent', 'Consent'],
  ['medications', 'Medications'],
  ['maintenance', 'Maintenance'],
  ['course', 'Course'],
];

export async function renderRecord(patientId: string, form = 'phq9'): Promise<HTMLElement> {
  const episodeId = new URL(location.href).searchParams.get('episode') ?? undefined;
  const [data, defs]: [PatientResponse, readonly InstrumentDefinition[]] = await Promise.all([
    api.patient(patientId, episodeId),
    instruments(),
  ]);
  const ep = data.episode;
  const patientUrl = `/patients/${encodeURIComponent(patientId)}${episodeId ? `?episode=${encodeURIComponent(episodeId)}` : ''}`;
  const ctx: FormContext = {
    episodeId: ep.episodeId,
    version: ep.version,
    patientUrl,
    serverOffsetMs: Date.parse(data.serverTime) - Date.now(),
  };
  const correctId = new URL(location.href).searchParams.get('correct');
  const corrected = correctId ? ep.assessments.find((a) => a.eventId === correctId) : undefined;
  const correction: Correction | null = corrected
    ? {
        eventId: corrected.eventId,
        at: corrected.at,
        responses: corrected.responses,
        context: corrected.context,
      }
    : null;
  const tabBase = `/patients/${encodeURIComponent(patientId)}/record?${episodeId ? `episode=${encodeURIComponent(episodeId)}&` : ''}form=`;
  const holder = h('div', { class: 'form-holder' });

  const instrumentChooser = () => {
    const choice = select(
      defs
        .filter((d) => d.id !== 'phq9' && d.id !== 'gad7')
        .map((d) => ({ value: d.id, label: `${d.name} (${d.title})` })),
      undefined,
      { name: 'instrument' },
    );
    const slot = h('div');
    const show = () => {
      const d = defs.find((x) => x.id === choice.value);
      if (d) mount(slot, assessmentForm(d, ctx));
    };
    on(choice, 'change', show);
    show();
    return h('div', {}, field('Measure', choice, 'instrument'), slot);
  };

  let body: HTMLElement;
  const def = defs.find((d) => d.id === form);
  if (def)
    body = assessmentForm(def, ctx, correction && corrected?.instrument === def.id ? correction : null);
  else if (form === 'other') body = instrumentChooser();
  else if (form === 'dosing') body = dosingForm(ep, ctx);
  else if (form === 'preparation') body = preparationForm(ctx);
  else if (form === 'integration') body = integrationForm(ep, ctx);
  else if (form === 'follow-up') body = followUpForm(ctx);
  else if (form === 'refill') body = refillForm(ep, ctx);
  else if (form === 'review') body = reviewForm(ep, ctx);
  else if (form === 'adverse-event') body = adverseEventForm(ep, ctx);
  else if (form === 'course') body = courseForm(ep, ctx);
  else if (form === 'consent') body = consentForm(ep, ctx);
  else if (form === 'medications') body = medicationsForm(ep, ctx);
  else if (form === 'maintenance') body = maintenanceForm(ep, ctx);
  else body = h('p', {}, 'Unknown form.');
  mount(holder, body);

  return h(
    'section',
    { class: 'page record', 'data-episode': ep.episodeId },
    h('p', { class: 'crumbs' }, link(patientUrl, `← Patient ${patientId}`)),
    h('h1', {}, `Record for patient ${patientId}`, ' ', demoBadge(data.synthetic)),
    h(
      'p',
      { class: 'lede' },
      `Episode ${ep.episodeId}, ${ep.phase.replaceAll('-', ' ')}; form loaded at version ${ep.version}. If someone records for this episode meanwhile, the form is checked again against what they recorded.`,
    ),
    ep.closed
      ? h(
          'p',
          { class: 'note' },
          `This course was ${ep.closed.kind} on ${day(ep.closed.at)}: only adverse events, reviews and corrections can still be recorded.`,
        )
      : null,
    h(
      'nav',
      { class: 'tabs', 'aria-label': 'Forms' },
      TABS.map(([id, label]) =>
        link(
          `${tabBase}${id}`,
          label,
          id === form || (id === 'other' && def !== undefined && form !== 'phq9' && form !== 'gad7')
            ? { 'aria-current': 'page', class: 'tab' }
            : { class: 'tab' },
        ),
      ),
    ),
    holder,
  );
}
