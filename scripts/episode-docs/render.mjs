// Part of scripts/gen-episode-docs.mjs: the page, put together from the sections.
import { EPISODE_MACHINE_VERSION } from './env.mjs';
import { CLOSED_STATES, guardsUsed, machineTable, mermaid, rootTransitions } from './machine.mjs';
import { GUARDS, ROOT_EVENTS } from './prose.mjs';
import { protocolSection } from './protocol-cases.mjs';
import { eventsSection, permissionsSection, upcasterSection } from './sections-events.mjs';
import {
  criticalSection,
  policySection,
  refusalsSection,
  safetySection,
  timeSection,
} from './sections-policy.mjs';
import { phasesSection, statusSection } from './sections-status.mjs';
import { sessionsSection } from './sessions.mjs';

const READING_PROSE = `Every kapkit command that reads an event log reads it the same way, through two functions of \`@kapkit/core\`
(packages/core/src/log), so that \`kapkit validate\`, \`kapkit analyze\` and \`kapkit export\` count the same
events and the same exclusions:

- **\`ndjsonLines(source)\`** splits NDJSON text into parsed lines with their 1-based numbers: UTF-8, a
  byte-order mark at the start ignored, LF or CRLF line ends, blank lines skipped (they keep their number), a
  line that is not JSON reported with its number instead of stopping the read. It streams: memory holds one
  line at a time.
- **\`EventLogFold\`** decides every line with the episode machine against its own episode (episodes may be
  interleaved in the log): an event is counted once, whatever the number of times it was sent; a refused event
  (a repeated id, an event after closure, a late entry that would invalidate history, …) never counts; a voided
  event leaves its episode’s state. It keeps one state per episode, counts lines (\`records\`, \`events\`,
  \`accepted\`, \`refused\`, \`malformed\`), exclusions by code (\`byCode\`: \`invalid-json\`, \`invalid-event\` or a
  refusal code) and voided events (\`voided\`), and reports each problem line with its safety signals. It takes
  the model (a clinic’s policy and permission table) and the checking clock (\`now\`) as options.

Events that a store has already accepted are read back with \`projectEpisodes\`, which applies late entries and
voids as the machine did (rebuilding in clinical order), without deciding them again.`;

const EPISODE_PROSE = `## What an episode is

In ketamine-assisted psychotherapy, a psychotherapist and a medical team share the care of one patient. The
therapist does the psychotherapy: preparation, the dosing sessions themselves, and integration. The medical
team evaluates the patient, prescribes, and monitors. kapkit calls one patient's course of treatment an
**episode**. The course it models is the one a KAP therapist describes for their practice with a medical
partner (the seed document of this project):

1. **Fit.** Therapist and patient talk about the patient's intentions, concerns and whether KAP is a good fit.
2. **Medical evaluation.** A clinician of the medical team meets the patient (usually by video), goes over
   their medical and psychiatric history, explains the treatment and decides whether they are eligible.
   Some conditions rule it out or call for caution (for example uncontrolled high blood pressure, a history of
   psychosis, or active suicidal thoughts); they are recorded as contraindications.
3. **Plan and prescription.** If the patient is eligible, the medical team writes a personalised ketamine
   prescription and an **outcome-monitoring plan**: which questionnaires (such as the PHQ-9 for depression)
   are due when.
4. **Medication and training.** A small supply of medication, typically sublingual lozenges, is sent to the
   patient's home: enough for the first two dosing sessions. The medical team teaches the patient to take
   their own vital signs (blood pressure, pulse) and to take the medication themselves.
5. **Preparation.** One or more ordinary therapy sessions to agree on the process and set intentions.
6. **Dosing session.** One to two hours, in person or by video. The patient takes their vitals, takes the
   dose, and lies back with an eye mask and music while the therapist stays present; the acute effects last
   about 45 minutes, and the rest of the session is for talking the experience through. Vitals are taken
   again at the end.
7. **Integration.** Several sessions after each dosing session to work with what came up, which also prepare
   the next dosing session.
8. **Repeat.** Benefits of one dose are thought to last up to two weeks, a **critical period**; further dosing
   sessions are timed so that these periods overlap.
9. **Follow-up.** After the first dosing session the medical team follows up regularly, at least once a
   quarter, to review progress and to authorise refills.
10. **End.** The course ends when it is completed, or earlier when it is discontinued (the patient's choice,
    ineligibility, an adverse event, …). It can also be paused and resumed.

Each of these steps is recorded as an immutable **event** (\`FitAssessed\`, \`DoseAdministered\`,
\`EpisodeCompleted\`, …) with two times, when it happened and when it was written, and the role of whoever
recorded it. The state of an episode is a fold of its events in clinical order: nothing is stored that cannot
be recomputed from them, and an event entered in error is voided, never erased. A state machine decides
whether an event may be appended; when it may not, the event is refused with a stable code and a sentence that
says why.

\`\`\`ts
import { decide, initialEpisodeState, replay, statusAt } from '@kapkit/core';

const d = decide(initialEpisodeState, event, { now }); // { ok: true, state } or { ok: false, refusal }
if (!d.ok) console.log(d.refusal.code, d.refusal.safetyFlags); // e.g. 'vitals-hold', []
const { state, refusals } = replay(events);            // fold a log; refused events are reported and skipped
statusAt(state, '2026-05-01T09:00:00-04:00');          // phase, medication, measures due, critical periods, alerts
\`\`\``;

