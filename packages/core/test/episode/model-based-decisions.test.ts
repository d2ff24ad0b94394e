import { describe, expect, it } from 'vitest';
import { eventTypes } from '../../src/episode/events.js';
import { refusalCodes } from '../../src/episode/rules.js';
import { expectAmong, traverseMachine } from './model/probes.js';
import { fixedSamples, sessionSamples, VOID } from './model/samples.js';

// Model-based tests, continued: what decide accepts and refuses (the model and its traversal: ./model/).

describe('the episode machine, traversed with xstate/graph', () => {
  const { edges, probe } = traverseMachine();

  it('covers every event type with a sample that some state accepts', () => {
    const sampled = new Set([...fixedSamples, ...sessionSamples(1), VOID].map((e) => e.type));
    expect([...sampled].sort()).toEqual([...eventTypes].sort());
    expect([...probe().acceptedTypes].sort()).toEqual([...eventTypes].sort());
  }, 60_000);

  it('gives every refusal code of the rules from some state (a code decide never gives is a wrong reason)', () => {
    // Refusals of the envelope (schema, ids, role, clock, episode), of a non-default policy and of the time rules
    // (the samples are a day apart) come from properties.test.ts, whose random logs produce them, and from the
    // event-by-event tests below.
    const elsewhere = new Set([
      'invalid-event',
      'wrong-episode',
      'wrong-patient',
      'duplicate-event-id',
      'future-event',
      'follow-up-overdue',
      'dosing-too-soon',
      // The samples open the episode with a version 1 EpisodeOpened (no consent gate): protocol.test.ts.
      'consent-required',
    ]);
    const { refusalsSeen, refusedIn } = probe();
    const never = Object.keys(refusalCodes).filter((c) => !elsewhere.has(c) && !refusalsSeen.has(c));
    expect(never).toEqual([]);
    // The two reasons that machine version 1 could not give, where they belong.
    expectAmong(refusedIn, [
      'dosing-session:DosingSessionCompleted:session-not-dosed',
      'medical-evaluation:MedicalEvaluationCompleted:evaluation-not-scheduled',
      'ineligible:MedicalEvaluationCompleted:evaluation-not-scheduled',
      'fit-discussion:MedicalEvaluationCompleted:fit-not-established',
    ]);
    // The reasons of machine version 3, where they belong.
    expectAmong(refusedIn, [
      // Eligible despite an absolute contraindication, at the first evaluation and at a re-evaluation.
      'medical-evaluation:MedicalEvaluationCompleted:contraindicated',
      'dosing-course:MedicalEvaluationCompleted:contraindicated',
      'dosing-session:DoseAdministered:safety-review-required',
      'dosing-session:DoseAdministered:treatment-stopped',
      'dosing-course:DosingSessionScheduled:treatment-stopped',
      'dosing-course:RefillIssued:treatment-stopped',
      'dosing-session:DoseAdministered:dose-mismatch',
      // A vitals-hold override is the medical team's, with a reason that says something.
      'dosing-session:DoseAdministered:not-permitted',
      'dosing-session:DoseAdministered:reason-required',
      'dosing-session:DosingSessionCompleted:reason-required',
      'dosing-course:EpisodeCompleted:reason-required',
      'preparation:DosingSessionScheduled:chaperone-required',
      'dosing-course:AdverseEventReviewed:unknown-adverse-event',
      'completed:AdverseEventReviewed:unknown-adverse-event',
    ]);
    // Late entries and voids (see the next test).
    for (const code of ['out-of-order', 'void-would-invalidate', 'cannot-void', 'unknown-event'])
      expect(refusalsSeen.has(code), code).toBe(true);
  }, 60_000);

  it('decides a late entry as the history in clinical order with it, and a void as the history without it', () => {
    const { time } = probe();
    expect(time.checked).toBeGreaterThan(500);
    const seen = [...time.seen];
    const where = (outcome: string) =>
      new Set(seen.filter((x) => x.includes(`:${outcome}`)).map((x) => x.split(':')[0]));
    // Voids accepted everywhere once opened, closed episodes included (voiding the closing event reopens them).
    for (const w of [
      'fit-discussion',
      'medical-evaluation',
      'planning',
      'preparation',
      'dosing-session',
      'dosing-course',
      'paused (eligible)',
      'completed',
      'discontinued',
    ])
      expect(where('EventVoided:accepted').has(w), w).toBe(true);
    expect(where('EventVoided:void-would-invalidate').size).toBeGreaterThan(3);
    // Late entries accepted, and refused as out of order for what they would invalidate later.
    expect(seen.filter((x) => x.endsWith(':accepted') && !x.includes('EventVoided')).length).toBeGreaterThan(
      20,
    );
    const outOfOrder = seen.filter((x) => x.includes(':out-of-order:'));
    expect(outOfOrder.length).toBeGreaterThan(5);
    // Among them: a PHQ-9 with a positive item 9 back-dated before a dose (known when the dose was recorded, it
    // would have held it), and a pause before an event a paused episode does not take.
    expect(outOfOrder).toEqual(
      expect.arrayContaining([
        'dosing-session:AssessmentRecorded:out-of-order:safety-review-required',
        'dosing-session:MedicalFollowUpCompleted:out-of-order:treatment-stopped',
        expect.stringMatching(/:EpisodePaused:out-of-order:episode-paused$/),
      ]),
    );
    // The same entered after the dose was recorded is accepted, and the status says a dose went ahead without it.
    expect(time.lateEntryAlerts).toBeGreaterThan(0);
  }, 60_000);

  it('holds a dose for an unreviewed safety signal and while treatment is stopped, until a review or a lift', () => {
    // The severe adverse event is reported with pre-dose vitals taken; its review lets the dose go ahead.
    const reviews = edges.filter(
      (x) => x.event.type === 'AdverseEventReviewed' && x.from.sessions !== undefined,
    );
    expect(reviews.length).toBeGreaterThan(0);
    for (const x of reviews) expect(x.to.safety.adverse).toBe('reviewed');
    expect(reviews.some((x) => x.from.safety.adverse === 'open')).toBe(true);
    const doses = edges.filter((x) => x.event.type === 'DoseAdministered');
    for (const x of doses) {
      expect(x.from.safety.adverse).not.toBe('open');
      expect(x.from.safety.flag).not.toBe('open');
      expect(x.from.stopped).toBeNull();
    }
    expect(doses.some((x) => x.from.safety.adverse === 'reviewed')).toBe(true);
    // Stopped by a follow-up that does not continue or by a re-evaluation; lifted by a follow-up that continues,
    // an eligible re-evaluation or a new prescription.
    const stops = edges.filter(
      (x) => x.from.stopped === null && x.to.stopped !== null && x.to.stopped !== undefined,
    );
    expect(new Set(stops.map((x) => x.event.id))).toEqual(new Set(['g-follow-up-stop', 'g-eval-ineligible']));
    const lifts = edges.filter((x) => typeof x.from.stopped === 'string' && x.to.stopped === null);
    expect(new Set(lifts.map((x) => x.event.id))).toEqual(
      new Set(['g-follow-up', 'g-eval-eligible', 'g-rx']),
    );
  }, 60_000);
});
