import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analysisReportSchema } from '@kapkit/export';
import { describe, expect, it } from 'vitest';
import { run } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'kapkit-analyze-'));
const fixture = join(import.meta.dirname, '..', '..', 'analytics', 'test', 'fixtures', 'cohort.csv');

describe('kapkit analyze', () => {
  it('summarises a tidy CSV as a table with one row per instrument, PHQ-9 first', async () => {
    const { code, stdout } = await run(['analyze', fixture]);
    expect(code).toBe(0);
    const rows = stdout.split('\n').filter((l) => /^(PHQ-9|GAD-7)\s/.test(l));
    expect(rows.map((l) => l.split(/\s+/)[0])).toEqual(['PHQ-9', 'GAD-7']);
    // R reference (packages/analytics/test/fixtures/reference.json): PHQ-9 110 evaluable of 120, 50/106 responders.
    expect(rows[0]).toContain('110/120');
    expect(rows[0]).toContain('47.2%');
  });

  it('prints one JSON document with the documented fields under instruments.<id>', async () => {
    const { code, stdout } = await run(['analyze', fixture, '--json', '--instrument', 'PHQ-9']);
    expect(code).toBe(0);
    const doc = JSON.parse(stdout);
    expect(Object.keys(doc.instruments)).toEqual(['phq9']);
    const p = doc.instruments.phq9;
    expect(p.patients).toBe(120);
    expect(p.baseline.mean).toBeCloseTo(15.3363636363636, 9);
    expect(p.responders).toBe(50);
    expect(p.remitters).toBe(41);
    expect(p.reliableChange.improved).toBe(67);
    expect(p.reliableChange.deteriorated).toBe(1);
    expect(typeof p.effectSize.dz).toBe('number');
    expect(typeof p.effectSize.dav).toBe('number');
    expect(typeof p.effectSize.gav).toBe('number');
    expect(p.timeToResponse.median).toBe(71);
    expect(p.timeToResponse.curve[0]).toEqual(
      expect.objectContaining({
        time: 7,
        nRisk: 106,
        nEvent: 2,
        survival: expect.any(Number),
        lower: expect.any(Number),
        upper: 1,
      }),
    );
    expect(p.trajectory[0]).toEqual(expect.objectContaining({ bin: 0, n: 120, mean: expect.any(Number) }));
    const numeric = expect.any(Number);
    expect(p.mixedModel).toMatchObject({
      intercept: numeric,
      slope: numeric,
      interceptSE: numeric,
      slopeSE: numeric,
      sdIntercept: numeric,
      sdSlope: numeric,
      corr: numeric,
      sdResidual: numeric,
      remlCriterion: numeric,
    });
  });

  it('applies --rci-reliability, --rci-sd and --bins', async () => {
    const { stdout } = await run([
      'analyze',
      fixture,
      '--json',
      '--rci-reliability',
      'phq9=0.84',
      '--rci-sd',
      'PHQ-9=6',
      '--bins',
      '0,28,84',
    ]);
    const p = JSON.parse(stdout).instruments.phq9;
    expect(p.reliableChange.reliability).toBe(0.84);
    expect(p.reliableChange.sd).toBe(6);
    expect(p.reliableChange.sdSource).toBe('user');
    expect(p.reliableChange.pointsNeeded).toBeCloseTo(1.96 * Math.SQRT2 * 6 * Math.sqrt(0.16), 12);
    expect(p.trajectory.map((b: { bin: number }) => b.bin)).toEqual([0, 28, 84]);
  });

  it('reports bad rows with line numbers, excludes them and goes on', async () => {
    const file = join(dir, 'bad.csv');
    writeFileSync(
      file,
      [
        'patient_id,instrument,day,score,site',
        'a,PHQ-9,0,18,x',
        'a,phq9,14,abc,x',
        'a,phq9,28,31,x',
        'a,bdi2,28,10,x',
        'a,phq9,42,8,x',
        'b,GAD-7,0,12,x',
        'b,gad7,,9,x',
        'b,gad7,30,5,x',
      ].join('\n'),
    );
    const { code, stdout, stderr } = await run(['analyze', file, '--json']);
    expect(code).toBe(0);
    expect(stderr).toContain('line 3: score "abc" is not a number');
    expect(stderr).toContain('line 4: score 31 is outside the PHQ-9 range 0–27');
    expect(stderr).toContain('line 5: unknown instrument "bdi2"');
    expect(stderr).toContain('line 8: day (or date) is empty');
    const doc = JSON.parse(stdout);
    expect(doc.input.excluded).toBe(4);
    expect(doc.input.records).toBe(4);
    expect(doc.instruments.phq9.evaluable).toBe(1);
  });

  it('accepts dates instead of days', async () => {
    const file = join(dir, 'dates.csv');
    writeFileSync(
      file,
      'patient_id,instrument,date,score\np,phq9,2026-01-01,20\np,phq9,2026-01-15,12\np,phq9,2026-02-12,8\n',
    );
    const p = JSON.parse((await run(['analyze', file, '--json'])).stdout).instruments.phq9;
    expect(p.responders).toBe(1);
    expect(p.timeToResponse.curve[0].time).toBe(42);
  });

  it('fails clearly on a CSV without the required columns', async () => {
    const file = join(dir, 'cols.csv');
    writeFileSync(file, 'id,measure,score\n1,phq9,3\n');
    const { code, stderr } = await run(['analyze', file]);
    expect(code).toBe(2);
    expect(stderr).toContain('missing column(s) patient_id, instrument, day (or date)');
  });

  it('analyses an event log from demo-data, with the KAP-specific views', async () => {
    const events = join(dir, 'events.ndjson');
    expect((await run(['demo-data', '--patients', '40', '--seed', '3', '--out', events])).code).toBe(0);
    const { code, stdout } = await run(['analyze', events, '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    const p = report.instruments.phq9;
    expect(p.patients).toBeGreaterThan(30);
    expect(p.kap.byDoseNumber.length).toBeGreaterThanOrEqual(4);
    expect(p.kap.criticalPeriods.inside.n).toBeGreaterThan(0);
    // The demo records concurrent medications: the comparison by class is there, labelled observational.
    expect(p.byMedicationClass.note).toMatch(/^Observational/);
    expect(p.byMedicationClass.classes.map((c: { class: string }) => c.class)).toContain('benzodiazepine');
    // The output is what the published JSON Schema (kapkit schema) describes.
    const parsed = analysisReportSchema.safeParse(report);
    expect(parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual(
      [],
    );
  });
});
