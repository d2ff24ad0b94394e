import { Story } from '@kapkit/testing';
import { describe, expect, it } from 'vitest';
import { createEpisodeModel, decide, initialEpisodeState, replay } from '../../src/episode/decide.js';
import type { EpisodeEvent } from '../../src/episode/events.js';
import { EventLogFold } from '../../src/log/fold.js';
import { v2Event } from './helpers.js';

/*
 * `replay` and `EventLogFold` write each accepted event into a state they own instead of copying the context
 * per event. These check the promise that comes with it: a state handed out (the `from` of a replay, a state
 * read from the fold) never changes afterwards, and the result equals deciding event by event with `decide`.
 */

/** A course with a dosing session, an integration and a late paper PHQ-9 (a rebuild in clinical order). */
function courseWithLateEntry(): { head: unknown[]; tail: unknown[] } {
  const s = new Story().readyToDose().dosingSession(14).integration(15).dosingSession(21);
  const late = v2Event('late-phq9', 'AssessmentRecorded', s.at(16), s.at(22), 'therapist', {
    instrument: 'phq9',
    responses: [1, 1, 1, 1, 1, 1, 1, 1, 1],
  });
  const events: unknown[] = [...s.events, late];
  const cut = Math.floor(events.length / 2);
  return { head: events.slice(0, cut), tail: events.slice(cut) };
}

/** Decide event by event with the public, copying `decide`: the reference result. */
function decidedOneByOne(events: readonly unknown[]) {
  let state = initialEpisodeState;
  for (const e of events) {
    const d = decide(state, e);
    expect(d.ok).toBe(true);
    state = d.state;
  }
  return state;
}

describe('folds that own their state', () => {
  it('replay leaves the state it starts from as it was, and ends where deciding one by one ends', () => {
    const { head, tail } = courseWithLateEntry();
    const from = replay(head).state;
    const before = JSON.stringify(from.context);
    const historyBefore = from.context.history;
    const r = replay(tail, from);
    expect(r.refusals).toEqual([]);
    expect(JSON.stringify(from.context)).toBe(before);
    expect(from.context.history).toBe(historyBefore);
    expect(r.state.context).toEqual(decidedOneByOne([...head, ...tail]).context);
    expect(r.state.value).toEqual(decidedOneByOne([...head, ...tail]).value);
  });

  it('replay of no events hands back the state it was given', () => {
    const from = replay(courseWithLateEntry().head).state;
    expect(replay([], from).state).toBe(from);
  });

  it('a state read from the log fold stays as it was while the fold goes on', () => {
    const { head, tail } = courseWithLateEntry();
    const fold = new EventLogFold();
    let line = 0;
    for (const e of head) expect(fold.add({ line: ++line, ok: true, value: e }).ok).toBe(true);
    const episode = fold.episodes.get('ep-1')!;
    const seen = episode.state;
    const frozen = JSON.stringify(seen.context);
    for (const e of tail) expect(fold.add({ line: ++line, ok: true, value: e }).ok).toBe(true);
    expect(JSON.stringify(seen.context)).toBe(frozen);
    expect(episode.state).not.toBe(seen);
    expect(episode.state.context.history.length).toBe(head.length + tail.length);
    expect(episode.state.context).toEqual(decidedOneByOne([...head, ...tail]).context);
    expect(episode.accepted).toBe(head.length + tail.length);
  });

  it('a refused event changes nothing in the fold’s state, read or not', () => {
    const { head } = courseWithLateEntry();
    const fold = new EventLogFold();
    let line = 0;
    for (const e of head) fold.add({ line: ++line, ok: true, value: e });
    const before = JSON.stringify(fold.episodes.get('ep-1')!.state.context);
    // The same id again, and an event of this episode naming another patient.
    const again = fold.add({ line: ++line, ok: true, value: head[head.length - 1] });
    expect(again.ok).toBe(false);
    const last = head[head.length - 1] as EpisodeEvent;
    const otherPatient = { ...last, id: 'other-patient', patientId: 'pt-synthetic-2' };
    expect(fold.add({ line: ++line, ok: true, value: otherPatient }).ok).toBe(false);
    expect(JSON.stringify(fold.episodes.get('ep-1')!.state.context)).toBe(before);
    expect(fold.episodes.get('ep-1')!.refused).toBe(2);
  });

  it('a log fold given a model of its own (not one from createEpisodeModel) decides with its decide', () => {
    const { head, tail } = courseWithLateEntry();
    const own = { ...createEpisodeModel() };
    const fold = new EventLogFold({ model: own });
    let line = 0;
    for (const e of [...head, ...tail]) expect(fold.add({ line: ++line, ok: true, value: e }).ok).toBe(true);
    expect(fold.episodes.get('ep-1')!.state.context).toEqual(decidedOneByOne([...head, ...tail]).context);
  });
});