/** The state machine: its diagram, guards, root-level transitions, dosing sessions and transition table. */
function machineSection() {
  return `## The state machine

The episode is an [XState v5](https://stately.ai/docs) machine, \`episodeMachine\` (version ${EPISODE_MACHINE_VERSION};
\`createEpisodeMachine\` builds one with another instrument registry or policy, and \`createEpisodeModel\` binds
one to a permission table as well). Each transition is guarded by the data rules; each accepted event is folded
into the context by the pure reducer \`evolve\`. The diagram is generated from the machine definition.
Transitions are labelled \`Event [guard]\`; \`[else]\` marks the transition taken when the guard of the one before
it fails. Loops on a simple state are events it records without changing state; events that a compound state
or the root records without changing state (for example assessments, which are accepted throughout \`open\`)
are listed in the table below, because Mermaid cannot draw a loop on a nested compound state
([mermaid-js/mermaid#4866](https://github.com/mermaid-js/mermaid/issues/4866)).

${mermaid()}

Guards:

${Object.entries(GUARDS)
  .map(([g, text]) => `- \`${g}\`: ${text}${guardsUsed.includes(g) ? '' : ' (not used by any transition)'}.`)
  .join('\n')}

**Root-level transitions.** Some events are taken by the machine’s root, so every state takes them, guarded by
\`openedAndAllowed\`, and records them without changing state:

${rootTransitions.map((t) => `- \`${t.event}\`: ${ROOT_EVENTS[t.event]}.`).join('\n')}

<a id="closed-is-not-final"></a>

**Closed is not final.** \`${CLOSED_STATES.join('` and `')}\` are ordinary states with no transitions of their own,
not XState final states. A final state ends the machine: its snapshot’s status becomes \`done\`, and a machine
that is done takes no event at all. A late adverse-event report or a review after the course ended would then
be lost, and voiding an \`EpisodeCompleted\` entered in error could not reopen the course. As ordinary states
they take only the root-level transitions; anything else is refused \`episode-closed\`.

\`EpisodeResumed\` returns to the **deep history** of \`open\`: a paused episode resumes in the exact state it
was paused in (for example \`medicalEvaluation.scheduled\`, or \`treatment.betweenSessions\`).

${sessionsSection()}

${machineTable()}`;
}

export function render() {
  return `# The KAP episode model

<!-- Generated by scripts/gen-episode-docs.mjs from the episode model in @kapkit/core (episodeMachine,
     eventSchemas, upcastEvent, the permission table, defaultPolicy, policySources, refusalCodes, alertCodes,
     analyzeCriticalPeriods, statusAt, and synthetic episodes replayed through decide). Do not edit by hand:
     change the code, rebuild, and run \`node scripts/gen-episode-docs.mjs\`. \`npm test\` fails when this file is
     out of date. -->

This page describes how kapkit records one course of ketamine-assisted psychotherapy (KAP): the steps of a
course, the events that record them and who may record each, the state machine that decides which event may
come next, the policy it applies and its safety layer, informed consent, concurrent medications, titration and
maintenance, how late and mistaken records are handled, the reasons it gives when it refuses an event, the
critical periods that doses open, and the status it reports at any point in time. It is generated from the code, so what you read here is what kapkit does.

> kapkit records, checks policy and reports. It does not prescribe: clinicians decide. Every threshold below
> is a configurable default with its source.

${EPISODE_PROSE}

### Phases

\`phaseOf(state)\` names where an episode is, in the words of the course rather than of the machine:

${phasesSection()}

${machineSection()}

## Events

${eventsSection()}
### Schema versions

${upcasterSection()}

## Permissions

${permissionsSection()}

## Policy

${policySection()}

## Safety layer

${safetySection()}

## Consent, medications, titration and maintenance

${protocolSection()}

## Clinical time and corrections

${timeSection()}

## Refusals

${refusalsSection()}

## Critical periods

${criticalSection()}

## Status at a point in time

${statusSection()}

## Reading a log

${READING_PROSE}

## Time

- **No timers.** The machine has no delayed transitions and reads no clock: follow-ups, measures due and
  critical periods are computed from event timestamps and an explicit \`asOf\` (\`statusAt(state, asOf)\`), and
  the only clock \`decide\` knows is the \`now\` it is given.
  The same log and the same \`asOf\` give the same status on any machine, in any time zone, today or in ten
  years.
- **Why not XState \`after\` timers.** A KAP course runs for months. Delayed transitions are scheduled with
  \`setTimeout\`, whose delay is a signed 32-bit number of milliseconds: anything beyond 2^31 − 1 ms (about
  24.8 days) overflows and fires at once, so a "follow-up due in 90 days" timer cannot be expressed. And a
  delay is not re-armed when an actor is restored from a persisted snapshot
  ([statelyai/xstate#5331](https://github.com/statelyai/xstate/issues/5331)), so an episode restored from
  storage would silently lose its timers.
- **Timestamps** are ISO 8601 date-times with a UTC offset (\`2026-03-02T10:00:00-05:00\`). Durations are
  elapsed time (a day is 86,400,000 ms); dates shown to people (\`latestDay\`, due dates) are in the UTC offset
  of the event they come from. Daylight-saving rules are not applied: convert to a time zone's wall clock
  outside kapkit if needed.
- **Order.** The episode’s history is ordered by clinical time (\`at\`); events with the same \`at\` keep their
  recording order. An event dated before the latest accepted one is a late entry, accepted when the history
  stays valid with it ([Late entries](#late-entries)); none may be dated in the future
  ([No future events](#no-future-events)).

## Persistence

\`persistEpisode(state)\` returns a JSON-serialisable snapshot tagged with the machine version
(${EPISODE_MACHINE_VERSION}); \`restoreEpisode(persisted)\` restores it, history included, so a paused episode
resumes where it was. A snapshot made by another machine version is refused with a \`SnapshotVersionError\`:
rebuild the state by replaying the episode's events, which are the source of truth.
`;
}
