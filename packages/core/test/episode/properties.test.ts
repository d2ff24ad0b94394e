import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decide,
  initialEpisodeState,
  persistEpisode,
  replay,
  restoreEpisode,
} from '../../src/episode/decide.js';
import { eventTypes, type Role } from '../../src/episode/events.js';
import { defaultPermissions, primaryRoleOf } from '../../src/episode/permissions.js';
import { projectEpisodes } from '../../src/episode/projection.js';
import { anyCommand, commands } from './prop/commands.js';
import { type FoldState, materialize } from './prop/materialize.js';
import { contextMatchesLedger, type Run, run, runs } from './prop/run.js';

/*
 * Property tests of the episode model: random event sequences, mostly valid and sometimes not, folded with
 * `decide`. Invariants are re-derived from the accepted events themselves (a `Ledger` built only from them, in
 * clinical order), then compared with what the episode context, the read-side projection and `statusAt` say.
 */

/** A property of the run of every random episode log, checked on `n` logs (PROP_RUNS to dig deeper). */
function itHoldsForEveryRun(name: string, n: number, check: (r: Run) => void) {
  it(name, () => {
    fc.assert(
      fc.property(commands, (cmds) => check(run(cmds))),
      runs(n),
    );
  }, 60_000);
}

describe('random episode logs folded with decide', () => {
  itHoldsForEveryRun(
    'never throw, and every accepted event keeps the invariants the events in force themselves imply',
    150,
    contextMatchesLedger,
  );

  itHoldsForEveryRun(
    'are deterministic: replaying the accepted inputs reproduces the same context and state',
    60,
    (r) => {
      const again = replay(r.fold.accepted);
      expect(again.refusals).toEqual([]);
      expect(again.accepted).toBe(r.fold.accepted.length);
      expect(again.state.value).toEqual(r.fold.state.value);
      expect(again.state.context).toEqual(r.fold.state.context);
    },
  );

  itHoldsForEveryRun(
    'project to the machine context: projectEpisodes of the accepted events in recording order',
    80,
    (r) => {
      const projected = projectEpisodes(r.fold.acceptedEvents);
      const opened = r.fold.acceptedEvents[0];
      if (opened === undefined) expect(projected.size).toBe(0);
      else {
        // One episode (the one opened: events for another are refused), with the machine's context.
        expect([...projected.keys()]).toEqual([opened.episodeId]);
        expect(projected.get(opened.episodeId)).toEqual(r.fold.state.context);
      }
    },
  );

  it('persist → JSON → restore gives the same context and value, and the same next decisions', () => {
    fc.assert(
      fc.property(commands, fc.array(anyCommand, { minLength: 1, maxLength: 4 }), (cmds, next) => {
        const r = run(cmds);
        // Episodes without any accepted event included (lastEventMs is null then, which JSON keeps).
        const restored = restoreEpisode(JSON.parse(JSON.stringify(persistEpisode(r.fold.state))));
        expect(restored.value).toEqual(r.fold.state.value);
        expect(restored.context).toEqual(r.fold.state.context);
        // The restored episode goes on exactly like the original (history states, late entries and voids included).
        let a = r.fold.state;
        let b = restored;
        const f: FoldState = {
          ...r.fold,
          accepted: [...r.fold.accepted],
          acceptedEvents: [...r.fold.acceptedEvents],
        };
        next.forEach((cmd, i) => {
          const input = materialize(cmd, cmds.length + i, f);
          const da = decide(a, input, { now: f.clock });
          const db = decide(b, input, { now: f.clock });
          expect(db.ok).toBe(da.ok);
          if (da.ok && db.ok) {
            expect(db.state.value).toEqual(da.state.value);
            expect(db.state.context).toEqual(da.state.context);
            f.acceptedEvents.push(da.event);
          } else if (!da.ok && !db.ok) {
            expect(db.refusal.code).toBe(da.refusal.code);
          }
          a = da.state;
          b = db.state;
        });
      }),
      runs(60),
    );
  }, 60_000);
});

describe('persistence of an episode before its first event', () => {
  it('restores an unopened episode with the context it had', () => {
    const restored = restoreEpisode(JSON.parse(JSON.stringify(persistEpisode(initialEpisodeState))));
    // lastEventMs is null before the first event (machine version 1 had -Infinity, which JSON turns into null).
    expect(initialEpisodeState.context.lastEventMs).toBeNull();
    expect(restored.context).toEqual(initialEpisodeState.context);
    // So a restored episode accepts a first event dated before 1970, as a fresh one does.
    const opened = {
      id: 'e1',
      episodeId: 'ep-1969',
      patientId: 'pt-synthetic',
      type: 'EpisodeOpened',
      at: '1969-12-31T12:00:00Z',
      v: 1,
      synthetic: true,
    };
    expect(decide(initialEpisodeState, opened).ok).toBe(true);
    expect(decide(restored, opened).ok).toBe(true);
  });
});

describe('the permission table', () => {
  it('follows the division of labour of the seed: the medical team decides, clinicians review and void', () => {
    const clinicians = new Set<Role>(['therapist', 'medical']);
    for (const type of ['SafetyFlagReviewed', 'AdverseEventReviewed', 'EventVoided'] as const)
      for (const role of defaultPermissions[type])
        expect(clinicians.has(role), `${type}: ${role}`).toBe(true);
    for (const type of [
      'MedicalEvaluationCompleted',
      'TreatmentPlanCreated',
      'PrescriptionIssued',
      'RefillIssued',
      'MedicalFollowUpCompleted',
      'SelfAdministrationTrained',
    ] as const)
      expect(defaultPermissions[type], type).toEqual(['medical']);
    for (const type of ['AssessmentRecorded', 'VitalsRecorded', 'AdverseEventReported'] as const)
      expect(defaultPermissions[type], type).toContain('patient');
    // Every event type has a row, and version 1 events without a role are attributed to its first role.
    expect(Object.keys(defaultPermissions).sort()).toEqual([...eventTypes].sort());
    for (const type of eventTypes) expect(primaryRoleOf(type)).toBe(defaultPermissions[type][0]);
  });
});
