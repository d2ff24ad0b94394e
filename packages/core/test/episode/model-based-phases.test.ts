import { describe, expect, it } from 'vitest';
import { getSimplePaths } from 'xstate/graph';
import { phaseOf } from '../../src/episode/decide.js';
import { episodeMachine } from '../../src/episode/machine.js';
import { eventsOf } from './model/abstraction.js';
import { createPathReplayer, expectAmong, traverseMachine } from './model/probes.js';
import { type Path, pausedHistory, type Snapshot, samplesFor } from './model/samples.js';

// Model-based tests, continued: adverse events and pauses in every phase, and the ways to eligibility (the model and its traversal: ./model/).

describe('the episode machine, traversed with xstate/graph', () => {
  const { probe } = traverseMachine();

  it('records adverse events in every phase once opened, closed ones included, whatever session they name', () => {
    const { acceptedIn } = probe();
    const open = [
      'fit-discussion',
      'medical-evaluation',
      'ineligible',
      'planning',
      'preparation',
      'dosing-session',
      'dosing-course',
      'paused (eligible)',
      'paused (not eligible)',
      // Late reports happen.
      'completed',
      'discontinued',
    ];
    expectAmong(
      acceptedIn,
      open.map((w) => `${w}:AdverseEventReported`),
    );
    const refused = [...probe().refusedIn].filter((x) => x.includes(':AdverseEventReported:'));
    // Refused before the episode is opened only: a report naming a session the episode does not know is kept.
    expect(refused).toEqual(['not-opened:AdverseEventReported:episode-not-opened']);
  }, 60_000);

  it('while paused, records monitoring and safety, and follow-ups, refills and deliveries only once eligible', () => {
    const { acceptedIn, refusedIn } = probe();
    const whilePaused = (w: string) =>
      [...acceptedIn]
        .filter((x) => x.startsWith(`${w}:`))
        .map((x) => x.slice(w.length + 1))
        .sort();
    // (The safety-flag branch is explored before treatment only: see withinBounds.)
    // Monitoring, safety and the way out in every pause (MedicationsReviewed: once the medical evaluation was
    // scheduled); follow-ups, refills and deliveries once eligible.
    const inEveryPause = [
      'AdverseEventReported',
      'AssessmentRecorded',
      'ConsentWithdrawn',
      'InformedConsentRecorded',
      'MedicationsReviewed',
      'EpisodeDiscontinued',
      'EpisodeResumed',
    ];
    expect(whilePaused('paused (eligible)')).toEqual(
      [...inEveryPause, 'MedicalFollowUpCompleted', 'MedicationDelivered', 'RefillIssued'].sort(),
    );
    expect(whilePaused('paused (not eligible)')).toEqual([...inEveryPause, 'SafetyFlagReviewed'].sort());
    expectAmong(refusedIn, [
      'paused (not eligible):MedicalFollowUpCompleted:episode-paused',
      'paused (not eligible):RefillIssued:no-prescription',
      'paused (not eligible):MedicationDelivered:no-prescription',
      'paused (eligible):RefillIssued:refill-requires-follow-up',
      'paused (eligible):MedicationDelivered:supply-exceeds-authorized',
      'paused (eligible):SafetyFlagReviewed:unknown-safety-flag',
      'paused (eligible):AdverseEventReviewed:unknown-adverse-event',
      'paused (eligible):DosingSessionScheduled:episode-paused',
      'paused (eligible):TreatmentPlanCreated:episode-paused',
    ]);
  }, 60_000);
});

describe('all simple paths through the fit discussion and the medical evaluation', () => {
  // A small sub-model: the events of the phases before treatment, each sample used at most once (the evaluation
  // may be scheduled twice, to be rescheduled after an ineligible outcome). Keyed by the state and the samples
  // used so far, the graph is acyclic, so its simple paths are every way to eligibility.
  const phaseSamples = new Set<string>([
    'g-open',
    'g-fit-good',
    'g-fit-not',
    'g-eval-scheduled',
    'g-eval-eligible',
    'g-eval-ineligible',
    'g-paused',
    'g-resumed',
  ]);
  const used = (s: Snapshot, id: string) => s.context.history.filter((x) => x.id === id).length;
  const toTreatment = getSimplePaths(episodeMachine, {
    events: samplesFor,
    serializeState: (s) =>
      JSON.stringify({
        value: s.value,
        history: pausedHistory(s),
        used: s.context.history.map((x) => x.id).sort(),
      }),
    filterEvents: (s, e) =>
      phaseSamples.has(e.id) && used(s, e.id) < (e.type === 'MedicalEvaluationScheduled' ? 2 : 1),
    toState: (s) => s.matches({ open: 'treatment' }),
  }) as Path[];

  it('lists every simple way to eligibility, each accepted by decide and ending in planning', () => {
    expect(toTreatment.length).toBeGreaterThan(20);
    const shapes = new Set<string>();
    const replayPath = createPathReplayer();
    for (const p of toTreatment) {
      const events = eventsOf(p);
      expect(phaseOf(replayPath(events).state)).toBe('planning');
      const ids = events.map((e) => e.id);
      // Eligibility always follows a good fit and a scheduled evaluation, in that order, and ends the path.
      expect(ids.indexOf('g-fit-good')).toBeGreaterThan(0);
      expect(ids.indexOf('g-fit-good')).toBeLessThan(ids.lastIndexOf('g-eval-scheduled'));
      expect(ids[ids.length - 1]).toBe('g-eval-eligible');
      // A resume always directly follows a pause.
      ids.forEach((id, i) => {
        if (id === 'g-resumed') expect(ids[i - 1]).toBe('g-paused');
      });
      shapes.add(ids.join(' '));
    }
    expect(shapes.size).toBe(toTreatment.length);
    // Among them: rescheduled after an ineligible outcome, and paused then resumed during the evaluation.
    expect([...shapes].some((x) => x.includes('g-eval-ineligible g-eval-scheduled'))).toBe(true);
    expect([...shapes].some((x) => x.includes('g-eval-scheduled g-paused g-resumed'))).toBe(true);
  });
});
