import type { EpisodeView } from '../../../shared/api.js';
import { h, on } from '../../dom.js';
import { localInputToIso, localInputValue } from '../../format.js';
import type { Built, FormContext } from '../../forms.js';
import {
  clinicianSelect,
  field,
  fieldGroup,
  numberInput,
  numberValue,
  radios,
  radioValue,
  select,
} from '../../inputs.js';

import { codeOptions, formHead, MINUTE, MODE_OPTIONS, recordForm, stepEvents } from './fields.js';

/* The dosing session form: booking, vitals, dose, booster, completion or abort, as one append. */

/** The inputs of the dosing form that its events are built from. */
interface DosingInputs {
  readonly start: HTMLInputElement;
  readonly mode: HTMLSelectElement;
  readonly chaperone: HTMLInputElement;
  readonly recorder: HTMLSelectElement;
  readonly preSys: HTMLInputElement;
  readonly preDia: HTMLInputElement;
  readonly preHr: HTMLInputElement;
  readonly preSpo2: HTMLInputElement;
  readonly abortReason: HTMLSelectElement;
  readonly duration: HTMLInputElement;
  readonly kind: HTMLSelectElement;
  readonly doseMg: HTMLInputElement;
  readonly override: HTMLInputElement;
  readonly overrideReason: HTMLTextAreaElement;
  readonly doseReason: HTMLTextAreaElement;
  readonly booster: HTMLInputElement;
  readonly postSys: HTMLInputElement;
  readonly postDia: HTMLInputElement;
  readonly postHr: HTMLInputElement;
  readonly postSpo2: HTMLInputElement;
  readonly completionReason: HTMLTextAreaElement;
}

/** The events of one dosing session, as the form describes it (a stopped session ends after its pre-dose vitals). */
function dosingEvents(f: DosingInputs, aborted: boolean, p: EpisodeView['prescription']): Built {
  if (!f.start.value) throw new Error('Enter when the session started.');
  const t0 = Date.parse(localInputToIso(f.start.value));
  const at = (ms: number) => localInputToIso(localInputValue(ms));
  const sessionId = `session-${f.start.value.replace(/\D/g, '')}-${Math.floor(Math.random() * 1e6)}`;
  const steps = stepEvents();
  const push = (key: string, label: string, e: Record<string, unknown>) =>
    steps.push(key, label, { ...e, recordedBy: f.recorder.value });
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
    mode: f.mode.value,
    ...(f.chaperone.checked ? { chaperone: true } : {}),
    at: at(t0),
  });
  const hasPre = f.preSys.value !== '' || f.preDia.value !== '';
  if (hasPre || !aborted) {
    push('pre', 'vitals before the dose', {
      ...vitals('pre', f.preSys, f.preDia, f.preHr, f.preSpo2),
      at: at(t0 + 5 * MINUTE),
    });
  }
  if (aborted) {
    push('abort', 'stopping the session', {
      type: 'DosingSessionAborted',
      sessionId,
      reason: f.abortReason.value,
      at: at(t0 + 10 * MINUTE),
    });
    return steps.built;
  }
  const minutes = Number(f.duration.value) || 180;
  push('dose', 'the dose', {
    type: 'DoseAdministered',
    sessionId,
    kind: f.kind.value,
    doseMg: numberValue(f.doseMg),
    route: p?.route ?? 'sublingual',
    formulation: p?.formulation ?? 'sublingual-lozenge',
    ...(f.override.checked
      ? { vitalsOverride: { clinicianRole: 'medical', reason: f.overrideReason.value } }
      : {}),
    ...(f.doseReason.value.trim() ? { reason: f.doseReason.value.trim() } : {}),
    at: at(t0 + 10 * MINUTE),
  });
  if (f.booster.value) {
    push('booster', 'the booster', {
      type: 'DoseAdministered',
      sessionId,
      kind: 'booster',
      doseMg: numberValue(f.booster),
      route: p?.route ?? 'sublingual',
      formulation: p?.formulation ?? 'sublingual-lozenge',
      at: at(t0 + 40 * MINUTE),
    });
  }
  push('post', 'vitals at the end', {
    ...vitals('post', f.postSys, f.postDia, f.postHr, f.postSpo2),
    at: at(t0 + Math.max(minutes - 5, 11) * MINUTE),
  });
  push('complete', 'completing the session', {
    type: 'DosingSessionCompleted',
    sessionId,
    durationMinutes: numberValue(f.duration),
    ...(f.completionReason.value.trim() ? { reason: f.completionReason.value.trim() } : {}),
    at: at(t0 + Math.max(minutes, 12) * MINUTE),
  });
  return steps.built;
}

