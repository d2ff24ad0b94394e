import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { transition } from 'xstate';
import { decide, type EpisodeState, initialEpisodeState } from '../../src/episode/decide.js';
import { type EpisodeEvent, parseEvent } from '../../src/episode/events.js';
import { createFastStep } from '../../src/episode/fast-step.js';
import { episodeMachine } from '../../src/episode/machine.js';

/*
 * The fast step must be XState's step, state for state: the same acceptance, state value, history value and
 * context, for events in their place and out of it (earlier and later states of the episode, other phases).
 */

function xstateStep(state: EpisodeState, e: EpisodeEvent): EpisodeState | null {
  if (state.status !== 'active') return null;
  const [next] = transition(episodeMachine, state, e);
  return next !== state && next.context !== state.context ? next : null;
}

const historyIds = (s: EpisodeState) =>
  Object.fromEntries(
    Object.entries(s.historyValue).map(([k, v]) => [k, (v as { id: string }[]).map((n) => n.id)]),
  );

function expectSame(fast: EpisodeState | null, slow: EpisodeState | null) {
  expect(fast === null).toBe(slow === null);
  if (fast === null || slow === null) return;
  expect(fast.value).toEqual(slow.value);
  expect(fast.status).toBe(slow.status);
  expect(historyIds(fast)).toEqual(historyIds(slow));
  expect(fast._nodes.map((n) => n.id)).toEqual(slow._nodes.map((n) => n.id));
  expect([...fast.tags]).toEqual([...slow.tags]);
  expect(fast.context).toEqual(slow.context);
  expect(episodeMachine.getPersistedSnapshot(fast)).toEqual(episodeMachine.getPersistedSnapshot(slow));
}

describe('fast step', () => {
  const lines = readFileSync(new URL('../fixtures/v1-demo-cohort.ndjson', import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as unknown);
  const byEpisode = new Map<string, EpisodeEvent[]>();
  for (const raw of lines) {
    const p = parseEvent(raw);
    if (!p.success) continue;
    const e = p.data as EpisodeEvent;
    byEpisode.set(e.episodeId, [...(byEpisode.get(e.episodeId) ?? []), e]);
  }

  it('agrees with XState on every event of a demo cohort, in place and out of place', () => {
    const fast = createFastStep(episodeMachine, xstateStep);
    let compared = 0;
    let refused = 0;
    let targeted = 0;
    for (const events of byEpisode.values()) {
      // The states of the episode, from decide (accepted events only).
      const states: EpisodeState[] = [initialEpisodeState];
      for (const e of events) {
        const d = decide(states[states.length - 1]!, e);
        if (d.ok) states.push(d.state);
      }
      for (const [j, e] of events.entries()) {
        for (const i of [j, Math.max(0, j - 3), Math.min(states.length - 1, j + 2), states.length - 1]) {
          const s = states[Math.min(i, states.length - 1)]!;
          const slow = xstateStep(s, e);
          expectSame(fast(s, e), slow);
          // Twice: the second time from the cache of configurations.
          expectSame(fast(s, e), slow);
          compared++;
          if (slow === null) refused++;
          else if (JSON.stringify(slow.value) !== JSON.stringify(s.value)) targeted++;
        }
      }
    }
    expect(compared).toBeGreaterThan(4000);
    expect(refused).toBeGreaterThan(100);
    expect(targeted).toBeGreaterThan(100);
  });

  it('agrees on paused episodes resumed through the deep history state', () => {
    const fast = createFastStep(episodeMachine, xstateStep);
    let resumed = 0;
    for (const events of byEpisode.values()) {
      let s = initialEpisodeState;
      for (const [k, e] of events.entries()) {
        const d = decide(s, e);
        if (!d.ok) continue;
        s = d.state;
        if (k < 3 || k % 7 !== 0) continue;
        const base = { id: `${e.id}-x`, episodeId: e.episodeId, patientId: e.patientId, v: 2 as const };
        const paused = xstateStep(s, {
          ...base,
          id: `${e.id}-p`,
          type: 'EpisodePaused',
          at: e.at,
          recordedAt: e.recordedAt,
          recordedBy: 'therapist',
          reason: 'scheduling',
        } as EpisodeEvent);
        if (paused === null) continue;
        const resume = {
          ...base,
          id: `${e.id}-r`,
          type: 'EpisodeResumed',
          at: e.at,
          recordedAt: e.recordedAt,
          recordedBy: 'therapist',
        } as EpisodeEvent;
        expectSame(fast(paused, resume), xstateStep(paused, resume));
        expectSame(fast(paused, resume), xstateStep(paused, resume));
        resumed++;
      }
    }
    expect(resumed).toBeGreaterThan(20);
  });

  it('falls back to XState for a machine it does not model', () => {
    const slow = (s: EpisodeState, e: EpisodeEvent) => xstateStep(s, e);
    const withEntry = episodeMachine.provide({ actions: { evolve: () => {} } }) as typeof episodeMachine;
    expect(createFastStep(withEntry, slow)).toBe(slow);
  });
});

describe('history id index', () => {
  it('answers as a scan of the history does, after carrying and for older states', async () => {
    const { historyHasId, carryHistoryIndex } = await import('../../src/episode/history-index.js');
    const ev = (id: string) => ({ id }) as unknown as EpisodeEvent;
    const a = [ev('a'), ev('b')];
    expect(historyHasId(a, 'b')).toBe(true);
    expect(historyHasId(a, 'c')).toBe(false);
    const b = [...a, ev('c')];
    carryHistoryIndex(a, b);
    expect(historyHasId(b, 'c')).toBe(true);
    // The older array built its own again: still without "c".
    expect(historyHasId(a, 'c')).toBe(false);
    expect(historyHasId(a, 'a')).toBe(true);
    // Not an append of the same array: nothing carried, each answers for itself.
    const other = [ev('x'), ev('y'), ev('z')];
    carryHistoryIndex(a, other);
    expect(historyHasId(other, 'a')).toBe(false);
    expect(historyHasId(other, 'z')).toBe(true);
  });
});
