/** The patient page's timeline: every record in clinical order, with correction and "entered in error". */

import type { EpisodeView } from '../../../shared/api.js';
import { h, mount, on } from '../../dom.js';
import { day } from '../../format.js';
import { type FormContext, wireForm } from '../../forms.js';
import { clinicianSelect, field } from '../../inputs.js';
import { link } from '../../ui.js';

/** "Entered in error": a reason and who says so, saved as an EventVoided (the record stays, struck through). */
function voidForm(
  entry: EpisodeView['timeline'][number],
  ctx: FormContext,
  done: () => void,
): HTMLFormElement {
  const reason = h('input', { type: 'text', name: 'void-reason', maxlength: 2000, required: true });
  const by = clinicianSelect();
  const form = h(
    'form',
    { class: 'void-form', 'data-form': 'void' },
    field('Why was it entered in error?', reason, 'void.reason'),
    field('Marked by', by, 'void.recordedBy'),
    h('button', { type: 'submit', class: 'button small' }, 'Mark as entered in error'),
  );
  wireForm(
    form,
    ctx,
    () => ({
      events: [
        {
          type: 'EventVoided',
          voidedEventId: entry.eventId,
          reason: reason.value.trim(),
          recordedBy: by.value,
        },
      ],
      keys: ['void'],
      labels: ['marking the record as entered in error'],
    }),
    done,
  );
  return form;
}

function timelineList(ep: EpisodeView, ctx: FormContext, recordBase: string): HTMLElement {
  if (ep.timeline.length === 0) return h('p', { class: 'muted' }, 'No sessions yet.');
  return h(
    'ol',
    { class: 'timeline', id: 'timeline' },
    ep.timeline.map((t) => {
      const slot = h('div', { class: 'void-slot' });
      const actions: (HTMLElement | string)[] = [];
      if (t.voidable) {
        if (t.kind === 'assessment') {
          const a = ep.assessments.find((x) => x.eventId === t.eventId);
          if (a) {
            actions.push(
              link(
                `${recordBase}${encodeURIComponent(a.instrument)}&correct=${encodeURIComponent(a.eventId)}`,
                'Correct',
                {
                  class: 'button small',
                },
              ),
              ' ',
            );
          }
        }
        const toggle = h('button', { type: 'button', class: 'button small link' }, 'Entered in error…');
        on(toggle, 'click', () => {
          toggle.hidden = true;
          mount(
            slot,
            voidForm(t, ctx, () => setTimeout(() => location.reload(), 800)),
          );
          slot.querySelector<HTMLInputElement>('input')?.focus();
        });
        actions.push(toggle);
      }
      const title = t.voided
        ? h('del', {}, h('strong', {}, t.title), t.detail ? ` — ${t.detail}` : '')
        : null;
      return h(
        'li',
        {
          class: `tl tl-${t.kind}${t.voided ? ' voided' : ''}`,
          'data-event': t.eventId,
          ...(t.voided ? { 'data-voided': 'true' } : {}),
        },
        h('time', { datetime: t.at }, day(t.at)),
        ' ',
        title ?? [h('strong', {}, t.title), t.detail ? ` — ${t.detail}` : ''],
        t.voided
          ? h('span', { class: 'tag' }, ` entered in error (${day(t.voided.at)}: ${t.voided.reason})`)
          : null,
        t.late ? h('span', { class: 'tag late' }, ` entered late, on ${day(t.recordedAt)}`) : null,
        t.recordedBy === 'patient' ? h('span', { class: 'tag' }, ' patient-reported') : null,
        actions.length ? h('span', { class: 'tl-actions' }, ' ', actions) : null,
        slot,
      );
    }),
  );
}

/** The timeline's heading, what a struck-through entry means, and the entries. */
export function timelineSection(ep: EpisodeView, ctx: FormContext, recordBase: string): HTMLElement[] {
  return [
    h('h2', {}, 'Timeline'),
    h(
      'p',
      { class: 'muted small' },
      'Every record in clinical order. A record entered in error is marked so and struck through: it stays in the history and is left out of the status, charts, analytics and exports.',
    ),
    timelineList(ep, ctx, recordBase),
  ];
}