/** A dosing session: booking, pre-dose vitals, dose (hold policy, override with a reason), post-dose vitals. */
/** The form's inputs, prefilled from the episode (the plan's titration step, the prescription). */
function createDosingInputs(ep: EpisodeView): DosingInputs {
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
  const recorder = clinicianSelect();
  const booster = numberInput({ name: 'booster-mg', min: 1, max: 2000 });
  const postSys = numberInput({ name: 'post-systolic', min: 40, max: 300 });
  const postDia = numberInput({ name: 'post-diastolic', min: 20, max: 200 });
  const postHr = numberInput({ name: 'post-hr', min: 20, max: 250 });
  const postSpo2 = numberInput({ name: 'post-spo2', min: 50, max: 100 });
  const abortReason = select(
    codeOptions(['vitals-hold', 'patient-declined', 'adverse-event', 'technical', 'other']),
    'vitals-hold',
    { name: 'abort-reason' },
  );
  return {
    start,
    mode,
    chaperone,
    recorder,
    preSys,
    preDia,
    preHr,
    preSpo2,
    abortReason,
    duration,
    kind,
    doseMg,
    override,
    overrideReason,
    doseReason,
    booster,
    postSys,
    postDia,
    postHr,
    postSpo2,
    completionReason,
  };
}

/** The dose, booster and vitals-hold override fields. */
function doseFieldset(f: DosingInputs, ep: EpisodeView): HTMLElement {
  const p = ep.prescription;
  const planned = ep.nextPlannedDoseMg;
  const { kind, doseMg, doseReason, booster, override, overrideReason } = f;
  const { holdSystolicAbove: hs, holdDiastolicAbove: hd } = ep.policy;
  const overrideBox = fieldGroup(
    'dose.vitalsOverride',
    'Vitals hold override',
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
  );
  return fieldGroup(
    'dose',
    'Dose',
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
  );
}

/** One reading's inputs in a row: blood pressure, heart rate and SpO₂ (error keys `pre.systolic`, …). */
function vitalsRow(
  phase: 'pre' | 'post',
  systolic: HTMLInputElement,
  diastolic: HTMLInputElement,
  heartRate: HTMLInputElement,
  spo2: HTMLInputElement,
): HTMLElement {
  return h(
    'div',
    { class: 'row' },
    field('Systolic (mmHg)', systolic, `${phase}.systolic`),
    field('Diastolic (mmHg)', diastolic, `${phase}.diastolic`),
    field('Heart rate (bpm)', heartRate, `${phase}.heartRate`),
    field('SpO₂ (%)', spo2, `${phase}.spo2`),
  );
}

/** Vitals at the end, the session's length and the completion reason. */
function postFieldset(f: DosingInputs): HTMLElement {
  const { postSys, postDia, postHr, postSpo2, duration, completionReason } = f;
  return fieldGroup(
    'post',
    'Vitals at the end of the session',
    vitalsRow('post', postSys, postDia, postHr, postSpo2),
    field('Session length (minutes)', duration, 'complete.durationMinutes'),
    field(
      'Reason, if the session ended within 2 hours of the last dose or with blood pressure still above the hold',
      completionReason,
      'complete.reason',
    ),
  );
}

/** How a dosing session ended. */
const SESSION_OUTCOMES = [
  { value: 'dosed', label: 'Dose given, session completed' },
  { value: 'aborted', label: 'Session stopped without a dose' },
];

export function dosingForm(ep: EpisodeView, ctx: FormContext): HTMLElement {
  const p = ep.prescription;
  const inputs = createDosingInputs(ep);
  const { start, mode, chaperone, recorder, preSys, preDia, preHr, preSpo2, abortReason } = inputs;
  const { holdSystolicAbove: hs, holdDiastolicAbove: hd } = ep.policy;
  const holdNote = h('p', { class: 'hold-warning', role: 'status', hidden: true });
  const outcome = radios('Outcome of the session', 'outcome', SESSION_OUTCOMES, 'outcome', 'dosed');
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
  const doseGroup = doseFieldset(inputs, ep);
  const postGroup = postFieldset(inputs);
  const abortGroup = fieldGroup(
    'abort',
    'Why the session stopped',
    field('Reason', abortReason, 'abort.reason'),
  );
  abortGroup.hidden = true;
  const sync = () => {
    const aborted = radioValue(el, 'outcome') === 'aborted';
    doseGroup.hidden = aborted;
    postGroup.hidden = aborted;
    abortGroup.hidden = !aborted;
  };
  const el = recordForm(
    'dosing',
    [
      formHead(
        'Dosing session',
        'Records the whole session: booking, pre-dose vitals, the dose, vitals at the end and completion. The episode machine checks each step (preparation, training, integration since the last dose, medication on hand, the vitals hold).',
      ),
      fieldGroup(
        'schedule',
        'Session',
        field('Started', start, 'schedule.scheduledFor'),
        field('Mode', mode, 'schedule.mode'),
        h('label', {}, chaperone, ' A chaperone is physically present (required for a remote session)'),
        field('Recorded by', recorder, 'schedule.recordedBy'),
      ),
      fieldGroup('pre', 'Vitals before the dose', vitalsRow('pre', preSys, preDia, preHr, preSpo2), holdNote),
      outcome,
      doseGroup,
      postGroup,
      abortGroup,
    ],
    'Record dosing session',
    ctx,
    () => dosingEvents(inputs, radioValue(el, 'outcome') === 'aborted', p),
  );
  for (const r of outcome.querySelectorAll('input')) on(r, 'change', sync);
  return el;
}
