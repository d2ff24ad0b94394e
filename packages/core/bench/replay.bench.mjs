// Fold ~200,000 KAP episode events (~1,000 synthetic courses, interleaved in time like a store stream) three
// ways, in one process, on the same log: (a) the write side, `replay` per episode (the event check compiled from
// the zod schemas + the episode machine, one `decide` per event), (b) the read side, `projectEpisodes` (the pure `evolve` fold of
// already-accepted events), (c) a plain hand-written reducer with a switch on the event type (the baseline).
// The machine cost is split into zod validation alone and XState `transition` alone. Writes docs/benchmarks.md.
import { createRequire } from 'node:module';
import { isDeepStrictEqual } from 'node:util';
import { initialTransition, transition } from 'xstate';
import { machine, median, prng, writeSection } from '../../../scripts/bench-report.mjs';
import { episodeMachine, parseEvent, phaseOf, projectEpisodes, replay } from '../dist/index.js';
import { dosedSessions, dosesOnHand } from '../dist/read.js';

const XSTATE_VERSION = createRequire(import.meta.url)('xstate/package.json').version;
const EPISODES = Number(process.env.KAPKIT_BENCH_EPISODES ?? 1_000);
const EVENTS_PER_EPISODE = Number(process.env.KAPKIT_BENCH_EVENTS_PER_EPISODE ?? 200);
const ROUNDS = Number(process.env.KAPKIT_BENCH_ROUNDS ?? 5);
const rand = prng(20261129);

// ---------------------------------------------------------------------------------------------------------
// Synthetic log. Every event is written as the store keeps it (zod defaults spelled out), so the same objects
// can go to `replay` (which validates them) and to `projectEpisodes` (which trusts them).

const DAY_MS = 86_400_000;
const OFFSET_MS = 5 * 3_600_000; // all timestamps in -05:00
const BASE_MS = Date.parse('2025-01-06T09:00:00-05:00');

const pick = (xs) => xs[Math.floor(rand() * xs.length)];
const between = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
const clamp = (x, lo, hi) => Math.max(lo, Math.min(hi, x));

/**
 * The writer of one episode's course: its events so far, its clock `t` (days since the start; only ever moves
 * forward) and its progress (0 → 1 over the dosing course), with the steps every part of the course takes: add
 * an event, let time pass, record a check-in. The parts below take their seeded random draws in the order the
 * course reads (the bench log must not change): here the start, the target length and the outcome trajectory.
 */
function courseWriter(k) {
  const episodeId = `ep-${String(k).padStart(5, '0')}`;
  const patientId = `pt-synthetic-${String(k).padStart(5, '0')}`;
  const start = BASE_MS + Math.floor(rand() * 540) * DAY_MS + between(0, 8) * 3_600_000;
  const w = {
    episodeId,
    target: Math.round(EVENTS_PER_EPISODE * (0.8 + 0.4 * rand())),
    events: [],
    t: 0,
    progress: 0,
    iso: (days) =>
      `${new Date(start + Math.round(days * 1440) * 60_000 - OFFSET_MS).toISOString().slice(0, 19)}-05:00`,
    add: (type, payload = {}, recordedBy = 'therapist') => {
      w.events.push({
        id: `${episodeId}-e${w.events.length + 1}`,
        episodeId,
        patientId,
        type,
        at: w.iso(w.t),
        v: 1,
        recordedBy,
        synthetic: true,
        ...payload,
      });
    },
    later: (days) => {
      w.t += days;
    },
    checkIn: (context) => {
      assessment('phq9', context);
      w.later(0.01);
      assessment('gad7', context);
    },
  };

  // Outcome trajectory: baseline severity, improvement over the course, weekly noise.
  const phqBase = between(10, 24);
  const gadBase = between(8, 19);
  const response = rand() < 0.7 ? 0.35 + 0.4 * rand() : 0.05 + 0.25 * rand(); // fraction of symptoms relieved
  const assessment = (instrument, context) => {
    const n = instrument === 'phq9' ? 9 : 7;
    const base = instrument === 'phq9' ? phqBase : gadBase;
    const level = (base * (1 - response * w.progress)) / n;
    const responses = new Array(n);
    for (let i = 0; i < n; i++) responses[i] = clamp(Math.round(level + (rand() - 0.5) * 1.6), 0, 3);
    if (instrument === 'phq9') responses[8] = rand() < 0.04 ? between(1, 2) : 0; // item 9 rarely positive
    if (rand() < 0.03) responses[Math.floor(rand() * (n - 1))] = null; // one item skipped (prorated)
    w.add('AssessmentRecorded', { instrument, responses, context }, 'patient');
    const id = w.events[w.events.length - 1].id;
    if (instrument === 'phq9' && responses[8] > 0) {
      w.later(0.1);
      w.add(
        'SafetyFlagReviewed',
        {
          assessmentEventId: id,
          rule: 'phq9-item9-positive',
          outcome: pick(['no-current-risk', 'safety-plan']),
        },
        'medical',
      );
    }
  };
  return w;
}

