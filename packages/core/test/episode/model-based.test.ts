import { describe, expect, it } from 'vitest';
import { transition } from 'xstate';
import { episodeMachine } from '../../src/episode/machine.js';
import { abstractKey, eventsOf, inProgress, stateNodes, stateValueOf } from './model/abstraction.js';
import { BETWEEN_SESSIONS, traverseMachine } from './model/probes.js';
import { fixedSamples } from './model/samples.js';

/*
 * Model-based tests: traverse the episode machine with `xstate/graph`, using a bounded set of concrete sample
 * events and an abstraction of the snapshot (`abstractKey`) that keeps exactly what the machine's guards read,
 * so the graph is finite and a path found in it is a real path of the machine. Then replay every shortest path
 * through the public `decide` (fresh ids, timestamps a day apart), and check, at every vertex, that `decide`
 * accepts exactly the sample events the machine accepts, that a late entry is decided as the history in
 * clinical order with it, and that a void is decided as the history without the voided event. The transitions
 * the traversal explored are kept as edges between abstract states, so that the facts of booking, starting and
 * cancelling dosing sessions can be checked on every one of them.
 */

describe('the episode machine, traversed with xstate/graph', () => {
  const { paths, edges, probe } = traverseMachine();

  it('has a finite, non-trivial abstract graph (one shortest path per abstract state)', () => {
    expect(paths.length).toBeGreaterThan(2_000);
    expect(paths.length).toBeLessThan(5_000);
    expect(new Set(paths.map((p) => abstractKey(p.state))).size).toBe(paths.length);
  });

  it('reaches every state node of the machine (history pseudo-state excluded) by a shortest path', () => {
    const nodes = stateNodes(episodeMachine.root);
    expect(nodes.map((n) => n.id)).toEqual(
      expect.arrayContaining([
        'kapEpisode.new',
        'kapEpisode.open.fitDiscussion',
        'kapEpisode.open.medicalEvaluation.ineligible',
        'kapEpisode.open.treatment.dosingSession.dosed',
        'kapEpisode.paused',
        'kapEpisode.completed',
        'kapEpisode.discontinued',
      ]),
    );
    const unreached = nodes.filter((n) => !paths.some((p) => p.state.matches(stateValueOf(n.path) as never)));
    expect(unreached.map((n) => n.id)).toEqual([]);
  });

  it('reaches completed and discontinued, completes only after a dose, and goes on reporting adverse events', () => {
    const completed = paths.filter((p) => p.state.matches('completed'));
    const discontinued = paths.filter((p) => p.state.matches('discontinued'));
    expect(completed.length).toBeGreaterThan(0);
    expect(discontinued.length).toBeGreaterThan(0);
    for (const p of completed) {
      const types = eventsOf(p).map((e) => e.type);
      expect(types).toContain('DoseAdministered');
      // Once closed, only adverse events and their reviews are recorded.
      const closing = types.lastIndexOf('EpisodeCompleted');
      expect(closing).toBeGreaterThan(0);
      for (const t of types.slice(closing + 1))
        expect(['AdverseEventReported', 'AdverseEventReviewed']).toContain(t);
    }
    // Reported after closure (a late report happens) and reviewed there.
    for (const closed of [completed, discontinued]) {
      expect(closed.map((p) => p.state.context.adverseEvents.length > 0)).toContain(true);
      expect(closed.map((p) => p.state.context.adverseEvents.some((a) => a.reviewed !== null))).toContain(
        true,
      );
    }
    // The shortest completed course: open, fit, evaluation scheduled and completed, plan, prescription,
    // delivery, training, preparation, session booked, pre-dose vitals (which start it), dose, session ended
    // (an abort after the dose is shorter than post-dose vitals and completion), completed (with a reason: one
    // of two planned sessions).
    const [shortest] = [...completed].sort((a, b) => a.weight - b.weight);
    expect(
      eventsOf(shortest!)
        .map((e) => e.id)
        .pop(),
    ).toBe('g-completed-reason');
    expect(eventsOf(shortest!).map((e) => e.type)).toEqual([
      'EpisodeOpened',
      'FitAssessed',
      'MedicalEvaluationScheduled',
      'MedicalEvaluationCompleted',
      'TreatmentPlanCreated',
      'PrescriptionIssued',
      'MedicationDelivered',
      'SelfAdministrationTrained',
      'PreparationSessionCompleted',
      'DosingSessionScheduled',
      'VitalsRecorded',
      'DoseAdministered',
      'DosingSessionAborted',
      'EpisodeCompleted',
    ]);
    // Completing the session instead takes post-dose vitals first: every explored completion has them.
    const completions = edges.filter((x) => x.event.type === 'DosingSessionCompleted');
    expect(completions.length).toBeGreaterThan(0);
    for (const x of completions) {
      const session = x.from.sessions.find(inProgress);
      expect(session).toMatchObject({ dosed: true, post: true });
      // With the last post-dose blood pressure still above the hold, only with a reason.
      if (session && typeof session === 'object' && 'high' in session && session.high)
        expect(x.event.id).toMatch(/^g-session-completed-reason-/);
    }
    expect(completions.some((x) => x.event.id.startsWith('g-session-completed-s'))).toBe(true);
  });

  it('resumes a paused episode where it was paused, at every phase that can pause', () => {
    const resume = fixedSamples.find((e) => e.type === 'EpisodeResumed')!;
    const pausedFrom = new Set<string>();
    for (const p of paths) {
      const events = eventsOf(p);
      if (!p.state.matches('paused') || events[events.length - 1]?.type !== 'EpisodePaused') continue;
      const beforePause = p.steps[p.steps.length - 2]!.state;
      const [resumed] = transition(episodeMachine, p.state, resume);
      expect(resumed.value).toEqual(beforePause.value);
      pausedFrom.add(JSON.stringify(beforePause.value));
    }
    expect([...pausedFrom].sort()).toEqual(
      [
        { open: 'fitDiscussion' },
        { open: { medicalEvaluation: 'toSchedule' } },
        { open: { medicalEvaluation: 'scheduled' } },
        { open: { medicalEvaluation: 'ineligible' } },
        BETWEEN_SESSIONS,
      ]
        .map((v) => JSON.stringify(v))
        .sort(),
    );
  });

  it('replays every shortest path through decide, and decide accepts exactly what the machine accepts', () => {
    const { checked } = probe();
    expect(checked).toBeGreaterThan(paths.length);
  }, 60_000);
});
