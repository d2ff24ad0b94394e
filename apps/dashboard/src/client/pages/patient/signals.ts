/** The patient page's safety signals of refused records, each unreviewed one with its review form. */

import type { EpisodeView } from '../../../shared/api.js';
import { api } from '../../api.js';
import { h, mount, on } from '../../dom.js';
import { day, words } from '../../format.js';
import { clinicianSelect, field, select } from '../../inputs.js';
import { REVIEW_OUTCOMES } from '../record/safety.js';

/**
 * Safety signals of records the episode machine refused (kept by the store, nothing else of the record): each
 * unreviewed one with a review form. A clinician records the review; the urgent alert goes with it.
 */
export function refusedSignals(ep: EpisodeView): HTMLElement | null {
  if (ep.safetySignals.length === 0) return null;
  return h(
    'section',
    { class: 'refused-signals', id: 'refused-signals' },
    h('h3', {}, 'Safety signals in refused records'),
    h(
      'ul',
      {},
      ep.safetySignals.map((s) => {
        const text = `${s.eventType ?? 'A record'}${s.recordedBy === 'patient' ? ' (patient-reported)' : ''}${s.eventAt ? ` of ${day(s.eventAt)}` : ''} refused (${s.refusalCode}): ${s.signals.map((f) => `${f.rule} = ${f.value}`).join(', ')}`;
        if (s.review) {
          return h(
            'li',
            { 'data-signal': s.id },
            text,
            h('span', { class: 'tag' }, ` — reviewed (${words(s.review.outcome)}, ${day(s.review.at)})`),
          );
        }
        const outcome = select(REVIEW_OUTCOMES, 'safety-plan', { name: 'signal-outcome' });
        const by = clinicianSelect();
        const status = h('span', { class: 'form-status', 'aria-live': 'polite' });
        const form = h(
          'form',
          { class: 'signal-review', 'data-signal': s.id },
          field('Outcome of the review', outcome, 'signal.outcome'),
          field('Reviewed by', by, 'signal.recordedBy'),
          h('button', { type: 'submit', class: 'button small' }, 'Record the review'),
          status,
        );
        on(form, 'submit', async (event) => {
          event.preventDefault();
          try {
            await api.reviewSignal(s.id, { outcome: outcome.value, recordedBy: by.value });
            mount(status, h('span', { class: 'ok-box', role: 'status' }, 'Reviewed.'));
            form.querySelector<HTMLButtonElement>('button')!.disabled = true;
          } catch (error) {
            mount(status, h('span', { class: 'error-box', role: 'alert' }, (error as Error).message));
          }
        });
        return h('li', { 'data-signal': s.id, class: 'unreviewed' }, h('strong', {}, text), form);
      }),
    ),
  );
}
