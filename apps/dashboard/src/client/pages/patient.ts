/**
 * One patient: alerts, the outcome chart with the same numbers as a table, response/remission/reliable
 * change with their definitions, the latest answers by item, the session timeline and vitals.
 */

import type { OutcomeChartData, OutcomeChartInstrument } from '@kapkit/charts';
import {
  describeOutcomeChart,
  itemChartConfig,
  outcomeChartConfigFromData,
  vitalsChartConfig,
} from '@kapkit/charts';
import type { ChartConfiguration } from 'chart.js';
import type { EpisodeView, PatientResponse } from '../../shared/api.js';
import { api } from '../api.js';
import { chartBox } from '../charts.js';
import { h, mount, on } from '../dom.js';
import { change, day, dayTime, percent, score, words } from '../format.js';
import { type FormContext, field, select, wireForm } from '../forms.js';
import { instrument } from '../instruments.js';
import { alertList, demoBadge, fact, link } from '../ui.js';
import { measureRequestsSection } from './measure-requests.js';

const yesNo = (v: boolean | null | undefined) => (v === true ? 'yes' : v === false ? 'no' : '—');

function outcomeTable(chart: OutcomeChartData, ep: EpisodeView): HTMLElement {
  const rows = chart.rows.filter((r) => r.charted);
  const reportedBy = new Map(ep.assessments.map((a) => [a.eventId, a.recordedBy]));
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data outcome-table', id: 'outcome-table' },
      h('caption', {}, 'Outcome chart data: every assessment the chart shows, with the same numbers.'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          [
            'Date',
            'Measure',
            'Total',
            'Severity',
            'Dose no.',
            'Days since dose',
            'In critical period',
            'Reliable change',
            'Response',
            'Remission',
            'Safety',
            'Reported by',
          ].map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((r) =>
          h(
            'tr',
            { 'data-event': r.eventId, 'data-instrument': r.instrument },
            h('td', {}, dayTime(r.at)),
            h('td', {}, r.instrumentName),
            h('td', { class: 'num' }, score(r.total)),
            h('td', {}, r.severityLabel ?? '—'),
            h('td', { class: 'num' }, String(r.doseNumber)),
            h('td', { class: 'num' }, r.daysSinceLastDose === null ? '—' : r.daysSinceLastDose.toFixed(1)),
            h('td', {}, yesNo(r.inCriticalPeriod)),
            h('td', {}, r.reliableChange ? words(r.reliableChange) : '—'),
            h('td', {}, yesNo(r.response)),
            h('td', {}, yesNo(r.remission)),
            h(
              'td',
              { class: r.safetyFlag?.kind === 'positive' && !r.safetyFlag.reviewed ? 'flag' : null },
              r.safetyFlag
                ? `${r.safetyFlag.kind === 'positive' ? `item ${r.safetyFlag.item} = ${r.safetyFlag.value}` : `item ${r.safetyFlag.item} unanswered`}${r.safetyFlag.reviewed ? ' (reviewed)' : ' (not reviewed)'}`
                : '—',
            ),
            reportedBy.get(r.eventId) === 'patient'
              ? h('td', { class: 'reported-by' }, h('span', { class: 'tag' }, 'patient-reported'))
              : h('td', { class: 'reported-by' }, reportedBy.get(r.eventId) ?? '—'),
          ),
        ),
      ),
    ),
  );
}