/**
 * Opening: fit, medical evaluation, plan, prescription, first supply, training, baseline, preparation. Returns
 * the planned number of dosing sessions and the prescribed dose.
 */
function opening(w) {
  const { add, later, iso } = w;
  add('EpisodeOpened', { referral: pick(['therapist', 'medical', 'self']) });
  later(0.05);
  if (rand() < 0.1) {
    add('FitAssessed', { outcome: 'needs-more-discussion' });
    later(between(5, 9));
  }
  add('FitAssessed', { outcome: 'good-fit' });
  later(between(1, 4));
  const evalDay = w.t + between(3, 8);
  add('MedicalEvaluationScheduled', { scheduledFor: iso(evalDay), mode: 'telehealth' }, 'medical');
  w.t = evalDay;
  add(
    'MedicalEvaluationCompleted',
    { eligible: true, contraindications: rand() < 0.1 ? ['prior-ketamine-use'] : [] },
    'medical',
  );
  const planned = between(4, 8);
  later(0.05);
  add(
    'TreatmentPlanCreated',
    {
      plannedDosingSessions: planned,
      monitoring: {
        measures: [
          { instrument: 'phq9', baseline: true, beforeEachDoseWithinDays: 7, everyDays: 28 },
          { instrument: 'gad7', baseline: true, beforeEachDoseWithinDays: 7, everyDays: 28 },
        ],
      },
    },
    'medical',
  );
  const doseMg = pick([200, 250, 300, 350, 400]);
  add(
    'PrescriptionIssued',
    {
      medication: 'ketamine',
      route: 'sublingual',
      formulation: 'sublingual-lozenge',
      doseMg,
      dosesAuthorized: 2,
    },
    'medical',
  );
  later(between(2, 4));
  add('MedicationDelivered', { doses: 2 }, 'system');
  later(0.05);
  add('SelfAdministrationTrained', { vitalsTrained: true, selfAdministrationTrained: true }, 'medical');
  later(1);
  w.checkIn('baseline');
  for (let p = between(1, 2); p > 0; p--) {
    later(between(1, 3));
    add('PreparationSessionCompleted', { mode: pick(['in-person', 'telehealth']), intentionsSet: true });
  }
  return { planned, doseMg };
}

/**
 * One dosing session, booked now: vitals (re-measured when high), the dose, vitals during, the odd booster and
 * adverse event, post-dose vitals and completion. Returns the doses left on hand.
 */
