import { replay } from '@kapkit/core';
import { describe, expect, it } from 'vitest';
import { BASELINE_PHQ9, gad7Answers, phq9Answers, STORY_START_MS, Story } from '../src/index.js';

const sum = (xs: readonly (number | null)[]) => xs.reduce<number>((a, x) => a + (x ?? 0), 0);
const minutesBetween = (a: string, b: string) => (Date.parse(b) - Date.parse(a)) / 60_000;

describe('Story: the events it writes', () => {
  it('numbers events <episodeId>-e<n>, marks them synthetic and schema version 1, and adds the extra fields', () => {
    const s = new Story('ep-x', 'pt-synthetic-x', STORY_START_MS, { site: 'demo' })
      .add('EpisodeOpened')
      .add('FitAssessed', {
        outcome: 'good-fit',
      });
    expect(s.events.map((e) => e.id)).toEqual(['ep-x-e1', 'ep-x-e2']);
    for (const e of s.events) {
      expect(e).toMatchObject({
        episodeId: 'ep-x',
        patientId: 'pt-synthetic-x',
        v: 1,
        synthetic: true,
        site: 'demo',
      });
    }
    expect(s.lastId).toBe('ep-x-e2');
  });

  it('writes times as days (and minutes) after the start at UTC−05:00', () => {
    const s = new Story();
    expect(s.at(0)).toBe('2026-03-02T10:00:00-05:00');
    expect(s.at(1.5)).toBe('2026-03-03T22:00:00-05:00');
    s.day(3).add('EpisodeOpened', {}, 90);
    expect(s.last.at).toBe('2026-03-05T11:30:00-05:00');
  });

  it('returns the events added since an index', () => {
    const s = new Story().readyToDose();
    const from = s.events.length;
    s.dosingSession(14);
    expect(s.since(from).map((e) => e.type)).toEqual([
      'DosingSessionScheduled',
      'VitalsRecorded',
      'DoseAdministered',
      'VitalsRecorded',
      'DosingSessionCompleted',
    ]);
  });

  it('says so when asked for the last event of an empty story', () => {
    expect(() => new Story().last).toThrow(/no event yet/);
  });
});

describe('Story: courses the episode machine accepts', () => {
  it('readyToDose, two sessions and integration replay without a refusal', () => {
    const s = new Story().readyToDose().dosingSession(14).integration(15).dosingSession(24).integration(25);
    const { state, refusals } = replay(s.events);
    expect(refusals).toEqual([]);
    expect(state.context.sessions.map((x) => [x.sessionId, x.status])).toEqual([
      ['ep-1-s1', 'completed'],
      ['ep-1-s2', 'completed'],
    ]);
    expect(s.session(2)).toBe('ep-1-s2');
    expect(state.context.dosesAuthorized).toBe(2);
  });

  it('readyToDose records the baseline PHQ-9 and GAD-7 unless told not to', () => {
    const withBaseline = new Story().readyToDose().context();
    expect(withBaseline.assessments.map((a) => a.instrument)).toEqual(['phq9', 'gad7']);
    const without = new Story().readyToDose({ baseline: false }).context();
    expect(without.assessments).toEqual([]);
  });

  it('reviews a positive baseline item 9 at the same visit, so the first dose is not held', () => {
    const phq9 = [...BASELINE_PHQ9.slice(0, 8), 2];
    const s = new Story().readyToDose({ baseline: { phq9 } });
    const review = s.events.find((e) => e.type === 'SafetyFlagReviewed');
    expect(review).toMatchObject({ rule: 'phq9-item9-positive' });
    s.dosingSession(14);
    expect(s.context().sessions[0]?.status).toBe('completed');
    // No review without a positive item 9.
    expect(new Story().readyToDose().events.some((e) => e.type === 'SafetyFlagReviewed')).toBe(false);
  });

  it('fullCourse is a completed three-session course of 150-minute remote sessions with a chaperone', () => {
    const context = new Story().fullCourse().context();
    expect(context.closed?.kind).toBe('completed');
    expect(context.sessions).toHaveLength(3);
    expect(context.sessions.every((x) => x.mode === 'telehealth' && x.chaperone)).toBe(true);
    expect(context.sessions[1]?.doses.map((d) => d.kind)).toEqual(['full', 'booster']);
  });

  it('observes a session with a booster 120 minutes after the booster before completing it', () => {
    const s = new Story().readyToDose({ dosesAuthorized: 4 }).dosingSession(14, { boosterMg: 150 });
    const booster = s.events.find(
      (e) => e.type === 'DoseAdministered' && 'kind' in e && e.kind === 'booster',
    )!;
    const post = s.events.find((e) => e.type === 'VitalsRecorded' && 'phase' in e && e.phase === 'post')!;
    expect(minutesBetween(booster.at, post.at)).toBe(120);
    expect(s.context().sessions[0]?.status).toBe('completed');
  });

  it('heldSession aborts a session for a vitals hold', () => {
    const context = new Story().readyToDose().heldSession(14, [162, 99]).context();
    expect(context.sessions[0]).toMatchObject({ status: 'aborted', abortReason: 'vitals-hold' });
  });

  it('integrate: true adds an integration session the next day naming the session', () => {
    const s = new Story().readyToDose().dosingSession(14, { integrate: true });
    expect(s.last).toMatchObject({ type: 'IntegrationSessionCompleted', sessionId: 'ep-1-s1', at: s.at(15) });
  });

  it('context() names every refused event', () => {
    // A dose before the course is ready: refused.
    const s = new Story().add('EpisodeOpened').dosingSession(1);
    expect(() => s.context()).toThrow(/story refused: #1 /);
  });
});

describe('answers of a given total', () => {
  it('phq9Answers spreads the total over items 1–8 and keeps item 9 as asked', () => {
    // Worked example: 10 with item 9 = 1 → nine points over items 1–8, item 1 first.
    expect(phq9Answers(10, 1)).toEqual([2, 1, 1, 1, 1, 1, 1, 1, 1]);
    for (let total = 0; total <= 24; total++) expect(sum(phq9Answers(total))).toBe(total);
    expect(phq9Answers(27, 3)).toEqual([3, 3, 3, 3, 3, 3, 3, 3, 3]);
  });

  it('gad7Answers spreads the total over the seven items', () => {
    expect(gad7Answers(9)).toEqual([2, 2, 1, 1, 1, 1, 1]);
    for (let total = 0; total <= 21; total++) expect(sum(gad7Answers(total))).toBe(total);
  });

  it('refuses totals the items cannot hold', () => {
    expect(() => phq9Answers(26, 1)).toThrow(RangeError);
    expect(() => phq9Answers(0, 1)).toThrow(RangeError);
    expect(() => gad7Answers(22)).toThrow(/not a GAD-7 total/);
  });
});
