import { assign, setup } from 'xstate';
import { createInstrumentRegistry } from '../instruments/builtin.js';
import type { InstrumentRegistry } from '../instruments/registry.js';
import { type EpisodeContext, emptyContext } from './context.js';
import type { EpisodeEvent } from './events.js';
import { evolve } from './evolve.js';
import type { EpisodeStateMeta } from './phases.js';
import type { EpisodePolicy } from './policy.js';
import { assessmentScorer, checkEvent, type RuleEnvironment, type ScoredAssessment } from './rules.js';

/**
 * What the machine takes: a domain event. `decide` hands an assessment over with the score it worked out when
 * checking it (see {@link ScoredAssessment}); any other caller may send the plain event.
 */
export type EpisodeMachineEvent = Exclude<EpisodeEvent, { type: 'AssessmentRecorded' }> | ScoredAssessment;

/** A state's `meta`: its phase and its refusals (see {@link EpisodeStateMeta}). */
const meta = (m: EpisodeStateMeta): EpisodeStateMeta => m;

/**
 * Version of the machine's states and context. Persisted snapshots carry it; a snapshot from another version
 * is rebuilt by replaying the episode's events instead of being restored.
 */
export const EPISODE_MACHINE_VERSION = 4;

export interface EpisodeMachineOptions {
  /** Instruments that assessments may use (default: the built-ins). */
  readonly registry?: InstrumentRegistry;
  /** Policy defaults for every episode of this machine (an episode can still override in EpisodeOpened). */
  readonly policy?: Partial<EpisodePolicy>;
}

/**
 * Build the KAP episode machine (XState v5). The machine decides which event types each phase accepts and
 * guards each transition with the data rules of `checkEvent`; every accepted event is folded into the context
 * by `evolve`. Each state's `meta` names its phase and why it refuses what it does not take, so `decide`
 * explains every refusal from the machine itself. There are no timers: calendar rules (follow-ups, measures, critical periods) are computed from
 * event timestamps and an explicit `asOf` by `statusAt`.
 */