function dosingSession(w, sessionId, doseMg, onHand) {
  const { add, later, iso } = w;
  const mode = rand() < 0.7 ? 'in-person' : 'telehealth';
  // A remote session has a chaperone present (the policy refuses a remote dose without one).
  add(
    'DosingSessionScheduled',
    { sessionId, scheduledFor: iso(w.t + 0.04), mode, ...(mode === 'telehealth' ? { chaperone: true } : {}) },
    'therapist',
  );
  later(0.04);
  const high = rand() < 0.05;
  const vitals = (phase, sys, dia, hr) =>
    add('VitalsRecorded', { sessionId, phase, systolic: sys, diastolic: dia, heartRate: hr }, 'patient');
  vitals('pre', high ? between(142, 150) : between(108, 136), high ? between(86, 94) : between(66, 86), 72);
  if (high) {
    later(0.01); // re-measured after resting
    vitals('pre', between(118, 134), between(72, 86), between(62, 84));
  }
  later(0.005);
  const dose = (kind, mg, unitsUsed) =>
    add(
      'DoseAdministered',
      { sessionId, kind, doseMg: mg, route: 'sublingual', formulation: 'sublingual-lozenge', unitsUsed },
      'patient',
    );
  dose('full', doseMg, 1);
  let left = onHand - 1;
  for (let d = between(1, 3); d > 0; d--) {
    later(0.01);
    vitals('during', between(115, 145), between(70, 90), between(64, 96));
  }
  if (rand() < 0.1 && left >= 1.5) {
    later(0.01);
    dose('booster', doseMg / 2, 0.5);
    left -= 0.5;
  }
  if (rand() < 0.06) {
    later(0.01);
    add('AdverseEventReported', {
      sessionId,
      code: pick(['nausea', 'headache', 'dizziness']),
      severity: 'mild',
    });
  }
  // Post-dose vitals and completion after the policy's 120-minute observation time since the last dose.
  later(0.09);
  vitals('post', between(112, 138), between(68, 88), between(60, 88));
  later(0.005);
  add('DosingSessionCompleted', { sessionId, durationMinutes: between(130, 180) });
  return left;
}

/**
 * Dosing course: 4–8 sessions 1–2 weeks apart, each with pre-dose check-in and the session itself, then 1–3
 * integration sessions; a follow-up and refill before the third session; the odd pause.
 */
function dosingCourse(w, planned, doseMg) {
  const { add, later } = w;
  let onHand = 2;
  for (let s = 1; s <= planned; s++) {
    later(between(2, 5));
    if (onHand < 1.5) {
      add('MedicalFollowUpCompleted', { continueTreatment: true }, 'medical');
      later(0.05);
      const refill = planned - s + 2;
      add('RefillIssued', { dosesAuthorized: refill }, 'medical');
      later(between(2, 4));
      add('MedicationDelivered', { doses: refill }, 'system');
      onHand += refill;
      later(1);
    }
    w.checkIn('pre-dose');
    later(between(1, 3));
    const sessionId = `${w.episodeId}-s${s}`;
    onHand = dosingSession(w, sessionId, doseMg, onHand);
    w.progress = s / planned;
    for (let i = between(1, 3); i > 0; i--) {
      later(between(1, 3));
      add('IntegrationSessionCompleted', { mode: pick(['in-person', 'telehealth']), sessionId });
    }
    if (rand() < 0.03 && s < planned) {
      later(1);
      add('EpisodePaused', { reason: pick(['patient-request', 'scheduling']) });
      later(between(7, 14));
      w.checkIn('routine');
      later(between(7, 14));
      add('EpisodeResumed');
    }
  }
}

/**
 * Maintenance: weekly check-ins, integration every two weeks, medical follow-up every ~80 days, until the
 * episode has its share of events; then completed (or, rarely, discontinued).
 */
function maintenanceAndClose(w) {
  const { add, later } = w;
  let week = 0;
  let lastFollowUp = w.t;
  while (w.events.length < w.target - 1) {
    later(between(6, 8));
    w.checkIn(rand() < 0.2 ? 'integration' : 'follow-up');
    if (week % 2 === 0) {
      later(1);
      add('IntegrationSessionCompleted', { mode: 'telehealth' });
    }
    if (w.t - lastFollowUp > 80) {
      later(1);
      add('MedicalFollowUpCompleted', { continueTreatment: true }, 'medical');
      lastFollowUp = w.t;
    }
    week++;
  }
  later(between(2, 7));
  if (rand() < 0.92) add('EpisodeCompleted');
  else add('EpisodeDiscontinued', { reason: pick(['patient-choice', 'lost-to-follow-up']) });
}

