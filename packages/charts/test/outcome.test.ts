import { jacobsonTruax, patientOutcome } from '@kapkit/analytics';
import { gad7, phq9, UnknownInstrumentError } from '@kapkit/core/instruments';
import { DAY_MS, InvalidTimestampError } from '@kapkit/core/time';
import { gad7Answers, phq9Answers, Story } from '@kapkit/testing';
import type { AnnotationOptions } from 'chartjs-plugin-annotation';
import { describe, expect, it } from 'vitest';
import {
  type ChartLabel,
  compositeOver,
  describeOutcomeChart,
  type OutcomeChartConfiguration,
  type OutcomeDataset,
  type OutcomeDatasetRole,
  outcomeChart,
  outcomeChartConfig,
  outcomeChartData,
  palette,
  relativeLuminance,
} from '../src/index.js';
import { COURSE, referenceStory, SESSION } from './reference-story.js';

const context = referenceStory().context();

function datasets(config: OutcomeChartConfiguration): OutcomeDataset[] {
  return config.data.datasets as OutcomeDataset[];
}
function dataset(
  config: OutcomeChartConfiguration,
  role: OutcomeDatasetRole,
  instrument?: string,
): OutcomeDataset {
  const d = datasets(config).find(
    (x) => x.kapkitRole === role && (instrument === undefined || x.instrument === instrument),
  );
  if (!d) throw new Error(`no dataset ${role}`);
  return d;
}
/** Every dataset of a role (one per panel that has such markers), their points in order. */
function pointsOf(config: OutcomeChartConfiguration, role: OutcomeDatasetRole) {
  return datasets(config)
    .filter((d) => d.kapkitRole === role)
    .flatMap((d) => d.data);
}
/** The text of a label the labels plugin draws (`options.plugins.kapkitLabels`). */
function labelText(config: OutcomeChartConfiguration, id: string): string | undefined {
  const labels = (config.options!.plugins as unknown as { kapkitLabels: { labels: ChartLabel[] } })
    .kapkitLabels.labels;
  return labels.find((l) => l.id === id)?.text.join(' ');
}
function annotations(config: OutcomeChartConfiguration): Record<string, AnnotationOptions> {
  return config.options!.plugins!.annotation!.annotations as Record<string, AnnotationOptions>;
}
function annotation<T extends AnnotationOptions['type']>(
  config: OutcomeChartConfiguration,
  id: string,
  type: T,
): Extract<AnnotationOptions, { type: T }> {
  const a = annotations(config)[id];
  if (!a) throw new Error(`no annotation ${id}`);
  expect(a.type).toBe(type);
  return a as Extract<AnnotationOptions, { type: T }>;
}
/** The first dose of each dosed session, in order. */
const doseTimes = context.sessions.filter((s) => s.doseNumber !== null).map((s) => s.doses[0]!.at);

