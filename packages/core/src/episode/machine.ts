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

/** The machine's types, guards and action: every guard but `goodFit` asks the data rules of `checkEvent`. */
function episodeSetup(registry: InstrumentRegistry) {
  const env: RuleEnvironment = { registry };
  const score = assessmentScorer(registry);
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
  });
}

/** The guards under which a state takes an event in place and folds it in. */
type InPlaceGuard = 'allowed' | 'openedAndAllowed' | 'pausedInTreatment';

/**
 * The transitions that take each of `types` in place (no target) under `guard` and fold the event into the
 * context: `{ [type]: { guard, actions: 'evolve' } }`, one object per type, in the order given. Built once,
 * with the machine.
 */
function evolveIf<G extends InPlaceGuard, T extends EpisodeMachineEvent['type']>(
  guard: G,
  types: readonly T[],
): { [K in T]: { guard: G; actions: 'evolve' } } {
  const on = {} as { [K in T]: { guard: G; actions: 'evolve' } };
  for (const type of types) on[type] = { guard, actions: 'evolve' };
  return on;
}

/** The type of one state's configuration in this machine (see {@link treatmentState}). */
type EpisodeStateConfig = NonNullable<
  Parameters<ReturnType<typeof episodeSetup>['createMachine']>[0]['states']
>[string];

/** Treatment (a substate of `open`): everything it takes needs an eligible patient. */
function treatmentState() {
  return {
    meta: meta({ phase: 'treatment', refuse: { inactive: 'not-eligible' } }),
    initial: 'betweenSessions',
    on: {
      // Setting treatment up: the plan, the medication and its supply, the patient's training.
      ...evolveIf('allowed', [
        'TreatmentPlanCreated',
        'PrescriptionIssued',
        'MedicationDelivered',
        'RefillIssued',
        'SelfAdministrationTrained',
      ]),
      // The medical team's follow-ups, the booking of dosing sessions, and a re-evaluation during treatment
      // (eligible lifts a treatment stop; not eligible stops treatment).
      ...evolveIf('allowed', [
        'MedicalFollowUpCompleted',
        'DosingSessionScheduled',
        'MedicalEvaluationCompleted',
      ]),
    },
    states: {
      betweenSessions: {
        on: {
          // The first pre-dose vitals or the dose of a booked session start it.
          VitalsRecorded: { guard: 'allowed', target: 'dosingSession', actions: 'evolve' },
          DoseAdministered: { guard: 'allowed', target: 'dosingSession.dosed', actions: 'evolve' },
          ...evolveIf('allowed', [
            // A booked session that never started can be cancelled.
            'DosingSessionAborted',
            'PreparationSessionCompleted',
            'IntegrationSessionCompleted',
          ]),
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
  } as const satisfies EpisodeStateConfig;
}

/**
 * Build the KAP episode machine (XState v5). The machine decides which event types each phase accepts and
 * guards each transition with the data rules of `checkEvent`; every accepted event is folded into the context
 * by `evolve`. Each state's `meta` names its phase and why it refuses what it does not take, so `decide`
 * explains every refusal from the machine itself. There are no timers: calendar rules (follow-ups, measures, critical periods) are computed from
 * event timestamps and an explicit `asOf` by `statusAt`.
 */
export function createEpisodeMachine(options: EpisodeMachineOptions = {}) {
  // One declarative XState configuration, read top to bottom as a statechart; the setup (guards, action) and the
  // treatment substate are built by the helpers above, the rules themselves live in rules.ts and dose-rules.ts.
  const registry = options.registry ?? createInstrumentRegistry();
  const initial = emptyContext(options.policy);
  return episodeSetup(registry).createMachine({
    id: 'kapEpisode',
    version: String(EPISODE_MACHINE_VERSION),
    context: initial,
    initial: 'new',
    on: evolveIf('openedAndAllowed', [
      'AdverseEventReported',
      'AdverseEventReviewed',
      'SafetyFlagReviewed',
      // `decide` checks the voided event and rebuilds the episode without it; the machine records the void.
      'EventVoided',
      // A patient may withdraw consent at any time, after the course too (research use).
      'ConsentWithdrawn',
    ]),
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
          ...evolveIf('allowed', [
            'AssessmentRecorded',
            'InformedConsentRecorded',
            // At or after the medical evaluation (the rules check that it was scheduled).
            'MedicationsReviewed',
          ]),
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
          treatment: treatmentState(),
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
          ...evolveIf('allowed', ['AssessmentRecorded', 'InformedConsentRecorded', 'MedicationsReviewed']),
          ...evolveIf('pausedInTreatment', [
            'MedicalFollowUpCompleted',
            'RefillIssued',
            'MedicationDelivered',
          ]),
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
