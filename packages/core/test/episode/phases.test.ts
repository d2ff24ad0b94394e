import { Story } from '@kapkit/testing';
import { describe, expect, it } from 'vitest';
import { type AnyStateMachine, createActor, type StateNode, setup } from 'xstate';
import { decide, phaseOf, replay } from '../../src/episode/decide.js';
import { episodeMachine } from '../../src/episode/machine.js';
import { createPhaseReader, type EpisodeStateMeta } from '../../src/episode/phases.js';
import { refusalCodes, withScore } from '../../src/episode/rules.js';
import { phq9 } from '../../src/instruments/phq9.js';
import { scoreResponse } from '../../src/instruments/scoring.js';

/*
 * The machine is the one source of its phases and phase refusals: each state's `meta` says which phase it is
 * and why it refuses what it does not take, and `decide` reads them from there.
 */

function nodesOf(machine: AnyStateMachine): StateNode<never, never>[] {
  const out: StateNode<never, never>[] = [];
  const walk = (n: StateNode<never, never>) => {
    out.push(n);
    for (const c of Object.values(n.states)) walk(c as StateNode<never, never>);
  };
  walk(machine.root as unknown as StateNode<never, never>);
  return out;
}

describe('phases and refusals from the machine', () => {
  it('gives every atomic state a phase through itself or an ancestor', () => {
    for (const node of nodesOf(episodeMachine)) {
      if (node.type !== 'atomic') continue;
      let phase: string | undefined;
      for (let n: StateNode<never, never> | undefined = node; n && phase === undefined; n = n.parent) {
        phase = (n.meta as EpisodeStateMeta | undefined)?.phase;
      }
      expect(phase, node.id).toBeDefined();
    }
  });

  it('names only known refusal codes in state meta', () => {
    for (const node of nodesOf(episodeMachine)) {
      const refuse = (node.meta as EpisodeStateMeta | undefined)?.refuse;
      if (!refuse) continue;
      const codes = [
        ...Object.values(refuse.events ?? {}),
        refuse.other,
        ...(typeof refuse.inactive === 'string' ? [refuse.inactive] : Object.values(refuse.inactive ?? {})),
      ].filter((c) => c !== undefined);
      for (const c of codes) expect(Object.keys(refusalCodes), `${node.id}: ${c}`).toContain(c);
    }
  });

  it('reads the refusal from meta, so a machine with other meta refuses with other codes', () => {
    // A two-state machine: the same reader, other meta, other answers. Nothing about phases is hard-coded.
    const m = setup({
      types: { events: {} as { type: 'EpisodeResumed' | 'DoseAdministered' } },
    }).createMachine({
      initial: 'a',
      states: {
        a: {
          meta: { phase: 'paused', refuse: { other: 'episode-paused' } } satisfies EpisodeStateMeta,
          on: { EpisodeResumed: 'b' },
        },
        b: {
          meta: { phase: 'dosing-course', refuse: { inactive: { EpisodeResumed: 'not-paused' } } },
          on: { DoseAdministered: 'b' },
        },
      },
    });
    const reader = createPhaseReader(m as unknown as AnyStateMachine);
    const a = createActor(m).getSnapshot();
    expect(reader.phaseOfNodes(a)).toBe('paused');
    const e = { type: 'DoseAdministered' } as never;
    expect(reader.phaseRefusal(a, 'paused', e).code).toBe('episode-paused');
    const actor = createActor(m).start();
    actor.send({ type: 'EpisodeResumed' });
    const b = actor.getSnapshot();
    expect(reader.phaseOfNodes(b)).toBe('dosing-course');
    // In `b`, nothing active names EpisodeResumed and `b`'s own `inactive` map applies only when `b` is not
    // active: the default code.
    expect(reader.phaseRefusal(b, 'dosing-course', { type: 'EpisodeResumed' } as never).code).toBe(
      'not-allowed-in-phase',
    );
    expect(reader.phaseRefusal(a, 'paused', { type: 'EpisodeResumed' } as never).code).toBe('episode-paused');
  });

  it('gives the phase-refusal codes of the course in each phase', () => {
    const s = new Story().add('EpisodeOpened');
    const opened = replay(s.events).state;
    expect(phaseOf(opened)).toBe('fit-discussion');
    const refused = (state: typeof opened, type: string, payload: Record<string, unknown> = {}) => {
      const d = decide(state, { ...new Story().day(1).add(type, payload).last, id: `late-${type}` });
      expect(d.ok).toBe(false);
      return d.ok ? null : d.refusal.code;
    };
    expect(refused(opened, 'MedicalEvaluationScheduled', { scheduledFor: s.at(3), mode: 'telehealth' })).toBe(
      'fit-not-established',
    );
    expect(refused(opened, 'DosingSessionCompleted', { sessionId: 'x' })).toBe('not-eligible');
    expect(refused(opened, 'EpisodeResumed')).toBe('not-paused');
  });
});

describe('an assessment carries its score to the machine', () => {
  const responses = [1, 2, 1, 0, 1, 0, 1, 1, 0];

  it('keeps the recorded event in the history, without the score', () => {
    const s = new Story().add('EpisodeOpened');
    s.add('AssessmentRecorded', { instrument: 'phq9', responses, context: 'baseline' });
    const event = s.last;
    const before = replay(s.events.slice(0, -1)).state;
    const d = decide(before, event);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(Object.keys(d.event)).not.toContain('scored');
    const kept = d.state.context.history.at(-1)!;
    // The history holds the recorded (upcast) event: equal to it and serialised equal, the score not among its keys.
    expect(kept).toEqual(d.event);
    expect(JSON.stringify(kept)).toBe(JSON.stringify(d.event));
    expect(d.event.id).toBe(event.id);
    expect(d.state.context.assessments.at(-1)!.total).toBe(7);
  });

  it('uses the score it carries: a copy with a wrong score is folded with that score', () => {
    // Proof that the reducer does not score again: hand it a deliberately different score.
    const s = new Story().add('EpisodeOpened');
    s.add('AssessmentRecorded', { instrument: 'phq9', responses, context: 'baseline' });
    const event = s.last as unknown as Parameters<typeof withScore>[0];
    const other = scoreResponse(phq9, { responses: [3, 3, 3, 3, 3, 3, 3, 3, 0] });
    const actor = createActor(episodeMachine).start();
    for (const e of s.events.slice(0, -1)) actor.send(e as never);
    actor.send(withScore(event, other) as never);
    expect(actor.getSnapshot().context.assessments.at(-1)!.total).toBe(24);
    const plain = createActor(episodeMachine).start();
    for (const e of s.events) plain.send(e as never);
    expect(plain.getSnapshot().context.assessments.at(-1)!.total).toBe(7);
  });
});