describe('outcomeChartConfig: severity bands', () => {
  const config = outcomeChartConfig({ context });

  it("draws each instrument's own bands as labelled boxes over its score range, on its own panel", () => {
    for (const def of [phq9, gad7]) {
      const bands = def.bands!;
      for (const [i, band] of bands.entries()) {
        const box = annotation(config, `band-${def.id}-${band.id}`, 'box');
        // A band covers [min, next band's min): the box's y range starts at the band's min and ends where the
        // next band starts (max + 1 for integer bands), the last one at its max, so no total falls in a gap.
        expect(box.yMin).toBe(band.min);
        expect(box.yMax).toBe(bands[i + 1]?.min ?? band.max);
        expect(box.yMax).toBe(i + 1 < bands.length ? band.max + 1 : band.max);
        expect(box.yScaleID).toBe(`y-${def.id}`);
        expect(box.xMin).toBeUndefined(); // full width
        expect(labelText(config, `band-${def.id}-${band.id}`)).toBe(
          `${band.label} (${band.min}–${band.max})`,
        );
      }
      const keys = Object.keys(annotations(config)).filter((k) => k.startsWith(`band-${def.id}-`));
      expect(keys).toHaveLength(bands.length);
    }
  });

  it('puts a GAD-7 of 19 in the GAD-7 "severe" band of the GAD-7 panel, never in PHQ-9 bands', () => {
    const s = new Story().readyToDose(COURSE);
    s.phq9(12, phq9Answers(10), 120).gad7(12, gad7Answers(19), 130).dosingSession(14, SESSION);
    const { config: c, data: d } = outcomeChart({ context: s.context() });
    const line = dataset(c, 'instrument', 'gad7');
    expect(line.yAxisID).toBe('y-gad7');
    expect(line.data[0]!.y).toBe(19);
    // Bands are half-open [yMin, yMax), the last one closed at its max.
    const containing = Object.entries(annotations(c)).filter(([k, a]) => {
      if (!k.startsWith('band-') || a.type !== 'box' || a.yScaleID !== line.yAxisID) return false;
      const top = a.yMax as number;
      return (a.yMin as number) <= 19 && (19 < top || (top === 21 && 19 <= top));
    });
    expect(containing.map(([k]) => k)).toEqual(['band-gad7-severe']);
    expect(d.rows.find((r) => r.instrument === 'gad7')!.severityLabel).toBe('Severe');
    const scales = c.options!.scales as Record<string, { stack?: string; max?: number }>;
    expect(scales['y-gad7']).toMatchObject({ stack: 'panels', max: 21 });
    expect(scales['y-phq9']).toMatchObject({ stack: 'panels', max: 27 });
  });

  it('puts the first instrument asked for on the top panel', () => {
    const c = outcomeChartConfig({ context, instruments: ['GAD-7', 'phq9'] });
    expect(Object.keys(annotations(c)).filter((k) => k.startsWith('band-'))).toEqual([
      ...gad7.bands!.map((b) => `band-gad7-${b.id}`),
      ...phq9.bands!.map((b) => `band-phq9-${b.id}`),
    ]);
    expect(annotation(c, 'band-gad7-severe', 'box').yMax).toBe(21);
    // chart.js stacks the last-listed scale of a stack on top.
    const ys = Object.keys(c.options!.scales!).filter((k) => k.startsWith('y-'));
    expect(ys.at(-1)).toBe('y-gad7');
  });

  it('colours bands least to most severe with tints that dark text reads on', () => {
    const tints = outcomeChartData({ context }).bands.map((b) => b.color);
    const lum = tints.map((t) => relativeLuminance(t));
    for (let i = 1; i < lum.length; i++) expect(lum[i]).toBeLessThan(lum[i - 1]!); // ordered in greyscale too
  });
});