/** One episode's course; returns its events in order (timestamps never decrease). */
function course(k) {
  const w = courseWriter(k);
  const { planned, doseMg } = opening(w);
  dosingCourse(w, planned, doseMg);
  maintenanceAndClose(w);
  return w.events;
}

const perEpisode = [];
for (let k = 1; k <= EPISODES; k++) perEpisode.push(course(k));
// Interleave like a store stream: all events in time order (stable, so an episode's own order is kept).
const stamped = perEpisode.flat().map((e) => [Date.parse(e.at), e]);
stamped.sort((a, b) => a[0] - b[0]);
const log = stamped.map(([, e]) => e);
// The read side (projection, plain reducer) takes accepted events as the store returns them: parsed (version 1
// upcast to 2). The machine path takes the log as written and decides every event.
const acceptedLog = log.map((e) => {
  const r = parseEvent(e);
  if (!r.success) throw new Error(`bench event ${e.id} does not parse`);
  return r.data;
});
const N = log.length;
const typeCounts = new Map();
for (const e of log) typeCounts.set(e.type, (typeCounts.get(e.type) ?? 0) + 1);

// ---------------------------------------------------------------------------------------------------------
// The paths.

/** (a) Write side: group the stream by episode, `replay` each (one `decide` per event). */
function machinePath(events) {
  const byEpisode = new Map();
  for (const e of events) {
    const list = byEpisode.get(e.episodeId);
    if (list) list.push(e);
    else byEpisode.set(e.episodeId, [e]);
  }
  const states = new Map();
  let accepted = 0;
  let refused = 0;
  for (const [id, list] of byEpisode) {
    const r = replay(list);
    accepted += r.accepted;
    refused += r.refusals.length;
    states.set(id, r);
  }
  return { states, accepted, refused };
}

/** (b) Read side: the projection over the interleaved stream. */
function projectionPath(events = acceptedLog) {
  return projectEpisodes(events === log ? acceptedLog : events);
}

/** (c) Baseline: what a developer would write by hand for a per-episode summary. */
function plainReducer(input) {
  const events = input === log ? acceptedLog : input;
  const out = new Map();
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    let s = out.get(e.episodeId);
    if (s === undefined) {
      s = { doses: 0, delivered: 0, used: 0, assessments: 0, lastPhq9: null, lastGad7: null, lastAt: null };
      out.set(e.episodeId, s);
    }
    s.lastAt = e.at;
    switch (e.type) {
      case 'MedicationDelivered':
        s.delivered += e.doses;
        break;
      case 'DoseAdministered':
        s.doses++;
        s.used += e.unitsUsed;
        break;
      case 'AssessmentRecorded': {
        s.assessments++;
        const a = e.responses;
        let sum = 0;
        let missing = 0;
        for (let j = 0; j < a.length; j++) {
          const v = a[j];
          if (v === null) missing++;
          else sum += v;
        }
        const total = missing ? (sum * a.length) / (a.length - missing) : sum;
        if (e.instrument === 'phq9') s.lastPhq9 = total;
        else if (e.instrument === 'gad7') s.lastGad7 = total;
        break;
      }
      default:
        break;
    }
  }
  return out;
}

/** Split 1: zod validation alone (what `decide` runs first on every event). */
function zodOnly(events) {
  let invalid = 0;
  for (let i = 0; i < events.length; i++) if (!parseEvent(events[i]).success) invalid++;
  return invalid;
}

/** Split 2: XState `transition` alone, per episode, on pre-parsed events (guards + `evolve`, no `decide`). */
const [initialState] = initialTransition(episodeMachine);
const parsedByEpisode = new Map();
for (const e of log) {
  const r = parseEvent(e);
  if (!r.success) throw new Error(`bench event ${e.id} does not parse`);
  const p = r.data;
  const list = parsedByEpisode.get(e.episodeId);
  if (list) list.push(p);
  else parsedByEpisode.set(e.episodeId, [p]);
}
function transitionOnly() {
  let changed = 0;
  for (const list of parsedByEpisode.values()) {
    let state = initialState;
    for (let i = 0; i < list.length; i++) {
      const [next] = transition(episodeMachine, state, list[i]);
      if (next.context !== state.context) changed++;
      state = next;
    }
  }
  return changed;
}

