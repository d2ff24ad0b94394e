/**
 * Recording forms. Instrument forms are generated from the instrument definitions (items, answer options,
 * item text where the licence ships it, else "Item n"); the other forms record the steps of a KAP course. Every
 * submission goes through the episode machine on the server, with the episode version the form was loaded at.
 */
import type { InstrumentDefinition } from '@kapkit/core/instruments';
import type { PatientResponse } from '../../shared/api.js';
import { api } from '../api.js';
import { h, mount, on } from '../dom.js';
import { day } from '../format.js';
import type { FormContext } from '../forms.js';
import { field, select } from '../inputs.js';
import { instruments } from '../instruments.js';
import { demoBadge, link } from '../ui.js';

import { assessmentForm } from './record/assessment.js';
import { consentForm, courseForm, maintenanceForm, medicationsForm } from './record/course.js';
import { dosingForm } from './record/dosing.js';
import type { Correction } from './record/fields.js';
import { adverseEventForm, reviewForm } from './record/safety.js';
import { followUpForm, integrationForm, preparationForm, refillForm } from './record/sessions.js';

/** The recording forms (`?form=` ids) with their names: the tabs of this page and the patient page's buttons. */
export const RECORD_FORMS: readonly [string, string][] = [
  ['phq9', 'PHQ-9'],
  ['gad7', 'GAD-7'],
  ['other', 'Other measure'],
  ['dosing', 'Dosing session'],
  ['preparation', 'Preparation'],
  ['integration', 'Integration'],
  ['follow-up', 'Medical follow-up'],
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
      RECORD_FORMS.map(([id, label]) =>
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