export function createEpisodeMachine(options: EpisodeMachineOptions = {}) {
  // Long by design: one declarative XState configuration (states, transitions, guards), kept whole so that the
  // course reads top to bottom as a statechart; the rules themselves live in rules.ts and dose-rules.ts.
  const registry = options.registry ?? createInstrumentRegistry();
  const env: RuleEnvironment = { registry };
  const score = assessmentScorer(registry);
  const initial = emptyContext(options.policy);

  return setup({
    types: {
      context: {} as EpisodeContext,
      events: {} as EpisodeMachineEvent,
    },
    guards: {
      allowed: ({ context, event }) => checkEvent(context, event, env) === null,
      // Safety reporting, reviews and voids go on in every phase once the episode is open, closed ones included.
      openedAndAllowed: ({ context, event }) =>
        context.episodeId !== null && checkEvent(context, event, env) === null,
      goodFit: ({ event }) => event.type === 'FitAssessed' && event.outcome === 'good-fit',
      // Eligible, and the rules allow it (an absolute contraindication needs the medical team's override).
      eligible: ({ context, event }) =>
        event.type === 'MedicalEvaluationCompleted' &&
        event.eligible &&
        checkEvent(context, event, env) === null,
      // Medical monitoring while paused needs an eligible patient (the rules do the rest).
      pausedInTreatment: ({ context, event }) =>
        context.evaluation.eligible === true && checkEvent(context, event, env) === null,
    },
    actions: {
      evolve: assign(({ context, event }) => evolve(context, event, score)),
    },
  }).createMachine({
    id: 'kapEpisode',
    version: String(EPISODE_MACHINE_VERSION),
    context: initial,
    initial: 'new',
    on: {
      AdverseEventReported: { guard: 'openedAndAllowed', actions: 'evolve' },
      AdverseEventReviewed: { guard: 'openedAndAllowed', actions: 'evolve' },
      SafetyFlagReviewed: { guard: 'openedAndAllowed', actions: 'evolve' },
      // `decide` checks the voided event and rebuilds the episode without it; the machine records the void.
      EventVoided: { guard: 'openedAndAllowed', actions: 'evolve' },
      // A patient may withdraw consent at any time, after the course too (research use).
      ConsentWithdrawn: { guard: 'openedAndAllowed', actions: 'evolve' },
    },
    states: {
      new: {
        meta: meta({
          phase: 'not-opened',
          refuse: { other: 'episode-not-opened', inactive: 'already-opened' },
        }),
        on: { EpisodeOpened: { target: 'open', actions: 'evolve' } },
      },
      open: {
        initial: 'fitDiscussion',
        on: {
          AssessmentRecorded: { guard: 'allowed', actions: 'evolve' },
          InformedConsentRecorded: { guard: 'allowed', actions: 'evolve' },
          // At or after the medical evaluation (the rules check that it was scheduled).
          MedicationsReviewed: { guard: 'allowed', actions: 'evolve' },
          EpisodeDiscontinued: { target: 'discontinued', actions: 'evolve' },
        },
        states: {
          fitDiscussion: {
            meta: meta({
              phase: 'fit-discussion',
              refuse: {
                events: {
                  MedicalEvaluationScheduled: 'fit-not-established',
                  MedicalEvaluationCompleted: 'fit-not-established',
                },
              },
            }),
            on: {
              FitAssessed: [
                { guard: 'goodFit', target: 'medicalEvaluation', actions: 'evolve' },
                { actions: 'evolve' },
              ],
              EpisodePaused: { target: '#kapEpisode.paused', actions: 'evolve' },
            },
          },
          medicalEvaluation: {
            meta: meta({
              phase: 'medical-evaluation',
              refuse: { events: { MedicalEvaluationCompleted: 'evaluation-not-scheduled' } },
            }),
            initial: 'toSchedule',
            on: {
              EpisodePaused: { target: '#kapEpisode.paused', actions: 'evolve' },
              FitAssessed: { actions: 'evolve' },
            },
            states: {
              toSchedule: {
                on: { MedicalEvaluationScheduled: { target: 'scheduled', actions: 'evolve' } },
              },
              scheduled: {
                on: {
                  MedicalEvaluationScheduled: { actions: 'evolve' },
                  MedicalEvaluationCompleted: [
                    { guard: 'eligible', target: '#kapEpisode.open.treatment', actions: 'evolve' },
                    // Not `else`: an eligible outcome the rules refuse (contraindicated) is refused, not ineligible.
                    { guard: 'allowed', target: 'ineligible', actions: 'evolve' },
                  ],
                },
              },
              ineligible: {
                meta: meta({ phase: 'ineligible' }),
                on: { MedicalEvaluationScheduled: { target: 'scheduled', actions: 'evolve' } },
              },
            },
          },
          // Everything it takes needs an eligible patient.
          treatment: {
            meta: meta({ phase: 'treatment', refuse: { inactive: 'not-eligible' } }),
            initial: 'betweenSessions',
            on: {
              TreatmentPlanCreated: { guard: 'allowed', actions: 'evolve' },
              PrescriptionIssued: { guard: 'allowed', actions: 'evolve' },
              MedicationDelivered: { guard: 'allowed', actions: 'evolve' },
              RefillIssued: { guard: 'allowed', actions: 'evolve' },
              SelfAdministrationTrained: { guard: 'allowed', actions: 'evolve' },
              MedicalFollowUpCompleted: { guard: 'allowed', actions: 'evolve' },
              DosingSessionScheduled: { guard: 'allowed', actions: 'evolve' },
              // A re-evaluation during treatment (eligible lifts a treatment stop; not eligible stops treatment).
              MedicalEvaluationCompleted: { guard: 'allowed', actions: 'evolve' },
            },
            states: {
              betweenSessions: {
                on: {
                  // The first pre-dose vitals or the dose of a booked session start it.
                  VitalsRecorded: { guard: 'allowed', target: 'dosingSession', actions: 'evolve' },
                  DoseAdministered: { guard: 'allowed', target: 'dosingSession.dosed', actions: 'evolve' },
                  // A booked session that never started can be cancelled.
                  DosingSessionAborted: { guard: 'allowed', actions: 'evolve' },
                  PreparationSessionCompleted: { guard: 'allowed', actions: 'evolve' },
                  IntegrationSessionCompleted: { guard: 'allowed', actions: 'evolve' },
                  EpisodePaused: { target: '#kapEpisode.paused', actions: 'evolve' },
                  EpisodeCompleted: { guard: 'allowed', target: '#kapEpisode.completed', actions: 'evolve' },
                  // After the initial course: maintenance dosing sessions under the same gates.
                  MaintenancePlanned: { guard: 'allowed', actions: 'evolve' },
                },
              },
              dosingSession: {
                meta: meta({
                  phase: 'dosing-session',
                  refuse: {
                    events: { EpisodeOpened: 'already-opened', EpisodeResumed: 'not-paused' },
                    other: 'session-in-progress',
                    inactive: 'no-session-in-progress',
                  },
                }),
                initial: 'awaitingDose',
                on: {
                  DosingSessionAborted: {
                    guard: 'allowed',
                    target: '#kapEpisode.open.treatment.betweenSessions',
                    actions: 'evolve',
                  },
                  VitalsRecorded: { guard: 'allowed', actions: 'evolve' },
                  DosingSessionCompleted: {
                    guard: 'allowed',
                    target: '#kapEpisode.open.treatment.betweenSessions',
                    actions: 'evolve',
                  },
                },
                states: {
                  awaitingDose: {
                    on: { DoseAdministered: { guard: 'allowed', target: 'dosed', actions: 'evolve' } },
                  },
                  dosed: {
                    on: { DoseAdministered: { guard: 'allowed', actions: 'evolve' } },
                  },
                },
              },
            },
          },
          history: { type: 'history', history: 'deep' },
        },
      },
      paused: {
        meta: meta({
          phase: 'paused',
          refuse: {
            events: {
              EpisodeOpened: 'already-opened',
              EpisodeResumed: 'not-allowed-in-phase',
              EpisodePaused: 'not-allowed-in-phase',
            },
            other: 'episode-paused',
            inactive: { EpisodeResumed: 'not-paused' },
          },
        }),
        on: {
          EpisodeResumed: { target: '#kapEpisode.open.history', actions: 'evolve' },
          // Monitoring goes on while treatment is paused (safety reporting goes on everywhere: see the root).
          AssessmentRecorded: { guard: 'allowed', actions: 'evolve' },
          InformedConsentRecorded: { guard: 'allowed', actions: 'evolve' },
          MedicationsReviewed: { guard: 'allowed', actions: 'evolve' },
          MedicalFollowUpCompleted: { guard: 'pausedInTreatment', actions: 'evolve' },
          RefillIssued: { guard: 'pausedInTreatment', actions: 'evolve' },
          MedicationDelivered: { guard: 'pausedInTreatment', actions: 'evolve' },
          EpisodeDiscontinued: { target: 'discontinued', actions: 'evolve' },
        },
      },
      // Closed: only safety reporting, reviews and voids (root transitions). Not XState final states, so that a
      // late adverse event or a review is still accepted and a void of the closing event can reopen the course.
      completed: { meta: meta({ phase: 'completed', refuse: { other: 'episode-closed' } }) },
      discontinued: { meta: meta({ phase: 'discontinued', refuse: { other: 'episode-closed' } }) },
    },
  });
}

/** The episode machine with the built-in instruments and the default policy. */
export const episodeMachine = createEpisodeMachine();

export type EpisodeMachine = ReturnType<typeof createEpisodeMachine>;
