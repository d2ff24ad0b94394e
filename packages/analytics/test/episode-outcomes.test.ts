import {
  createInstrumentRegistry,
  type DosingSessionRecord,
  defineInstrument,
  type EpisodeAssessment,
  type EpisodeContext,
  emptyContext,
  type InstrumentDefinition,
  InvalidTimestampError,
  phq9,
  UnknownInstrumentError,
} from '@kapkit/core/read';
import { describe, expect, it } from 'vitest';
import { episodeOutcomes, instrumentOutcomeOf } from '../src/episode-outcomes.js';
import { jacobsonTruax } from '../src/metrics/reliable-change.js';
import { analyzeOutcomes } from '../src/report.js';
import { syntheticInstrument } from './support/synthetic-instrument.js';

// A synthetic episode folded by hand: the fields episodeOutcomes reads (assessments, dosed sessions, policy).
const OPENED = Date.parse('2026-03-02T10:00:00-05:00');
const at = (day: number) =>
  `${new Date(OPENED + day * 86_400_000 - 5 * 3_600_000).toISOString().slice(0, 19)}-05:00`;

function assessment(n: number, instrument: string, day: number, total: number | null): EpisodeAssessment {
  return {
    eventId: `e${n}`,
    at: at(day),
    recordedAt: at(day),
    recordedBy: 'therapist',
    instrument,
    responses: [],
    status: total === null ? 'not-scorable' : 'complete',
    total,
    severity: null,
    context: null,
  } as unknown as EpisodeAssessment;
}

function dosed(n: number, day: number): DosingSessionRecord {
  return {
    sessionId: `s${n}`,
    doseNumber: n,
    doses: [{ at: at(day) }],
    maintenance: false,
  } as unknown as DosingSessionRecord;
}

function episode(assessments: EpisodeAssessment[], doseDays: number[]): EpisodeContext {
  return {
    ...emptyContext(),
    episodeId: 'ep-1',
    patientId: 'pt-synthetic-1',
    openedAt: at(0),
    lastEventAt: at(60),
    assessments,
    sessions: doseDays.map((d, i) => dosed(i + 1, d)),
  };
}

// PHQ-9: screening 20 (day 5), baseline 16 (day 12), doses on days 14, 24 and 45 (W = 14 days).
const context = episode(
  [
    assessment(1, 'phq9', 5, 20),
    assessment(2, 'phq9', 12, 16),
    assessment(3, 'gad7', 12, 14),
    assessment(4, 'phq9', 20, 12),
    assessment(5, 'phq9', 30, 7),
    assessment(6, 'phq9', 40, null),
    assessment(7, 'phq9', 50, 4),
    assessment(8, 'gad7', 50, 19),
  ],
  [14, 24, 45],
);

describe('episodeOutcomes: one outcome per assessment from the instrument definitions', () => {
  const o = episodeOutcomes(context);
  const byId = new Map(o.assessments.map((a) => [a.eventId, a]));

  it('takes the last assessment at or before the first dose as the baseline', () => {
    const phq = instrumentOutcomeOf(o, 'PHQ-9')!;
    expect(phq.baseline).toEqual({ eventId: 'e2', at: at(12), score: 16 });
    expect(byId.get('e2')).toMatchObject({ isBaseline: true, change: 0, reliableChange: 'baseline' });
    // A screening before the baseline has no change, response or reliable change.
    expect(byId.get('e1')).toMatchObject({
      baseline: 16,
      change: null,
      response: null,
      reliableChange: null,
    });
  });

  it('gives change, percent change, response and remission against the baseline, as defined for the PHQ-9', () => {
    expect(byId.get('e4')).toMatchObject({
      change: -4,
      percentChange: -25,
      response: false,
      remission: false,
    });
    // 8 ≤ 0.5 · 16: response; 7 is not below 5: no remission.
    expect(byId.get('e5')).toMatchObject({
      change: -9,
      percentChange: -56.25,
      response: true,
      remission: false,
    });
    expect(byId.get('e7')).toMatchObject({
      change: -12,
      percentChange: -75,
      response: true,
      remission: true,
    });
    // Not scorable: nothing to compare.
    expect(byId.get('e6')).toMatchObject({ score: null, change: null, response: null, reliableChange: null });
  });

  it('classifies reliable change with the definition’s r, the norms SD and 1.96 (Jacobson & Truax 1991)', () => {
    const phq = instrumentOutcomeOf(o, 'phq9')!;
    expect(phq.reliableChange).toMatchObject({ critical: 1.96, reliability: 0.89, sd: 3.52 });
    // 1.96 · √2 · 3.52 · √(1 − 0.89) = 3.2360… points (Kocalevent 2013 SD, Kroenke 2001 α)
    expect(phq.reliableChange!.pointsNeeded).toBeCloseTo(3.236, 3);
    for (const id of ['e4', 'e5', 'e7']) {
      const a = byId.get(id)!;
      const expected = jacobsonTruax(16, a.score!, { sd: 3.52, reliability: 0.89 });
      expect(a.reliableChange).toBe(expected.class);
      expect(a.rci).toBeCloseTo(expected.rci, 12);
    }
    expect(byId.get('e4')!.reliableChange).toBe('improved'); // −4 beyond 3.24 points
    // GAD-7 14 → 19: reliable deterioration, and ≥ 4 points by the fixed-point rule.
    expect(byId.get('e8')).toMatchObject({
      reliableChange: 'deteriorated',
      fixedPointChange: 'deteriorated',
    });
    expect(byId.get('e5')!.fixedPointChange).toBe('improved'); // −9 ≥ 6 points
  });

  it('places each assessment among the critical periods: its windows, the dose number and days since it', () => {
    expect(byId.get('e2')!.criticalPeriod).toEqual({
      doseNumber: 0,
      windows: [],
      inside: false,
      daysSinceLastDose: null,
    });
    expect(byId.get('e4')!.criticalPeriod).toEqual({
      doseNumber: 1,
      windows: [1],
      inside: true,
      daysSinceLastDose: 6,
    });
    // Day 30: dose 2 (day 24) window; dose 1's ended on day 28.
    expect(byId.get('e5')!.criticalPeriod).toEqual({
      doseNumber: 2,
      windows: [2],
      inside: true,
      daysSinceLastDose: 6,
    });
    // Day 40: after dose 2's window (ends day 38), before dose 3: a gap.
    expect(byId.get('e6')!.criticalPeriod).toMatchObject({ doseNumber: 2, windows: [], inside: false });
    expect(o.criticalPeriods.gaps).toHaveLength(1);
  });

  it('gives the per-episode summary of patientOutcome (days since the episode opened)', () => {
    const phq = instrumentOutcomeOf(o, 'phq9')!;
    expect(phq.outcome).toMatchObject({
      baseline: 16,
      baselineDay: 12,
      latest: 4,
      latestDay: 50,
      change: -12,
      response: true,
      firstResponseDay: 18,
      remission: true,
      evaluable: true,
    });
    expect(phq.latest?.eventId).toBe('e7');
    expect(phq.responseThreshold).toBe(8);
    expect(phq.notDefined).toEqual([]);
  });

  it('leaves out what comes after asOf', () => {
    const early = episodeOutcomes(context, { asOf: at(25) });
    expect(early.assessments.map((a) => a.eventId)).toEqual(['e1', 'e2', 'e3', 'e4']);
    expect(early.doses.map((d) => d.doseNumber)).toEqual([1, 2]);
    expect(() => episodeOutcomes(context, { asOf: '2026-04-01' })).toThrow(InvalidTimestampError);
    expect(() => episodeOutcomes(context, { instruments: ['bdi2'] })).toThrow(UnknownInstrumentError);
  });
});