// ---------------------------------------------------------------------------------------------------------
// Check the paths do the same work before timing anything.

const checked = machinePath(log);
if (checked.refused !== 0) {
  const [id, r] = [...checked.states].find(([, x]) => x.refusals.length);
  throw new Error(
    `replay refused ${checked.refused} events; first in ${id}: ${JSON.stringify(r.refusals[0])}`,
  );
}
if (checked.accepted !== N) throw new Error(`replay accepted ${checked.accepted} of ${N} events`);
const projected = projectionPath(log);
const plain = plainReducer(log);
if (projected.size !== EPISODES || plain.size !== EPISODES) throw new Error('episode count differs');
const close = (x, y) => (x === null ? y === null : y !== null && Math.abs(x - y) < 1e-9);
const lastTotal = (c, instrument) =>
  c.assessments.findLast((a) => a.instrument === instrument)?.total ?? null;
let closedEpisodes = 0;
for (const [id, r] of checked.states) {
  const c = projected.get(id);
  if (!isDeepStrictEqual(r.state.context, c)) throw new Error(`projection and machine disagree on ${id}`);
  // Completed and discontinued are ordinary states, not XState final ones (a closed episode still takes late
  // adverse-event reports), so the snapshot's status never becomes 'done': the phase says whether it ended.
  if (['completed', 'discontinued'].includes(phaseOf(r.state))) closedEpisodes++;
  const s = plain.get(id);
  const doses = c.sessions.reduce((n, x) => n + x.doses.length, 0);
  if (
    s.doses !== doses ||
    s.delivered - s.used !== dosesOnHand(c) ||
    s.assessments !== c.assessments.length ||
    !close(s.lastPhq9, lastTotal(c, 'phq9')) ||
    !close(s.lastGad7, lastTotal(c, 'gad7')) ||
    s.lastAt !== c.lastEventAt
  ) {
    throw new Error(`plain reducer and projection disagree on ${id}`);
  }
}
if (zodOnly(log) !== 0) throw new Error('zod refused an event');
if (transitionOnly() !== N) throw new Error('XState transition did not apply every event');
const sessions = [...projected.values()].reduce((n, c) => n + dosedSessions(c).length, 0);

// ---------------------------------------------------------------------------------------------------------
// Time: alternating rounds, median.

// CPU time of the process (user + system, GC threads included) as well as wall time: on a shared, loaded
// machine the wall time of a run depends on how long the process waited for a core, its CPU time far less.
// The ratios are of CPU times.
function time(fn) {
  globalThis.gc?.();
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  fn(log);
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

const runs = { plain: [], projection: [], machine: [], zod: [], transition: [] };
const walls = { plain: [], projection: [], machine: [], zod: [], transition: [] };
const record = (key, fn) => {
  const t = time(fn);
  runs[key].push(t.cpu);
  walls[key].push(t.wall);
};
for (let round = 0; round < ROUNDS; round++) {
  record('plain', plainReducer);
  record('projection', projectionPath);
  record('machine', machinePath);
  record('zod', zodOnly);
  if (round < 3) record('transition', transitionOnly);
}
const med = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v)]));
const medWall = Object.fromEntries(Object.entries(walls).map(([k, v]) => [k, median(v)]));
const peakRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);

const fmt = (ms) => ms.toFixed(1);
const wall = (k) => fmt(medWall[k]);
const rate = (ms) => Math.round(N / (ms / 1000)).toLocaleString('en-US');
const ratio = (ms) => (ms / med.plain).toFixed(1);
const share = (ms) => `${Math.round((100 * ms) / med.machine)}%`;
const count = (n) => n.toLocaleString('en-US');