describe('outcomeChartConfig: dosing sessions and critical periods', () => {
  const config = outcomeChartConfig({ context });

  it('marks each dosing session once, at its dose time, with its dose number and mg', () => {
    expect(doseTimes).toHaveLength(6);
    const markers = dataset(config, 'dose').data;
    expect(markers.map((p) => p.x)).toEqual(doseTimes.map((t) => Date.parse(t)));
    for (const [i, t] of doseTimes.entries()) {
      const n = i + 1;
      expect(markers[i]!.description).toMatch(new RegExp(`^Dose ${n}: full dose 300 mg`));
      const line = annotation(config, `dose-${n}`, 'line');
      expect(line.xMin).toBe(Date.parse(t));
      expect(line.xMax).toBe(Date.parse(t));
      expect(labelText(config, `dose-${n}`)).toBe(`Dose ${n} ${n === 4 ? '300+150' : '300'} mg`);
    }
    expect(markers[3]!.description).toContain('+ booster 150 mg');
    expect(Object.keys(annotations(config)).filter((k) => k.startsWith('dose-'))).toHaveLength(6);
  });

  it('shades one window per dose spanning exactly W days, W from the episode policy', () => {
    for (const [i, t] of doseTimes.entries()) {
      const box = annotation(config, `window-${i + 1}`, 'box');
      expect(box.xMin).toBe(Date.parse(t));
      expect((box.xMax as number) - (box.xMin as number)).toBe(14 * DAY_MS);
      expect(box.yMin).toBeUndefined(); // full height
    }
    const days = outcomeChartConfig({ context, xAxis: 'days-since-baseline' });
    for (let n = 1; n <= 6; n++) {
      const box = annotation(days, `window-${n}`, 'box');
      expect((box.xMax as number) - (box.xMin as number)).toBeCloseTo(14, 12);
    }

    const s = new Story().readyToDose({ ...COURSE, criticalPeriodDays: 2 });
    s.phq9(12, phq9Answers(15), 120).dosingSession(14, SESSION).dosingSession(20, SESSION);
    const short = outcomeChartConfig({ context: s.context() });
    const w1 = annotation(short, 'window-1', 'box');
    expect((w1.xMax as number) - (w1.xMin as number)).toBe(2 * DAY_MS);
    expect(short.data.datasets.find((d) => d.label?.startsWith('Critical period'))?.label).toContain('2 d');
  });

  it('shows overlaps as overlapping translucent boxes (darker) and gaps as unshaded stretches', () => {
    const box = (n: number) => annotation(config, `window-${n}`, 'box');
    // Doses 1 and 2 are 10 days apart (< W = 14): their boxes overlap by 4 days.
    expect(box(1).xMax as number).toBeGreaterThan(box(2).xMin as number);
    expect(((box(1).xMax as number) - (box(2).xMin as number)) / DAY_MS).toBeCloseTo(4, 6);
    // Dose 3 comes 21 days after dose 2: a 7-day gap that no box covers.
    expect(box(3).xMin as number).toBeGreaterThan(box(2).xMax as number);
    const data = outcomeChartData({ context });
    expect(data.overlaps.map((o) => [o.from, o.to])).toEqual([
      [1, 2],
      [3, 4],
      [4, 5],
      [5, 6],
    ]);
    expect(data.gaps.map((g) => [g.afterDose, g.days])).toEqual([[2, 7]]);
    // Same translucent fill for every window, so where two overlap the canvas composites it twice: darker.
    const fills = [1, 2, 3, 4, 5, 6].map((n) => box(n).backgroundColor);
    expect(new Set(fills)).toEqual(new Set([palette.criticalPeriod]));
    for (const band of palette.bands) {
      const once = compositeOver(palette.criticalPeriod, band);
      const twice = compositeOver(palette.criticalPeriod, once);
      expect(relativeLuminance(once)).toBeLessThan(relativeLuminance(band));
      expect(relativeLuminance(twice)).toBeLessThan(relativeLuminance(once) - 0.02);
    }
  });
});

describe('outcomeChartConfig: response and remission lines', () => {
  const config = outcomeChartConfig({ context });
  const data = outcomeChartData({ context });

  it('draws the response line at 0.5 × baseline per instrument, from the baseline on', () => {
    const phq = annotation(config, 'response-phq9', 'line');
    expect(data.instruments[0]!.baseline!.total).toBe(18);
    expect(phq.yMin).toBe(9);
    expect(phq.yMax).toBe(9);
    expect(phq.xMin).toBe(data.rows.find((r) => r.instrument === 'phq9' && r.baseline)!.x);
    expect(phq.yScaleID).toBe('y-phq9');
    expect(labelText(config, 'response-phq9')).toBe('PHQ-9 response ≤ 9 (50% of baseline 18)');
    const gad = annotation(config, 'response-gad7', 'line');
    expect(gad.yMin).toBe(0.5 * 14);
    expect(gad.yScaleID).toBe('y-gad7');
    expect(labelText(config, 'response-gad7')).toContain('GAD-7 response ≤ 7');
  });

  it('draws the remission line at 5 per instrument, labelled', () => {
    for (const [id, name] of [
      ['phq9', 'PHQ-9'],
      ['gad7', 'GAD-7'],
    ]) {
      const line = annotation(config, `remission-${id}`, 'line');
      expect(line.yMin).toBe(5);
      expect(line.yMax).toBe(5);
      expect(line.yScaleID).toBe(`y-${id}`); // each on its own panel: no shared line, no shared label place
      expect(labelText(config, `remission-${id}`)).toBe(`${name} remission < 5`);
    }
  });

  it('has no response line without a baseline above 0', () => {
    const s = new Story().readyToDose(COURSE);
    s.phq9(12, phq9Answers(0), 120).dosingSession(14, SESSION).phq9(20, phq9Answers(0));
    const c = outcomeChartConfig({ context: s.context() });
    expect(annotations(c)['response-phq9']).toBeUndefined();
    expect(annotations(c)['remission-phq9']).toBeDefined();
  });
});