function outcomeStatus(chart: OutcomeChartData, inst: OutcomeChartInstrument): HTMLElement {
  const rows = chart.rows.filter((r) => r.instrument === inst.id && r.total !== null && r.charted);
  const last = rows[rows.length - 1];
  const base = inst.baseline;
  const rc = inst.reliableChange;
  const latestClass = last && base && last.eventId !== base.eventId ? last.reliableChange : null;
  return h(
    'section',
    { class: 'card outcome-status', 'data-instrument': inst.id },
    h('h3', {}, inst.name),
    h(
      'dl',
      { class: 'facts' },
      fact('Baseline', base ? `${score(base.total)} on ${day(base.at)}` : '—'),
      fact(
        'Latest',
        last
          ? `${score(last.total)} on ${day(last.at)}${last.severityLabel ? ` (${last.severityLabel})` : ''}`
          : '—',
      ),
      fact('Change', last && last.change !== null ? change(last.change) : '—'),
      fact('Response', inst.responseFraction === null ? 'not defined' : yesNo(inst.outcome?.response), {
        'data-status': 'response',
      }),
      fact('Remission', inst.remissionBelow === null ? 'not defined' : yesNo(inst.outcome?.remission), {
        'data-status': 'remission',
      }),
      fact('Reliable change', latestClass ? words(latestClass) : '—', { 'data-status': 'reliable-change' }),
    ),
    h(
      'details',
      { class: 'definitions', open: true },
      h('summary', {}, 'Definitions'),
      h(
        'ul',
        {},
        h(
          'li',
          {},
          'Baseline: the last assessment on or before the first dose (the first assessment before any dose).',
        ),
        inst.responseFraction !== null
          ? h(
              'li',
              {},
              `Response: latest ≤ ${percent(inst.responseFraction)} of baseline (baseline > 0). Source: ${inst.responseSource}.`,
            )
          : null,
        inst.remissionBelow !== null
          ? h('li', {}, `Remission: latest < ${inst.remissionBelow}. Source: ${inst.remissionSource ?? '—'}.`)
          : null,
        rc
          ? h(
              'li',
              {},
              `Reliable change (Jacobson & Truax 1991): a change of at least ${rc.pointsNeeded.toFixed(2)} points = ${rc.critical} × √2 × SD × √(1 − r), with r = ${rc.reliability} (${rc.reliabilitySource}) and SD = ${rc.sd.toFixed(2)} (${rc.sdSource === 'given' ? 'SD of baseline scores in this clinic’s cohort' : rc.sdSource}).`,
            )
          : null,
        inst.notDefined.map((text) =>
          h('li', { class: 'not-defined' }, `${text[0]!.toUpperCase()}${text.slice(1)}.`),
        ),
      ),
    ),
  );
}