const table = `## Core: fold ${count(N)} KAP episode events (${count(EPISODES)} episodes)

${machine()}. Median of ${ROUNDS} alternating rounds (\`transition\` split: ${runs.transition.length}); peak RSS of the process ${peakRssMiB} MiB. Synthetic courses (seeded): fit,
evaluation, plan, prescription, deliveries and refills, training, preparation, ${count(sessions)} dosing sessions
(4–8 each: vitals, dose, vitals, completion), integrations, ${count(typeCounts.get('AssessmentRecorded'))} PHQ-9/GAD-7
assessments, follow-ups, completion (${count(closedEpisodes)} episodes end completed or discontinued); interleaved across episodes in time order like a store stream. Checked
first: \`replay\` accepts every event (0 refusals), \`projectEpisodes\` gives the same context as the machine for
every episode (deep equal), and the plain reducer agrees with it on its summary.

- **Write side, the machine** (\`replay\`/\`decide\`): for events not yet known to be valid. Each event is
  validated (a check compiled from the zod schemas), checked against the episode's phase and rules, and refused
  with a reason or folded in.
- **Read side, the projection** (\`projectEpisodes\`): for events already accepted (read back from the store).
  The same \`evolve\` fold, without the machine or validation, written in place into contexts the fold owns
  (no copy of the context or its arrays per event; \`replay\` folds the same way, only \`decide\` copies).
- **Plain reducer** (baseline): a hand-written switch on the event type keeping a small per-episode summary
  (doses, doses on hand, assessment count and last totals, last event time). It keeps far less than the
  episode context, so it bounds what a fold of this log can cost, not what the projection should cost.

Times are medians of CPU time (user + system of the process, GC threads included), which a shared, loaded
machine disturbs far less than wall time (given beside them); events/s and the ratios are of CPU time.

| path | median CPU ms | median wall ms | events/s (CPU) | × plain reducer |
|---|---:|---:|---:|---:|
| plain hand-written reducer (baseline) | ${fmt(med.plain)} | ${wall('plain')} | ${rate(med.plain)} | 1.0 |
| **read side: \`projectEpisodes\`** (evolve fold, full context) | ${fmt(med.projection)} | ${wall('projection')} | ${rate(med.projection)} | **${ratio(med.projection)}** |
| **write side: \`replay\` per episode** (\`decide\`: compiled event check + rules + episode machine) | ${fmt(med.machine)} | ${wall('machine')} | ${rate(med.machine)} | **${ratio(med.machine)}** |
| for reference: zod \`parseEvent\` (upcast + \`episodeEventSchema.safeParse\`) alone (off the write path since \`decide\` checks with a validator compiled from the same schemas) | ${fmt(med.zod)} | ${wall('zod')} | ${rate(med.zod)} | ${ratio(med.zod)} (${share(med.zod)} of replay) |
| for reference: XState's pure \`transition()\` helper per event (guards + evolve, pre-parsed; builds a throwaway actor each call) | ${fmt(med.transition)} | ${wall('transition')} | ${rate(med.transition)} | ${ratio(med.transition)} |

Target (issue 14): the read-side projection ≤ 3 × the plain reducer: **${med.projection / med.plain <= 3 ? 'met' : 'not met'}** (${ratio(med.projection)}×).

Read-side projection vs write-side machine: the projection is ${(med.machine / med.projection).toFixed(1)}× faster on the same
log. Use \`replay\`/\`decide\` to accept new events; use \`projectEpisodes\` to rebuild views from the store. The
reference row is XState's public pure \`transition()\`: in XState ${XSTATE_VERSION} each call also builds an inert actor and the
machine's initial snapshot, so \`decide\` does not call XState per event: it selects the transition as XState
does and runs the machine's own guards and \`evolve\` (core/src/episode/fast-step.ts), and lets XState
(\`machine.transition\` with one reused inert actor scope) work out each new configuration once; the phase is worked
out only for refused events. The plain reducer is memory-bound and the
noisiest figure here: compare the projection and the machine with each other first.`;

writeSection('core-replay', table);
console.log(table);