describe('outcomeChartConfig: reliable change and safety flags', () => {
  const { config, data } = outcomeChart({ context });
  const styles = (role: OutcomeDatasetRole) => dataset(config, role).pointStyle;

  it('marks reliable improvement (▲) and deterioration (▼) against the baseline with Jacobson–Truax', () => {
    const improved = dataset(config, 'reliable-improvement');
    const deteriorated = dataset(config, 'reliable-deterioration');
    expect(improved.pointStyle).toBe('triangle');
    expect(deteriorated.pointStyle).toBe('triangle');
    expect(deteriorated.pointRotation).toBe(180);
    expect(improved.label).toMatch(/Reliable improvement/);
    // One dataset per panel, the legend entry on the first only.
    const listed = datasets(config).filter(
      (d) => d.kapkitRole === 'reliable-improvement' && d.kapkitLegend !== false,
    );
    expect(listed).toHaveLength(1);

    const phq = data.instruments.find((i) => i.id === 'phq9')!;
    expect(phq.reliableChange).toMatchObject({ reliability: 0.89, sd: 3.52 });
    for (const r of data.rows.filter((x) => x.total !== null && !x.baseline && x.instrument !== undefined)) {
      const inst = data.instruments.find((i) => i.id === r.instrument)!;
      const expected = jacobsonTruax(inst.baseline!.total, r.total!, {
        sd: inst.reliableChange!.sd,
        reliability: inst.reliableChange!.reliability,
      });
      expect(r.reliableChange).toBe(expected.class);
      expect(r.rci).toBeCloseTo(expected.rci, 12);
    }
    // PHQ-9 18 → 16 is within 3.24 points: no marker; GAD-7 14 → 17 is a reliable deterioration.
    const day21 = data.rows.find((r) => r.instrument === 'phq9' && r.total === 16)!;
    expect(day21.reliableChange).toBe('no-reliable-change');
    expect(
      pointsOf(config, 'reliable-improvement')
        .map((p) => p.eventId)
        .sort(),
    ).toEqual(
      data.rows
        .filter((r) => r.reliableChange === 'improved')
        .map((r) => r.eventId)
        .sort(),
    );
    expect(deteriorated.data).toHaveLength(1);
    expect(deteriorated.data[0]).toMatchObject({ y: 17, instrument: 'gad7' });
    expect(deteriorated.data[0]!.description).toContain('reliable deterioration vs baseline 14');
  });

  it('marks every assessment with item 9 > 0 with its own point style, legend entry and sentence', () => {
    const flagged = context.assessments.filter((a) => a.instrument === 'phq9' && (a.responses[8] ?? 0) > 0);
    expect(flagged).toHaveLength(1);
    const positive = dataset(config, 'safety-positive');
    expect(positive.pointStyle).toBe('crossRot');
    expect(positive.label).toBe('✕ Safety flag: PHQ-9 item 9 answered above 0');
    expect(positive.data.map((p) => p.eventId)).toEqual(flagged.map((a) => a.eventId));
    expect(positive.data[0]).toMatchObject({ x: Date.parse(flagged[0]!.at), y: 13 });
    expect(positive.data[0]!.description).toContain('SAFETY FLAG: PHQ-9 item 9 answered 1 (reviewed)');
    // Distinct from every other marker: not by colour alone.
    const others = datasets(config)
      .filter((d) => d.kapkitRole !== 'safety-positive')
      .map((d) => d.pointStyle);
    expect(others).not.toContain('crossRot');
    expect(styles('safety-unanswered')).toBe('rectRot');
    expect(others.filter((s) => s === 'rectRot')).toHaveLength(1);
  });

  it('marks an unanswered item 9 as a safety item left blank', () => {
    const unanswered = dataset(config, 'safety-unanswered');
    const blank = context.assessments.filter((a) => a.instrument === 'phq9' && a.responses[8] === null);
    expect(unanswered.data.map((p) => p.eventId)).toEqual(blank.map((a) => a.eventId));
    expect(unanswered.data[0]!.y).toBe(9); // 8 answered items of 1, prorated × 9/8
    expect(unanswered.data[0]!.description).toContain('SAFETY ITEM UNANSWERED');
  });

  it('reports a flag as reviewed only if the review was recorded by asOf', () => {
    const flaggedAt = context.safetyFlags.find((f) => f.kind === 'positive')!.at;
    const before = outcomeChartData({ context, asOf: flaggedAt });
    expect(before.rows.find((r) => r.safetyFlag?.kind === 'positive')!.safetyFlag!.reviewed).toBe(false);
    expect(data.rows.find((r) => r.safetyFlag?.kind === 'positive')!.safetyFlag!.reviewed).toBe(true);
  });

  it('keeps a flag of an instrument that is not charted, and of an assessment too incomplete to score', () => {
    const gadOnly = outcomeChart({ context, instruments: ['gad7'] });
    expect(
      datasets(gadOnly.config)
        .filter((d) => d.kapkitRole === 'instrument')
        .map((d) => d.instrument),
    ).toEqual(['gad7']);
    const row = gadOnly.data.rows.find((r) => r.safetyFlag?.kind === 'positive')!;
    expect(row).toMatchObject({ instrument: 'phq9', charted: false, total: 13 });
    expect(dataset(gadOnly.config, 'safety-positive').data).toHaveLength(1);

    const s = new Story().readyToDose(COURSE);
    s.phq9(12, phq9Answers(15), 120)
      .dosingSession(14, SESSION)
      .phq9(20, [1, null, null, null, 1, 1, 1, 1, 2]);
    const { config: c, data: d } = outcomeChart({ context: s.context() });
    const unscorable = d.rows.find((r) => r.total === null)!;
    expect(unscorable.safetyFlag).toMatchObject({ kind: 'positive', value: 2, reviewed: false });
    expect(dataset(c, 'safety-positive').data[0]).toMatchObject({ y: 0, eventId: unscorable.eventId });
    expect(dataset(c, 'instrument', 'phq9').data).toHaveLength(1); // the unscorable one has no total to plot
  });
});