/** "Entered in error": a reason and who says so, saved as an EventVoided (the record stays, struck through). */
function voidForm(
  entry: EpisodeView['timeline'][number],
  ctx: FormContext,
  done: () => void,
): HTMLFormElement {
  const reason = h('input', { type: 'text', name: 'void-reason', maxlength: 2000, required: true });
  const by = select(
    [
      { value: 'therapist', label: 'Therapist' },
      { value: 'medical', label: 'Medical team' },
    ],
    'therapist',
    { name: 'recordedBy' },
  );
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

/**
 * Safety signals of records the episode machine refused (kept by the store, nothing else of the record): each
 * unreviewed one with a review form. A clinician records the review; the urgent alert goes with it.
 */
function refusedSignals(ep: EpisodeView): HTMLElement | null {
  if (ep.safetySignals.length === 0) return null;
  return h(
    'section',
    { class: 'refused-signals', id: 'refused-signals' },
    h('h3', {}, 'Safety signals in refused records'),
    h(
      'ul',
      {},
      ep.safetySignals.map((s) => {
        const text = `${s.eventType ?? 'A record'}${s.eventAt ? ` of ${day(s.eventAt)}` : ''} refused (${s.refusalCode}): ${s.signals.map((f) => `${f.rule} = ${f.value}`).join(', ')}`;
        if (s.review) {
          return h(
            'li',
            { 'data-signal': s.id },
            text,
            h('span', { class: 'tag' }, ` — reviewed (${words(s.review.outcome)}, ${day(s.review.at)})`),
          );
        }
        const outcome = select(
          [
            { value: 'no-current-risk', label: 'No current risk' },
            { value: 'safety-plan', label: 'Safety plan made' },
            { value: 'escalated', label: 'Escalated' },
          ],
          'safety-plan',
          { name: 'signal-outcome' },
        );
        const by = select(
          [
            { value: 'therapist', label: 'Therapist' },
            { value: 'medical', label: 'Medical team' },
          ],
          'therapist',
          { name: 'recordedBy' },
        );
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

function timeline(ep: EpisodeView, ctx: FormContext, recordBase: string): HTMLElement {
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

function vitalsTable(ep: EpisodeView): HTMLElement {
  if (ep.vitals.length === 0) return h('p', { class: 'muted' }, 'No vitals recorded.');
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data vitals-table' },
      h(
        'caption',
        {},
        `Vitals by dosing session. Hold threshold: above ${ep.policy.holdSystolicAbove}/${ep.policy.holdDiastolicAbove} mmHg before a dose.`,
      ),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Date', 'Dose no.', 'When', 'Blood pressure', 'Heart rate', 'SpO₂', 'Above hold'].map((t) =>
            h('th', { scope: 'col' }, t),
          ),
        ),
      ),
      h(
        'tbody',
        {},
        ep.vitals.map((v) =>
          h(
            'tr',
            {},
            h('td', {}, dayTime(v.at)),
            h('td', { class: 'num' }, v.doseNumber === null ? '—' : String(v.doseNumber)),
            h('td', {}, v.phase === 'pre' ? 'before dose' : v.phase === 'post' ? 'after dose' : 'during'),
            h('td', { class: 'num' }, `${v.systolic}/${v.diastolic} mmHg`),
            h('td', { class: 'num' }, v.heartRate === null ? '—' : `${v.heartRate} bpm`),
            h('td', { class: 'num' }, v.spo2 === null ? '—' : `${v.spo2}%`),
            h('td', { class: v.aboveHold ? 'flag' : null }, v.aboveHold ? 'yes' : 'no'),
          ),
        ),
      ),
    ),
  );
}

const FORMS: readonly [string, string][] = [
  ['phq9', 'PHQ-9'],
  ['gad7', 'GAD-7'],
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
  ['other', 'Other measure'],
];

export async function renderPatient(patientId: string, episodeId?: string): Promise<HTMLElement> {
  const [data, measures]: [PatientResponse, HTMLElement] = await Promise.all([
    api.patient(patientId, episodeId),
    measureRequestsSection(patientId),
  ]);
  const ep = data.episode;
  const base = `/patients/${encodeURIComponent(patientId)}`;
  const recordBase = `${base}/record${episodeId ? `?episode=${encodeURIComponent(episodeId)}&` : '?'}form=`;
  const closed = ep.closed !== null;
  const ctx: FormContext = {
    episodeId: ep.episodeId,
    version: ep.version,
    patientUrl: `${base}${episodeId ? `?episode=${encodeURIComponent(episodeId)}` : ''}`,
    serverOffsetMs: Date.parse(data.serverTime) - Date.now(),
  };
  const chart = ep.chart;
  const latestPhq9 = ep.latestAssessments.find((a) => a.instrument === 'phq9');
  const phq9Def = latestPhq9 ? await instrument('phq9') : undefined;

  const section = h(
    'section',
    { class: 'page patient', 'data-episode': ep.episodeId, 'data-version': ep.version },
    h('p', { class: 'crumbs' }, link('/', '← Caseload')),
    h('h1', {}, `Patient ${data.patientId}`, ' ', demoBadge(data.synthetic)),
    data.episodes.length > 1
      ? h(
          'p',
          { class: 'episodes' },
          'Episodes: ',
          data.episodes.map((e) =>
            e.episodeId === ep.episodeId
              ? h('strong', {}, `${e.episodeId} (${words(e.phase)}) `)
              : [
                  link(
                    `${base}?episode=${encodeURIComponent(e.episodeId)}`,
                    `${e.episodeId} (${words(e.phase)})`,
                  ),
                  ' ',
                ],
          ),
        )
      : null,
    h(
      'dl',
      { class: 'facts summary' },
      fact('Phase', words(ep.phase)),
      fact('Episode', `${ep.episodeId}, opened ${day(ep.openedAt)}`),
      fact(
        'Doses given',
        ep.plannedDosingSessions
          ? `${ep.dosesGiven} of ${ep.plannedDosingSessions} planned`
          : String(ep.dosesGiven),
      ),
      fact('Doses on hand', `${score(ep.dosesOnHand)} (authorised ${ep.dosesAuthorized})`),
      fact(
        'Next dose to keep the critical-period chain',
        ep.criticalPeriods.nextDoseLatestDay ? `by ${ep.criticalPeriods.nextDoseLatestDay}` : '—',
      ),
      fact(
        'Critical period',
        `${ep.criticalPeriods.windowDays} days per dose; coverage ${percent(ep.criticalPeriods.coverage)}`,
      ),
      fact(
        'Medical follow-up',
        ep.followUp ? `due ${day(ep.followUp.dueAt)}${ep.followUp.overdue ? ' (overdue)' : ''}` : '—',
      ),
      fact(
        'Informed consent',
        ep.consent.inForce.length
          ? `${ep.consent.inForce.map(words).join(', ')}${ep.consent.documentVersion ? ` (${ep.consent.documentVersion})` : ''}`
          : ep.consent.withdrawn.length
            ? `withdrawn: ${ep.consent.withdrawn.map(words).join(', ')}`
            : 'none recorded',
      ),
      fact(
        'Concurrent medications',
        ep.medications.reviewedAt === null
          ? 'not reviewed'
          : ep.medications.list.length
            ? `${ep.medications.list.map((m) => `${m.name}${m.dailyDose !== null ? ` ${m.dailyDose} ${m.unit ?? 'mg'}/day` : ''}`).join(', ')}${ep.medications.diazepamEquivalentMgPerDay !== null ? `; ≈ ${score(ep.medications.diazepamEquivalentMgPerDay)} mg diazepam-equivalent a day` : ''} (reviewed ${day(ep.medications.reviewedAt)})`
            : `none (reviewed ${day(ep.medications.reviewedAt)})`,
      ),
      ep.titration
        ? fact(
            'Titration',
            ep.titration.map((t) => `from session ${t.fromSession}: ${t.doseMg} mg`).join('; '),
          )
        : null,
      ep.maintenance
        ? fact(
            'Maintenance',
            `every ${ep.maintenance.intervalDays} days; ${ep.maintenance.sessions} session(s); next due ${day(ep.maintenance.nextDueAt)}${ep.maintenance.status === 'not-due' ? '' : ` (${ep.maintenance.status})`}`,
          )
        : null,
    ),
    h('h2', {}, 'Alerts'),
    alertList(ep.alerts),
    refusedSignals(ep),
    closed ? null : measures,
    ep.unreviewedSafetyFlags.length > 0 || ep.unreviewedAdverseEvents.length > 0
      ? h('p', {}, link(`${recordBase}review`, 'Record the safety review', { class: 'button' }))
      : null,
    closed
      ? h(
          'p',
          { class: 'muted' },
          `This course was ${ep.closed?.kind} on ${day(ep.closed?.at)}; only adverse events, reviews and corrections can still be recorded. `,
          link(`${recordBase}adverse-event`, 'Record an adverse event', { class: 'button small' }),
        )
      : h(
          'nav',
          { class: 'record-links', 'aria-label': 'Record' },
          h('span', {}, 'Record: '),
          FORMS.map(([form, label]) => [link(`${recordBase}${form}`, label, { class: 'button small' }), ' ']),
        ),
    h('h2', {}, 'Outcomes'),
    chart.rows.some((r) => r.charted && r.total !== null)
      ? [
          chartBox(
            'outcome-chart',
            describeOutcomeChart(chart),
            outcomeChartConfigFromData(
              chart,
              chart.instruments.map((i) => i.name).join(' and '),
            ) as unknown as ChartConfiguration,
            chart.instruments.length > 1 ? 'panels' : 'tall',
            true,
          ),
          h(
            'p',
            { class: 'muted small' },
            'One panel per measure, each with its own severity bands. Shaded columns: critical periods (darker where they overlap), up to today; the solid vertical line: today; dashed vertical lines: doses; dashed horizontal lines: response and remission thresholds; ▲▼ reliable change; ✕ safety flag. The table below gives the same numbers.',
          ),
          h(
            'div',
            { class: 'status-grid' },
            chart.instruments.map((i) => outcomeStatus(chart, i)),
          ),
          h('h3', {}, 'Data table'),
          outcomeTable(chart, ep),
        ]
      : h('p', { class: 'muted' }, 'No scored assessment yet.'),
    latestPhq9 && phq9Def
      ? [
          h('h3', {}, `Latest PHQ-9 answers by item (${day(latestPhq9.at)})`),
          chartBox(
            'item-chart',
            `PHQ-9 answers by item on ${day(latestPhq9.at)}`,
            itemChartConfig(latestPhq9, phq9Def) as unknown as ChartConfiguration,
            'items',
          ),
        ]
      : null,
    h('h2', {}, 'Timeline'),
    h(
      'p',
      { class: 'muted small' },
      'Every record in clinical order. A record entered in error is marked so and struck through: it stays in the history and is left out of the status, charts, analytics and exports.',
    ),
    timeline(ep, ctx, recordBase),
    h('h2', {}, 'Vitals'),
    ep.vitals.length > 0
      ? chartBox(
          'vitals-chart',
          'Blood pressure before and after each dose',
          vitalsChartConfig(ep.context) as unknown as ChartConfiguration,
          'medium',
        )
      : null,
    vitalsTable(ep),
  );
  return section;
}