describe('an instrument without outcome definitions: not defined, never a default', () => {
  // A synthetic user-registered measure, scoring only: no outcomes.
  const custom: InstrumentDefinition = syntheticInstrument({
    id: 'clinicdep',
    name: 'Clinic depression scale',
    scale: { min: 0, max: 3 },
    items: [{ id: 'c1' }, { id: 'c2' }, { id: 'c3' }],
    range: { min: 0, max: 9 },
  });
  const registry = createInstrumentRegistry();
  registry.register(custom);
  const ctx = episode([assessment(1, 'clinicdep', 12, 8), assessment(2, 'clinicdep', 30, 2)], [14]);

  it('reports response, remission and reliable change as null, and says which are not defined', () => {
    const o = episodeOutcomes(ctx, { registry });
    const inst = instrumentOutcomeOf(o, 'clinicdep')!;
    expect(inst.response).toBeNull();
    expect(inst.remission).toBeNull();
    expect(inst.reliableChange).toBeNull();
    expect(inst.notDefined).toEqual([
      'response is not defined for Clinic depression scale (no outcomes.response)',
      'remission is not defined for Clinic depression scale (no outcomes.remission)',
      'reliable change is not defined for Clinic depression scale (no outcomes.reliableChange)',
    ]);
    // The change is still there: only the definitions it lacks are left out.
    expect(o.assessments[1]).toMatchObject({
      change: -6,
      response: null,
      remission: null,
      reliableChange: null,
    });
  });

  it('says "not defined" in the cohort report instead of applying a 50% response', () => {
    const records = ['a', 'b'].flatMap((p) => [
      { patientId: p, instrument: 'clinicdep', day: 0, score: 8 },
      { patientId: p, instrument: 'clinicdep', day: 30, score: 2 },
    ]);
    const r = analyzeOutcomes(records, { registry, mixedModel: false }).instruments.clinicdep!;
    expect(r.responders).toBe(0);
    expect(r.responseRate.of).toBe(0);
    expect(r.responseRate.definition).toBe(
      'not defined for Clinic depression scale: its instrument definition has no outcomes.response',
    );
    expect(r.remissionRate).toBeNull();
    // The PHQ-9 keeps its own definitions.
    const phqRecords = records.map((x) => ({ ...x, instrument: 'phq9', score: x.score * 2 }));
    expect(analyzeOutcomes(phqRecords, { mixedModel: false }).instruments.phq9!.responders).toBe(2);
  });

  it('uses a user-registered definition that carries its outcomes', () => {
    const withOutcomes = defineInstrument({
      ...custom,
      id: 'clinicdeptwo',
      outcomes: {
        response: { fraction: 0.6, source: 'synthetic test definition' },
        remission: { below: 3, source: 'synthetic test definition' },
      },
    });
    const reg = createInstrumentRegistry();
    reg.register(withOutcomes);
    const o = episodeOutcomes(
      episode([assessment(1, 'clinicdeptwo', 12, 5), assessment(2, 'clinicdeptwo', 30, 3)], [14]),
      { registry: reg },
    );
    // 3 ≤ 0.6 · 5: response; 3 is not below 3: no remission.
    expect(o.assessments[1]).toMatchObject({ response: true, remission: false });
    expect(instrumentOutcomeOf(o, 'clinicdeptwo')!.notDefined).toEqual([
      'reliable change is not defined for Clinic depression scale (no outcomes.reliableChange)',
    ]);
    expect(phq9.outcomes?.reliableChange?.critical).toBe(1.96);
  });
});