describe('outcomeChartData: the accessible table', () => {
  const { config, data } = outcomeChart({ context });

  it('has one row per plotted point, with the same numbers', () => {
    for (const inst of data.instruments) {
      const points = dataset(config, 'instrument', inst.id).data.map((p) => ({
        x: p.x,
        y: p.y,
        id: p.eventId,
      }));
      const rows = data.rows
        .filter((r) => r.instrument === inst.id && r.total !== null)
        .map((r) => ({ x: r.x, y: r.total, id: r.eventId }));
      expect(points).toEqual(rows);
    }
    const assessed = context.assessments.filter((a) => a.instrument === 'phq9' || a.instrument === 'gad7');
    expect(data.rows.map((r) => r.eventId)).toEqual(assessed.map((a) => a.eventId));
  });

  it('gives each row its severity, dose number, critical-period position and a sentence', () => {
    const byId = new Map(data.rows.map((r) => [r.eventId, r]));
    for (const a of context.assessments) {
      const r = byId.get(a.eventId)!;
      expect(r.total).toBe(a.total);
      expect(r.severity).toBe(a.severity);
      const dosesBefore = doseTimes.filter((t) => Date.parse(t) <= Date.parse(a.at)).length;
      expect(r.doseNumber).toBe(dosesBefore);
    }
    const baseline = data.rows.find((r) => r.instrument === 'phq9' && r.baseline)!;
    expect(baseline).toMatchObject({ total: 18, severityLabel: 'Moderately severe', doseNumber: 0, day: 0 });
    expect(baseline.inCriticalPeriod).toBe(false);
    expect(baseline.description).toBe(
      'PHQ-9 18 (moderately severe) on 2026-03-14; baseline; before the first dose',
    );
    const last = data.rows.filter((r) => r.instrument === 'phq9').at(-1)!;
    expect(last).toMatchObject({
      total: 4,
      doseNumber: 6,
      inCriticalPeriod: true,
      response: true,
      remission: true,
    });
  });

  it('uses the baseline rule of patientOutcome (last assessment at or before the first dose)', () => {
    const s = new Story().readyToDose(COURSE);
    s.phq9(12, phq9Answers(20), 120)
      .phq9(13, phq9Answers(16))
      .dosingSession(14, SESSION)
      .phq9(20, phq9Answers(9));
    const d = outcomeChartData({ context: s.context(), xAxis: 'days-since-baseline' });
    const rows = d.rows.filter((r) => r.instrument === 'phq9');
    expect(rows.map((r) => r.reliableChange === 'baseline')).toEqual([false, true, false]);
    expect(rows[0]!.reliableChange).toBeNull(); // a screening before the baseline has no change class
    const firstDoseDay = d.doses[0]!.x; // days since baseline, like every x here
    const o = patientOutcome(
      rows.map((r) => ({ patientId: 'p', instrument: 'phq9', day: r.day, score: r.total!, firstDoseDay })),
      { direction: 'higher-is-worse', responseFraction: 0.5, remissionBelow: 5 },
    );
    expect(o.baseline).toBe(16);
    expect(rows[1]!.day).toBe(0);
    expect(d.origin.kind).toBe('baseline');
    expect(d.instruments[0]!.outcome).toMatchObject({ evaluable: true, latest: 9, response: false });
  });

  it('shows the episode as of asOf', () => {
    const asOf = '2026-04-01T00:00:00-05:00'; // day 30: doses 1 and 2 only
    const { config: c, data: d } = outcomeChart({ context, asOf });
    expect(d.asOf).toBe(asOf);
    expect(d.doses).toHaveLength(2);
    expect(dataset(c, 'dose').data).toHaveLength(2);
    expect(d.rows.every((r) => Date.parse(r.at) <= Date.parse(asOf))).toBe(true);
    expect(c.options?.scales?.x?.max).toBeGreaterThanOrEqual(Date.parse(asOf));
    expect(() => outcomeChartData({ context, asOf: '2026-04-01' })).toThrow(InvalidTimestampError);
  });

  it('summarises the chart in words for screen readers', () => {
    const text = describeOutcomeChart(data);
    expect(text).toContain('Synthetic demo data.');
    expect(text).toContain('PHQ-9: 8 assessment(s); baseline 18, latest 4 (minimal), response, remission.');
    expect(text).toContain('6 dose(s); critical period 14 days; 4 overlap(s), 1 gap(s) (7 d after dose 2).');
    expect(text).toContain('SAFETY FLAG: PHQ-9 item 9 answered 1 (reviewed) on 2026-03-25');
  });
});

