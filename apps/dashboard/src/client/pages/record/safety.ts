import { adverseEventCodes, adverseEventSeverities } from '@kapkit/core/vocabularies';
import type { EpisodeView } from '../../../shared/api.js';
import { h } from '../../dom.js';
import { day } from '../../format.js';
import type { FormContext } from '../../forms.js';
import { clinicianSelect, field, radios, radioValue, select } from '../../inputs.js';

import { atOf, codeOptions, roleField, simpleForm, whenField } from './fields.js';

/* Safety-flag and adverse-event review, and adverse-event reports. */

/** How a clinician's review of a safety flag or signal ended. */
export const REVIEW_OUTCOMES = [
  { value: 'no-current-risk', label: 'No current risk' },
  { value: 'safety-plan', label: 'Safety plan made' },
  { value: 'escalated', label: 'Escalated' },
];

export function clinicianField(key: string) {
  const input = clinicianSelect();
  return { el: field('Reviewed by', input, key), input };
}

/** Reviews of safety flags and of adverse events: a dose waits for them, and the alerts stay until they exist. */
export function reviewForm(ep: EpisodeView, ctx: FormContext): HTMLElement {
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

/** An adverse event, during or between sessions; accepted in every phase, closed courses included. */
export function adverseEventForm(ep: EpisodeView, ctx: FormContext): HTMLElement {
  const code = select(codeOptions(adverseEventCodes), 'nausea', { name: 'code' });
  const severity = radios(
    'Severity',
    'severity',
    codeOptions(adverseEventSeverities),
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
