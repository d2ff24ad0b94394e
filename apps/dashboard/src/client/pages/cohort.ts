/**
 * The cohort: response and remission rates, the trajectory with its confidence band, time to response
 * (Kaplan–Meier) and the summary table, from `analyzeOutcomes` over every episode.
 */
import { kaplanMeierChartConfig, trajectoryChartConfig } from '@kapkit/charts';
import type { ChartConfiguration } from 'chart.js';
import type { CohortInstrument } from '../../shared/api.js';
import { api } from '../api.js';
import { chartBox as sharedChartBox } from '../charts.js';
import { h } from '../dom.js';
import { change, day, percent, score } from '../format.js';
import { instrument } from '../instruments.js';
import { dataTable, fact, pageHeading } from '../ui.js';

function chartBox(id: string, label: string, config: ChartConfiguration): HTMLElement {
  return sharedChartBox(id, label, config, 'medium');
}

const n2 = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v.toFixed(2));
const ci = (lower: number | null, upper: number | null, f: (v: number) => string) =>
  lower === null || upper === null ? '—' : `${f(lower)} to ${f(upper)}`;
const pct = (v: number) => percent(v, 1);

function summaryTable(r: CohortInstrument): HTMLElement {
  const rows: [string, string, string, string][] = [
    ['Patients with an assessment', String(r.patients), '', ''],
    [
      'Evaluable (a follow-up after baseline)',
      String(r.evaluable),
      '',
      'Denominator of the change measures.',
    ],
    [
      'Baseline mean (SD)',
      `${n2(r.baseline.mean)} (${n2(r.baseline.sd)})`,
      '',
      'Baseline: the last assessment on or before the first dose.',
    ],
    ['Latest mean (SD)', `${n2(r.latest.mean)} (${n2(r.latest.sd)})`, '', ''],
    [
      'Mean change',
      r.change.mean === null ? '—' : change(Number(r.change.mean.toFixed(2))),
      ci(r.change.lower, r.change.upper, (v) => v.toFixed(2)),
      'latest − baseline, t-based 95% CI',
    ],
    [
      'Response',
      `${r.response.count} / ${r.response.of} (${pct(r.response.rate ?? Number.NaN)})`,
      ci(r.response.lower, r.response.upper, pct),
      `${r.response.definition}; Wilson 95% CI`,
    ],
    r.remission
      ? [
          'Remission',
          `${r.remission.count} / ${r.remission.of} (${pct(r.remission.rate ?? Number.NaN)})`,
          ci(r.remission.lower, r.remission.upper, pct),
          `${r.remission.definition}; Wilson 95% CI`,
        ]
      : ['Remission', 'not defined', '', ''],
    [
      'Reliable improvement',
      `${r.reliableImprovement.count} / ${r.reliableImprovement.of} (${pct(r.reliableImprovement.rate ?? Number.NaN)})`,
      '',
      `Jacobson & Truax 1991, |RCI| > ${r.reliableImprovement.critical}; ${r.reliableImprovement.pointsNeeded === null ? 'no reliability/SD' : `≥ ${r.reliableImprovement.pointsNeeded.toFixed(2)} points with the cohort's baseline SD`}`,
    ],
    [
      'Reliable deterioration',
      `${r.reliableDeterioration.count} / ${r.reliableDeterioration.of}`,
      '',
      'Jacobson & Truax 1991',
    ],
    [
      'Effect size d_z (g_av)',
      `${n2(r.effectSize.dz)} (${n2(r.effectSize.gav)})`,
      '',
      `${r.effectSize.label}; Lakens 2013`,
    ],
    [
      'Median days to response',
      score(r.timeToResponse.median === null ? null : Number(r.timeToResponse.median.toFixed(1))),
      ci(r.timeToResponse.lower, r.timeToResponse.upper, (v) => v.toFixed(1)),
      `Kaplan–Meier, ${r.timeToResponse.events} responses among ${r.timeToResponse.n}; censored at the last follow-up`,
    ],
    r.mixedModel
      ? [
          'Mixed-model slope per week',
          `${n2(r.mixedModel.slopePerWeek)} (SE ${n2(r.mixedModel.slopePerWeekSE)})`,
          '',
          `score ~ day + (day | patient), REML${r.mixedModel.converged ? '' : '; did not converge'}`,
        ]
      : ['Mixed-model slope per week', '—', '', 'not estimable'],
  ];
  return dataTable(
    { class: 'data summary-table', 'data-instrument': r.instrument },
    `${r.name}: summary`,
    ['Measure', 'Value', '95% CI', 'Definition'],
    h(
      'tbody',
      {},
      rows.map(([a, b, c, d]) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, a),
          h('td', { class: 'num' }, b),
          h('td', { class: 'num' }, c),
          h('td', { class: 'small' }, d),
        ),
      ),
    ),
  );
}

async function instrumentSection(r: CohortInstrument): Promise<HTMLElement> {
  const def = await instrument(r.instrument);
  return h(
    'section',
    { class: 'cohort-instrument', 'data-instrument': r.instrument },
    h('h2', {}, r.name),
    h(
      'dl',
      { class: 'facts summary' },
      fact(
        'Response rate',
        r.response.rate === null ? '—' : `${pct(r.response.rate)} (${r.response.count} of ${r.response.of})`,
      ),
      fact(
        'Remission rate',
        r.remission?.rate == null
          ? '—'
          : `${pct(r.remission.rate)} (${r.remission.count} of ${r.remission.of})`,
      ),
      fact('Mean change', r.change.mean === null ? '—' : change(Number(r.change.mean.toFixed(1)))),
      fact(
        'Median days to response',
        r.timeToResponse.median === null ? 'not reached' : r.timeToResponse.median.toFixed(0),
      ),
    ),
    h(
      'div',
      { class: 'chart-pair' },
      h(
        'figure',
        {},
        chartBox(
          `trajectory-${r.instrument}`,
          `${r.name} mean by days since baseline with 95% confidence band`,
          trajectoryChartConfig(
            r.trajectory,
            def ? { instrument: def } : {},
          ) as unknown as ChartConfiguration,
        ),
        h(
          'figcaption',
          {},
          'Trajectory: mean score by days since baseline, with its 95% CI band. Observed cases only: biased when patients drop out for reasons related to their scores.',
        ),
      ),
      h(
        'figure',
        {},
        chartBox(
          `km-${r.instrument}`,
          `${r.name} time to response, Kaplan–Meier`,
          kaplanMeierChartConfig(r.timeToResponse, { event: 'response' }) as unknown as ChartConfiguration,
        ),
        h(
          'figcaption',
          {},
          'Time to response: share of patients not yet responding, by days since baseline (Kaplan–Meier, log 95% CI).',
        ),
      ),
    ),
    summaryTable(r),
  );
}

export async function renderCohort(): Promise<HTMLElement> {
  const data = await api.cohort();
  const main = data.instruments.filter((i) => i.instrument === 'phq9' || i.instrument === 'gad7');
  const others = data.instruments.filter((i) => i.instrument !== 'phq9' && i.instrument !== 'gad7');
  return h(
    'section',
    { class: 'page cohort' },
    ...pageHeading(
      'Cohort',
      data.demo,
      `${data.episodes} episodes, ${data.records} scored assessments, as of ${day(data.asOf)}. Every episode in the store is included.`,
    ),
    await Promise.all(main.map(instrumentSection)),
    others.length ? [h('h2', {}, 'Other measures'), others.map(summaryTable)] : null,
    h('h2', {}, 'Notes'),
    h(
      'ul',
      {},
      data.notes.map((n) => h('li', {}, n)),
    ),
  );
}