describe('outcomeChartConfig: axes, options and determinism', () => {
  it('uses a time scale by default and days since baseline on request', () => {
    const time = outcomeChartConfig({ context });
    expect(time.options?.scales?.x?.type).toBe('time');
    const days = outcomeChartConfig({ context, xAxis: 'days-since-baseline' });
    expect(days.options?.scales?.x?.type).toBe('linear');
    const first = dataset(days, 'instrument', 'phq9').data[0]!;
    expect(first.x).toBe(0);
    expect(dataset(days, 'dose').data[0]!.x).toBeCloseTo(
      (Date.parse(doseTimes[0]!) - Date.parse(context.assessments[0]!.at)) / DAY_MS,
      12,
    );
  });

  it('is deterministic and free of DOM objects', () => {
    const a = outcomeChartConfig({ context });
    const b = outcomeChartConfig({ context });
    expect(a).toEqual(b);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.parse(JSON.stringify(a)).data.datasets.length).toBe(a.data.datasets.length);
  });

  it('defaults to the PHQ-9 and GAD-7 the episode has, and rejects unknown instruments', () => {
    expect(outcomeChartData({ context }).instruments.map((i) => i.id)).toEqual(['phq9', 'gad7']);
    const s = new Story().readyToDose(COURSE);
    s.gad7(12, gad7Answers(12), 120).dosingSession(14, SESSION);
    expect(outcomeChartData({ context: s.context() }).instruments.map((i) => i.id)).toEqual(['gad7']);
    expect(() => outcomeChartConfig({ context, instruments: ['bdi2'] })).toThrow(UnknownInstrumentError);
  });

  it('builds a chart for an episode without assessments or doses', () => {
    const s = new Story().readyToDose(COURSE);
    const { config, data } = outcomeChart({ context: s.context() });
    expect(data.rows).toEqual([]);
    expect(data.origin.kind).toBe('opened');
    expect(dataset(config, 'instrument', 'phq9').data).toEqual([]);
    expect(annotations(config)['band-phq9-minimal']).toBeDefined();
    expect(data.x.max).toBeGreaterThan(data.x.min);
  });
});

