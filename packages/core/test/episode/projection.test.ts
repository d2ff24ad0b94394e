import { Story } from '@kapkit/testing';
import { describe, expect, it } from 'vitest';
import { emptyContext } from '../../src/episode/context.js';
import { replay } from '../../src/episode/decide.js';
import type { EpisodeEvent } from '../../src/episode/events.js';
import { projectEpisodes } from '../../src/episode/projection.js';

/*
 * The read-side projection grows the contexts it builds in place (no copy of the history per event). These
 * check that nothing outside the fold sees that: the machine's states, earlier results, the empty context and
 * the events themselves stay as they were.
 */

function acceptedEvents(s: Story): { events: EpisodeEvent[]; context: unknown } {
  const r = replay(s.events);
  expect(r.refusals).toEqual([]);
  return { events: [...r.state.context.history], context: r.state.context };
}

/** Two episodes' accepted events interleaved in clinical time, as a store streams them. */
function interleaved() {
  const a = acceptedEvents(
    new Story('ep-a', 'pt-synthetic-a').readyToDose().dosingSession(14).integration(15),
  );
  const b = acceptedEvents(
    new Story('ep-b', 'pt-synthetic-b', Date.parse('2026-03-03T10:00:00-05:00'))
      .readyToDose()
      .dosingSession(14)
      .integration(15)
      .dosingSession(21),
  );
  const all = [...a.events, ...b.events].sort((x, y) => Date.parse(x.at) - Date.parse(y.at));
  return { a, b, all };
}

describe('projectEpisodes', () => {
  it('gives each interleaved episode the machine’s context, and leaves the machine’s contexts untouched', () => {
    const { a, b, all } = interleaved();
    const before = JSON.stringify([a.context, b.context]);
    const projected = projectEpisodes(all);
    expect(projected.get('ep-a')).toEqual(a.context);
    expect(projected.get('ep-b')).toEqual(b.context);
    expect(JSON.stringify([a.context, b.context])).toBe(before);
  });

  it('builds fresh contexts every time: a later projection does not change an earlier result', () => {
    const { all } = interleaved();
    const first = projectEpisodes(all.slice(0, 20));
    const frozen = JSON.stringify([...first]);
    const second = projectEpisodes(all);
    expect(JSON.stringify([...first])).toBe(frozen);
    expect(second.get('ep-a')!.history.length).toBeGreaterThan(first.get('ep-a')?.history.length ?? 0);
    // An array the fold grew is its episode's own; the ones it never touched (still empty) may be the empty
    // context's, which stays empty.
    const ea = second.get('ep-a')!;
    const eb = second.get('ep-b')!;
    for (const key of ['history', 'assessments', 'sessions'] as const) {
      expect(ea[key].length).toBeGreaterThan(0);
      expect(ea[key]).not.toBe(eb[key]);
    }
    expect(ea.adverseEvents).toEqual([]);
    expect(emptyContext().history).toEqual([]);
  });

  it('applies a late entry by rebuilding, as the machine did, without touching the events', () => {
    const s = new Story().readyToDose().dosingSession(14).integration(15);
    const late = {
      id: 'late-phq9',
      episodeId: 'ep-1',
      patientId: 'pt-synthetic-1',
      type: 'AssessmentRecorded',
      at: s.at(10),
      v: 2,
      recordedAt: s.at(16),
      recordedBy: 'therapist',
      instrument: 'phq9',
      responses: [1, 1, 1, 1, 1, 1, 1, 1, 0],
    };
    const r = replay([...s.events, late]);
    expect(r.refusals).toEqual([]);
    // Recording order: the late entry last; the machine put it in clinical order.
    const recorded = [
      ...acceptedEvents(s).events,
      r.state.context.history.find((e) => e.id === 'late-phq9')!,
    ];
    const frozen = JSON.stringify(recorded);
    const projected = projectEpisodes(recorded).get('ep-1')!;
    expect(projected).toEqual(r.state.context);
    expect(projected.history.map((e) => e.id).indexOf('late-phq9')).toBeLessThan(
      projected.history.length - 1,
    );
    expect(JSON.stringify(recorded)).toBe(frozen);
  });
});