describe('dose steps and maintenance on the outcome chart', () => {
  /** A plan that starts with a half dose (150 of 300 mg), a step up, then maintenance. */
  function titrated() {
    const s = new Story().readyToDose(COURSE);
    const plan = s.events.find((e) => (e as { type: string }).type === 'TreatmentPlanCreated') as Record<
      string,
      unknown
    >;
    plan.titration = [
      { fromSession: 1, doseMg: 150 },
      { fromSession: 2, doseMg: 300 },
    ];
    plan.plannedDosingSessions = 2;
    s.phq9(12, phq9Answers(18), 120);
    s.dosingSession(14, { ...SESSION, doseMg: 150 });
    s.dosingSession(24, SESSION);
    s.day(30).add('MaintenancePlanned', { intervalDays: 45 });
    s.dosingSession(70, SESSION);
    return s;
  }

  it('marks the step up with its direction and the planned dose, and labels the maintenance dose', () => {
    const input = { context: titrated().context() };
    const data = outcomeChartData(input);
    expect(data.doses.map((d) => [d.doseMg, d.step, d.plannedDoseMg, d.maintenance])).toEqual([
      [150, null, 150, false],
      [300, 'up', 300, false],
      [300, null, 300, true],
    ]);
    expect(data.doses[1]?.description).toContain('a step up from 150 mg');
    expect(data.doses[2]?.description).toContain('(maintenance)');
    const config = outcomeChartConfig(input);
    const annotations = config.options?.plugins?.annotation?.annotations as Record<
      string,
      AnnotationOptions<'line'>
    >;
    const label = (n: number) => labelText(config, `dose-${n}`);
    expect(label(2)).toBe('Dose 2 300 mg ▲');
    expect(annotations['dose-2']?.borderWidth).toBe(2.5);
    expect(label(1)).toBe('Dose 1 150 mg');
    expect(label(3)).toBe('Maint. dose 3 300 mg');
  });
});
