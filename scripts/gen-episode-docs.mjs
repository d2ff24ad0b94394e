// Generates docs/episode.md from the KAP episode model in @kapkit/core (the machine definition, the event
// schemas, the policy, the refusal codes, the critical-period analysis and statusAt), so that the documentation
// cannot drift from the code.
//
//   node scripts/gen-episode-docs.mjs           write docs/episode.md
//   node scripts/gen-episode-docs.mjs --check   exit 1 if docs/episode.md is not what would be written
//
// Reads the built package (packages/core/dist): run `npm run build` first. A few things TypeScript erases (the
// doc comments of EpisodePolicy and EpisodeStatus, the EpisodePhase and alert-code unions) are read from
// packages/core/src/episode; the prose about each phase, guard and alert is written here, and generation fails
// if the code has a phase, guard or alert that this script does not describe (or describes one that is gone),
// or if the model no longer does what the prose about dosing sessions says (it replays a small episode to check).
// The output is deterministic (no dates, no machine details), so the check can run in CI.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { toJSONSchema } from 'zod';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outFile = join(root, 'docs', 'episode.md');
const outName = relative(root, outFile);
const coreDir = join(root, 'packages', 'core');
const distEntry = join(coreDir, 'dist', 'index.js');
const episodeSrc = join(coreDir, 'src', 'episode');

const args = process.argv.slice(2);
const unknownArgs = args.filter((a) => a !== '--check');
if (unknownArgs.length > 0) {
  console.error(`gen-episode-docs: unknown argument ${unknownArgs.join(' ')}`);
  console.error('usage: node scripts/gen-episode-docs.mjs [--check]');
  process.exit(2);
}
const check = args.includes('--check');

if (!existsSync(distEntry)) {
  console.error(`gen-episode-docs: ${relative(root, distEntry)} not found: run \`npm run build\` first.`);
  process.exit(2);
}
warnIfDistIsStale();
const core = await import(pathToFileURL(distEntry).href);
const {
  CRITICAL_PERIOD_DEFAULTS,
  DAY_MS,
  EPISODE_MACHINE_VERSION,
  EVENT_SCHEMA_VERSION,
  INITIAL_SUPPLY_SESSIONS,
  analyzeCriticalPeriods,
  decide,
  defaultMonitoringPlan,
  defaultPolicy,
  episodeMachine,
  eventSchemas,
  initialEpisodeState,
  phaseOf,
  policySources,
  refusalCodes,
  replay,
  statusAt,
  windowMsFromDays,
  windowMsFromHours,
} = core;

/** A warning (not an error) when a source file is newer than the build the docs are generated from. */
function warnIfDistIsStale() {
  const built = statSync(distEntry).mtimeMs;
  const newest = (dir) =>
    readdirSync(dir, { withFileTypes: true }).reduce((max, e) => {
      const p = join(dir, e.name);
      return Math.max(max, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
    }, 0);
  if (existsSync(episodeSrc) && newest(episodeSrc) > built) {
    console.error(
      'gen-episode-docs: warning: packages/core/src/episode is newer than packages/core/dist; run `npm run build` so the docs match the source.',
    );
  }
}

// ---------------------------------------------------------------------------------------------------------
// Formatting helpers

/** Text safe inside a Markdown table cell or list item: no line breaks, no unescaped pipes or HTML tags. */
function esc(text) {
  return String(text)
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '\\|')
    .replace(/<(?=[A-Za-z/!?])/g, '&lt;');
}

/** A sentence: the text with a full stop unless it already ends with one. */
function sentence(text) {
  const t = esc(text).trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

const code = (s) => `\`${s}\``;
const dash = '—';

/** A number as written in the docs: integers as they are, others with at most 3 decimals. */
function num(n) {
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 1000) / 1000);
}

function days(ms) {
  return `${num(ms / DAY_MS)} d`;
}

// ---------------------------------------------------------------------------------------------------------
// What TypeScript erases, read from the source

function source(file) {
  const path = join(episodeSrc, file);
  if (!existsSync(path)) {
    console.error(
      `gen-episode-docs: ${relative(root, path)} not found (the docs read doc comments from it).`,
    );
    process.exit(2);
  }
  return readFileSync(path, 'utf8');
}

/** The body of `export interface name { ... }` (top-level braces only). */
function interfaceBody(src, name) {
  const start = src.indexOf(`export interface ${name} {`);
  if (start < 0) throw new Error(`gen-episode-docs: interface ${name} not found`);
  let depth = 0;
  for (let i = src.indexOf('{', start); i < src.length; i++) {
    if (src[i] === '{') depth++;
    else if (src[i] === '}' && --depth === 0) return src.slice(src.indexOf('{', start) + 1, i);
  }
  throw new Error(`gen-episode-docs: interface ${name} is not closed`);
}

/** The top-level fields of an interface with their doc comments, in order. */
function interfaceFields(src, name) {
  const body = interfaceBody(src, name);
  const fields = [];
  let depth = 0;
  let doc = '';
  const lines = body.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (depth === 0 && line.startsWith('/**')) {
      let text = line;
      while (!text.includes('*/') && i + 1 < lines.length) text += ` ${lines[++i].trim()}`;
      doc = text
        .replace(/^\/\*\*|\*\/$/g, '')
        .replace(/\s\*\s/g, ' ')
        .replace(/\s+/g, ' ')
        .trim();
      continue;
    }
    const m = depth === 0 ? /^readonly (\w+)\??:/.exec(line) : null;
    if (m) {
      fields.push({ name: m[1], doc });
      doc = '';
    }
    depth += (line.match(/[{(]/g) ?? []).length - (line.match(/[})]/g) ?? []).length;
  }
  return fields;
}

/** The string literals of a union type that starts at `marker` and ends at the first `;`. */
function unionAfter(src, marker) {
  const start = src.indexOf(marker);
  if (start < 0) throw new Error(`gen-episode-docs: ${marker} not found`);
  const end = src.indexOf(';', start);
  return [...src.slice(start + marker.length, end).matchAll(/'([^']+)'/g)].map((m) => m[1]);
}

/** Fails generation unless the code and the prose of this script name the same things. */
function sameSet(what, inCode, described) {
  const missing = inCode.filter((x) => !(x in described));
  const gone = Object.keys(described).filter((x) => !inCode.includes(x));
  if (missing.length || gone.length) {
    console.error(
      `gen-episode-docs: the ${what} in the code and in this script differ: ${missing.length ? `not described: ${missing.join(', ')}` : ''}${missing.length && gone.length ? '; ' : ''}${gone.length ? `described but not in the code: ${gone.join(', ')}` : ''}. Update scripts/gen-episode-docs.mjs.`,
    );
    process.exit(2);
  }
}

const policySrc = source('policy.ts');
const statusSrc = source('status.ts');
const decideSrc = source('decide.ts');

// ---------------------------------------------------------------------------------------------------------
// Prose that the code cannot carry, checked against the code by `sameSet`

const PHASES = {
  'not-opened': 'No event yet: the episode is opened by `EpisodeOpened`.',
  'fit-discussion':
    'The therapist and the patient discuss intentions, concerns and whether KAP is a fit. A good-fit assessment moves the episode on to the medical evaluation; other outcomes keep it here.',
  'medical-evaluation':
    'The medical evaluation is to be scheduled or has been scheduled; its result decides eligibility.',
  ineligible:
    'The medical evaluation found the patient not eligible (with the contraindications recorded). The evaluation can be scheduled again, or the episode discontinued.',
  planning:
    'Eligible; the treatment plan (with its outcome-monitoring plan) and the prescription are not both in place yet.',
  preparation:
    'Plan and prescription in place, no dose given yet: medication delivery, training in vitals and self-administration, preparation sessions, booking the first dosing session.',
  'dosing-session':
    'A dosing session is in progress: started by its first pre-dose vitals (or its dose), and not yet completed or aborted. Booking a session does not start it.',
  'dosing-course':
    'At least one dose was given, no session in progress: integration sessions, booking and further dosing sessions, follow-ups and refills.',
  paused:
    'Treatment is paused until it resumes where it left off. Assessments, safety-flag reviews and adverse events are still recorded, and, once the patient was found eligible, medical follow-ups, refills and deliveries; nothing else.',
  completed: 'The course ended as planned. Nothing more is recorded.',
  discontinued:
    'The course ended early (patient choice, ineligibility, adverse event, …). Nothing more is recorded.',
};

const GUARDS = {
  allowed:
    'the data rules of `checkEvent` (packages/core/src/episode/rules.ts): the event is accepted only if no rule refuses it',
  goodFit: 'the fit assessment says `good-fit`',
  eligible: 'the medical evaluation found the patient eligible',
  pausedInTreatment:
    'the medical evaluation found the patient eligible and no rule of `checkEvent` refuses the event (medical follow-ups, refills and deliveries go on while treatment is paused)',
};

const STATUS_FIELDS = {
  asOf: 'The instant the status is for, as given.',
  phase: 'The phase of the episode (see Phases).',
  synthetic: 'True when any event of the episode was marked synthetic (demo data).',
  dosesGiven: 'Dosing sessions in which a dose was given.',
  plannedDosingSessions: 'Dosing sessions in the treatment plan, or null before a plan.',
  dosesOnHand: 'Doses delivered minus units used.',
  dosesAuthorized: 'Doses authorised by the prescription and refills.',
  lowMedication:
    'Fewer doses on hand than `lowSupplyDoses` while the episode is active, prescribed and the planned course is not done.',
  followUp:
    'After the first dose: the last follow-up, when the next one is due (first dose or last follow-up + `followUpIntervalDays`), whether it is overdue and by how many days; null before any dose.',
  measures:
    'For each measure of the monitoring plan and each rule that applies (baseline, before the next dosing session, periodic): last taken, due date and status (`not-due`, `due`, `overdue`, or `missed` for a baseline the first dose went ahead without).',
  safetyFlags: 'Every safety flag raised in the episode (reviewed or not), oldest first.',
  unreviewedSafetyFlags: 'Positive safety flags without a recorded review.',
  criticalPeriods:
    'The window length in days, the windows open at `asOf`, the full analysis (windows, overlaps, chains, coverage, gaps) of the doses given by `asOf`, and the deadline of the next dose that keeps the chain unbroken (`nextDoseBefore`, `nextDoseLatestDay`; null when the episode is not active, before the first dose, or when the planned course is done).',
  vitalsHold:
    'A dosing session is in progress without a dose and its last pre-dose blood pressure is above the hold threshold.',
  alerts: 'Alerts for the people caring for the patient (see below).',
};

const ALERTS = {
  'safety-flag': {
    severity: 'urgent',
    meaning:
      'A positive safety item (PHQ-9 item 9 > 0: thoughts of being better off dead or of self-harm) has no recorded review (`SafetyFlagReviewed`).',
  },
  'safety-item-unanswered': {
    severity: 'warning',
    meaning: 'A safety item was left unanswered and not reviewed: ask it again or assess risk directly.',
  },
  'follow-up-overdue': {
    severity: 'warning',
    meaning:
      'The medical follow-up is overdue (policy `followUpIntervalDays`, counted from the first dose or the last follow-up).',
  },
  'measure-due': {
    severity: 'info',
    meaning:
      'A measure of the monitoring plan is due: baseline before the first dose, before the next dosing session, or periodic.',
  },
  'measure-overdue': {
    severity: 'warning',
    meaning:
      'A measure is overdue: the next dosing session has passed without it, or a periodic measure is more than `measureGraceDays` late.',
  },
  'critical-period-chain-ending': {
    severity: 'warning',
    meaning:
      'The last critical period closes within `chainWarningDays`: the next dose must come by the day shown to keep the chain unbroken.',
  },
  'critical-period-chain-broken': {
    severity: 'info',
    meaning: 'The last critical period has closed without a new dose; the next dose starts a new chain.',
  },
  'low-medication': {
    severity: 'warning',
    meaning:
      'Fewer doses are on hand than `lowSupplyDoses` while the planned course is not done: arrange a follow-up and a refill.',
  },
  'vitals-hold': {
    severity: 'urgent',
    meaning:
      'Dosing is on hold in the session in progress: the last pre-dose blood pressure is above the hold threshold.',
  },
};

// ---------------------------------------------------------------------------------------------------------
// The machine: walked from its definition

function stateNodes(node) {
  return Object.values(node.states).flatMap((child) => [child, ...stateNodes(child)]);
}
const allNodes = stateNodes(episodeMachine.root);
{
  const keys = allNodes.map((n) => n.key);
  const dup = keys.filter((k, i) => keys.indexOf(k) !== i);
  if (dup.length) throw new Error(`gen-episode-docs: state keys are not unique (${dup.join(', ')})`);
}

/** Every transition of the machine: source node, event, guard label, targets (empty = stays). */
function transitionsOf(node) {
  const out = [];
  for (const [event, list] of node.transitions) {
    list.forEach((t, i) => {
      const guard = t.guard ? (typeof t.guard === 'string' ? t.guard : t.guard.type) : null;
      const label = guard ?? (list.length > 1 && i > 0 && list[i - 1].guard ? 'else' : null);
      out.push({ source: node, event, guard: label, targets: t.target ?? [] });
    });
  }
  return out;
}
const allTransitions = [episodeMachine.root, ...allNodes].flatMap(transitionsOf);
// The Time section says the machine has no timers: keep it true.
const timed = [episodeMachine.root, ...allNodes].filter((n) => n.after.length > 0 || n.invoke.length > 0);
if (timed.length) {
  console.error(
    `gen-episode-docs: ${timed.map((n) => n.id).join(', ')} ${timed.length === 1 ? 'has' : 'have'} delayed transitions or invoked actors; the Time section of docs/episode.md says there are none. Update scripts/gen-episode-docs.mjs.`,
  );
  process.exit(2);
}
const guardsUsed = [...new Set(allTransitions.map((t) => t.guard).filter((g) => g && g !== 'else'))];
sameSet('guards', Object.keys(episodeMachine.implementations.guards), GUARDS);

const edgeLabel = (t) => `${t.event}${t.guard ? ` [${t.guard}]` : ''}`;

function mermaid() {
  const out = ['```mermaid', 'stateDiagram-v2'];
  const block = (node, indent) => {
    const pad = ' '.repeat(indent);
    for (const child of Object.values(node.states)) {
      if (child.type === 'history') {
        out.push(`${pad}${child.key} : H* (${child.history} history)`);
      } else if (child.type === 'compound') {
        out.push(`${pad}state ${child.key} {`);
        out.push(`${pad}  [*] --> ${child.initial.target[0].key}`);
        block(child, indent + 2);
        out.push(`${pad}}`);
      } else {
        out.push(`${pad}${child.key}`);
      }
    }
  };
  out.push(`  [*] --> ${episodeMachine.root.initial.target[0].key}`);
  block(episodeMachine.root, 2);
  // Edges at the top level (Mermaid moves a state into the last composite block that mentions it).
  const selfLoops = new Map();
  for (const t of allTransitions) {
    if (t.targets.length === 0) {
      if (t.source.type !== 'atomic') continue; // listed in the table: Mermaid cannot loop on a nested composite
      selfLoops.set(t.source.key, [...(selfLoops.get(t.source.key) ?? []), edgeLabel(t)]);
      continue;
    }
    for (const target of t.targets) out.push(`  ${t.source.key} --> ${target.key} : ${edgeLabel(t)}`);
  }
  for (const [key, labels] of selfLoops) out.push(`  ${key} --> ${key} : ${labels.join(', ')}`);
  for (const n of allNodes) if (n.type === 'final') out.push(`  ${n.key} --> [*]`);
  out.push('```');
  return out.join('\n');
}

function nodeName(n) {
  return n.path.length ? code(n.path.join('.')) : code(n.key);
}

function machineTable() {
  const rows = [];
  for (const n of allNodes) {
    const kind =
      n.type === 'compound'
        ? `compound (starts in ${code(n.initial.target[0].key)})`
        : n.type === 'history'
          ? `${n.history} history`
          : n.type;
    const own = transitionsOf(n).map((t) => {
      const to = t.targets.length ? ` → ${t.targets.map((x) => code(x.key)).join(', ')}` : ' (stays)';
      return `${code(t.event)}${t.guard ? ` [${t.guard}]` : ''}${to}`;
    });
    rows.push([nodeName(n), kind, own.length ? own.join('<br>') : dash]);
  }
  return table(['State', 'Kind', 'Transitions (event [guard] → target)'], rows);
}

/** The states (paths) whose own transitions handle `event`. */
function handledIn(event) {
  return allNodes.filter((n) => n.transitions.has(event)).map((n) => n.path.join('.'));
}

// ---------------------------------------------------------------------------------------------------------
// Dosing sessions: the prose, checked against the model by replaying a small episode

const SESSIONS_PROSE = `**Dosing sessions.** Booking a session (\`DosingSessionScheduled\`) does not start it: the episode stays
between sessions, where preparation and integration sessions go on, and a session can also be booked while
another one is in progress. A booked session starts with its first pre-dose \`VitalsRecorded\` (→
\`dosingSession\`), or with its \`DoseAdministered\` when the policy does not require pre-dose vitals (→
\`dosingSession.dosed\`). \`DosingSessionAborted\` cancels a booked session that has not started (the episode
stays between sessions) and ends the session in progress. A session is completed (\`DosingSessionCompleted\`)
only after a dose (else \`session-not-dosed\`: abort it instead) and, by default, post-dose vitals. One session
is in progress at a time: an in-session event (vitals, dose, completion, abort) that names another session
while one is in progress is refused with \`session-in-progress\`; one that names a session that has ended, with
\`no-session-in-progress\`; one that names a session never booked, with \`unknown-session\`. A session id
cannot be booked twice (\`duplicate-session\`).`;

/** Replays the story the prose tells and fails generation if the model does something else. */
function checkSessionsProse() {
  const at = (m) => new Date(Date.parse('2026-03-02T10:00:00Z') + m * 60_000).toISOString();
  let n = 0;
  const ev = (type, payload = {}) => ({
    id: `ep-sessions-e${++n}`,
    episodeId: 'ep-sessions',
    patientId: 'pt-synthetic-sessions',
    type,
    at: at(n),
    v: EVENT_SCHEMA_VERSION,
    synthetic: true,
    ...payload,
  });
  const dose = (sessionId) => ({
    sessionId,
    kind: 'full',
    doseMg: 300,
    route: 'sublingual',
    formulation: 'sublingual-lozenge',
  });
  const vitals = (sessionId, phase = 'pre') => ({ sessionId, phase, systolic: 120, diastolic: 80 });
  const book = (sessionId) => ({ sessionId, scheduledFor: at(600), mode: 'in-person' });
  const problems = [];
  let state = initialEpisodeState;
  /** Appends an event; `expect` is the phase after it, or the refusal code. */
  const step = (what, type, payload, expect) => {
    const d = decide(state, ev(type, payload));
    const got = d.ok ? phaseOf(d.state) : d.refusal.code;
    if (got !== expect) problems.push(`${what}: expected ${expect}, got ${got}`);
    if (d.ok) state = d.state;
  };
  // Up to the first booking: eligible, planned, prescribed, supplied and trained.
  for (const [type, payload] of [
    ['EpisodeOpened', {}],
    ['FitAssessed', { outcome: 'good-fit' }],
    ['MedicalEvaluationScheduled', { scheduledFor: at(10), mode: 'telehealth' }],
    ['MedicalEvaluationCompleted', { eligible: true }],
    [
      'TreatmentPlanCreated',
      { plannedDosingSessions: 4, monitoring: { measures: [{ instrument: 'phq9' }] } },
    ],
    [
      'PrescriptionIssued',
      {
        medication: 'ketamine',
        route: 'sublingual',
        formulation: 'sublingual-lozenge',
        doseMg: 300,
        dosesAuthorized: 2,
      },
    ],
    ['MedicationDelivered', { doses: 2 }],
    ['SelfAdministrationTrained', { vitalsTrained: true, selfAdministrationTrained: true }],
  ]) {
    const d = decide(state, ev(type, payload));
    if (!d.ok) problems.push(`${type}: refused (${d.refusal.code})`);
    else state = d.state;
  }
  step('booking a session', 'DosingSessionScheduled', book('a'), 'preparation');
  step(
    'a preparation session after booking',
    'PreparationSessionCompleted',
    { mode: 'in-person' },
    'preparation',
  );
  step('booking the same id again', 'DosingSessionScheduled', book('a'), 'duplicate-session');
  step('booking another session', 'DosingSessionScheduled', book('b'), 'preparation');
  step(
    'cancelling a booked session',
    'DosingSessionAborted',
    { sessionId: 'b', reason: 'patient-declined' },
    'preparation',
  );
  step('vitals for a cancelled session', 'VitalsRecorded', vitals('b'), 'no-session-in-progress');
  step('post-dose vitals before any dose', 'VitalsRecorded', vitals('a', 'post'), 'vitals-before-dose');
  step('pre-dose vitals of a booked session', 'VitalsRecorded', vitals('a'), 'dosing-session');
  step('booking during a session', 'DosingSessionScheduled', book('c'), 'dosing-session');
  step('vitals for another session', 'VitalsRecorded', vitals('c'), 'session-in-progress');
  step('completing without a dose', 'DosingSessionCompleted', { sessionId: 'a' }, 'session-not-dosed');
  step('the dose', 'DoseAdministered', dose('a'), 'dosing-session');
  step(
    'completing without post-dose vitals',
    'DosingSessionCompleted',
    { sessionId: 'a' },
    'post-dose-vitals-required',
  );
  step('post-dose vitals', 'VitalsRecorded', vitals('a', 'post'), 'dosing-session');
  step('completing', 'DosingSessionCompleted', { sessionId: 'a' }, 'dosing-course');
  step(
    'an integration session while c is booked',
    'IntegrationSessionCompleted',
    { mode: 'telehealth' },
    'dosing-course',
  );
  step('vitals for a session never booked', 'VitalsRecorded', vitals('nope'), 'unknown-session');
  step(
    'pre-dose vitals of the session booked during the last',
    'VitalsRecorded',
    vitals('c'),
    'dosing-session',
  );
  step(
    'aborting the session in progress',
    'DosingSessionAborted',
    { sessionId: 'c', reason: 'other' },
    'dosing-course',
  );
  if (problems.length) {
    console.error(
      `gen-episode-docs: the prose about dosing sessions no longer matches the model:\n  ${problems.join('\n  ')}\nUpdate SESSIONS_PROSE in scripts/gen-episode-docs.mjs.`,
    );
    process.exit(2);
  }
}

function sessionsSection() {
  checkSessionsProse();
  return SESSIONS_PROSE;
}

// ---------------------------------------------------------------------------------------------------------
// Events: from the zod schemas

const ENVELOPE = ['id', 'episodeId', 'patientId', 'type', 'at', 'v', 'recordedBy', 'synthetic', 'note'];

function jsonSchemaOf(schema) {
  return toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
}

/** A short type description from a JSON Schema node. */
function typeOf(s) {
  if (!s || typeof s !== 'object') return 'any';
  if (s.anyOf) return s.anyOf.map(typeOf).join(' or ');
  if (Array.isArray(s.type)) return s.type.map((type) => typeOf({ ...s, type })).join(' or ');
  if (s.const !== undefined) return code(JSON.stringify(s.const));
  if (s.enum) return s.enum.map((v) => code(v)).join(', ');
  const bounds = [];
  if (s.exclusiveMinimum !== undefined) bounds.push(`> ${s.exclusiveMinimum}`);
  if (s.minimum !== undefined) bounds.push(`≥ ${s.minimum}`);
  if (s.maximum !== undefined) bounds.push(`≤ ${s.maximum}`);
  switch (s.type) {
    case 'string':
      if (s.format === 'date-time') return 'date-time with offset';
      if (s.minLength !== undefined || s.maxLength !== undefined)
        return `text (${s.minLength ?? 0}–${s.maxLength ?? '∞'} chars)`;
      return 'text';
    case 'integer':
      return `integer${bounds.length ? ` ${bounds.join(', ')}` : ''}`;
    case 'number':
      return `number${bounds.length ? ` ${bounds.join(', ')}` : ''}`;
    case 'boolean':
      return 'boolean';
    case 'null':
      return 'null';
    case 'array': {
      const n =
        s.minItems !== undefined || s.maxItems !== undefined
          ? ` (${s.minItems ?? 0}–${s.maxItems ?? '∞'} items)`
          : '';
      return `array of ${typeOf(s.items)}${n}`;
    }
    case 'object':
      if (s.properties) {
        const req = new Set(s.required ?? []);
        const fields = Object.entries(s.properties).map(
          ([k, v]) => `${k}${req.has(k) ? '' : '?'}: ${typeOf(v)}`,
        );
        return `{ ${fields.join('; ')} }`;
      }
      if (s.additionalProperties) return `map of text to ${typeOf(s.additionalProperties)}`;
      return 'object';
    default:
      return 'any';
  }
}

function fieldRows(schema, keys) {
  const js = jsonSchemaOf(schema);
  const required = new Set(js.required ?? []);
  return keys.map((k) => {
    const p = js.properties[k];
    if (k === 'type') {
      return [
        code(k),
        `one of the ${Object.keys(eventSchemas).length} event types below`,
        'required',
        'What the event records.',
      ];
    }
    if (k === 'policy') {
      return [
        code(k),
        'any of the rules of [the policy](#policy)',
        'optional',
        sentence(p.description ?? ''),
      ];
    }
    const presence =
      p.default !== undefined
        ? `default ${code(JSON.stringify(p.default))}`
        : required.has(k)
          ? 'required'
          : 'optional';
    return [code(k), esc(typeOf(p)), presence, p.description ? sentence(p.description) : dash];
  });
}

function eventsSection() {
  const out = [];
  const types = Object.keys(eventSchemas);
  const any = eventSchemas[types[0]];
  out.push(
    `Every event has the same envelope (schema version ${EVENT_SCHEMA_VERSION}) and a typed payload. Events are validated with zod; the JSON Schema of each can be generated with \`z.toJSONSchema(eventSchemas.X)\`.`,
    '',
    table(['Field', 'Type', 'Presence', 'Meaning'], fieldRows(any, ENVELOPE)),
    '',
    '`type` names the event. Ids must be unique in the episode (a repeated id is refused, so writes are idempotent); events must come in time order (an event timestamped before the last accepted one is refused).',
    '',
    `### The ${types.length} event types`,
    '',
    table(
      ['Event', 'What it records', 'Handled in'],
      types.map((t) => [
        `[${code(t)}](#${t.toLowerCase()})`,
        sentence(eventSchemas[t].meta()?.description ?? ''),
        handledIn(t)
          .map((p) => code(p))
          .join(', '),
      ]),
    ),
    '',
    'A state handles the events of its own transitions and of its ancestors (an event handled in `open` is handled in every state inside it). An event that the current state does not handle is refused with a reason, never ignored.',
    '',
  );
  for (const t of types) {
    const schema = eventSchemas[t];
    const keys = Object.keys(schema.shape).filter((k) => !ENVELOPE.includes(k));
    out.push(
      `<a id="${t.toLowerCase()}"></a>`,
      '',
      `#### ${t}`,
      '',
      sentence(schema.meta()?.description ?? ''),
      '',
    );
    out.push(
      keys.length ? table(['Field', 'Type', 'Presence', 'Meaning'], fieldRows(schema, keys)) : 'No payload.',
      '',
    );
  }
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// Policy

function policySection() {
  const docs = Object.fromEntries(interfaceFields(policySrc, 'EpisodePolicy').map((f) => [f.name, f.doc]));
  const perEpisode = new Set(
    Object.keys(jsonSchemaOf(eventSchemas.EpisodeOpened).properties.policy.properties),
  );
  const perPlan = new Set(Object.keys(eventSchemas.TreatmentPlanCreated.shape));
  const keys = Object.keys(defaultPolicy);
  sameSet('policy rules', keys, policySources);
  const rows = keys.map((k) => {
    const where = [perEpisode.has(k) ? 'episode' : null, perPlan.has(k) ? 'plan' : null].filter(Boolean);
    return [
      code(k),
      code(JSON.stringify(defaultPolicy[k])),
      docs[k] ? sentence(docs[k]) : dash,
      where.length ? where.join(', ') : dash,
      sentence(policySources[k]),
    ];
  });
  const monitoring = defaultMonitoringPlan.measures
    .map(
      (m) =>
        `${code(m.instrument)} (baseline${m.beforeEachDoseWithinDays ? `, within ${m.beforeEachDoseWithinDays} days before each dosing session` : ''}${m.everyDays ? `, at least every ${m.everyDays} days` : ''})`,
    )
    .join(' and ');
  return [
    'Every threshold and rule the episode applies is a field of `EpisodePolicy`, with a default and the source of that default. kapkit checks and records; clinicians decide. A clinic can change the defaults for all its episodes (`createEpisodeModel({ policy })`), an episode can override any rule when it is opened (`EpisodeOpened.policy`), and a treatment plan can set its own critical period and follow-up interval (`TreatmentPlanCreated`).',
    '',
    table(['Rule', 'Default', 'What it does', 'Override per', 'Source of the default'], rows),
    '',
    `Until a treatment plan sets the episode's own monitoring plan, the default is ${monitoring}. The initial medication supply covers ${INITIAL_SUPPLY_SESSIONS} dosing sessions (seed); demo data and the low-medication alert use that.`,
    '',
    'A blood-pressure hold is a default, not a prohibition: a clinician can give the dose with `DoseAdministered.vitalsOverride`, which records who overrode the hold and why.',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// Critical periods: a worked example computed by the code

function criticalSection() {
  const seedDays = CRITICAL_PERIOD_DEFAULTS.seedWindowDays;
  const researchHours = CRITICAL_PERIOD_DEFAULTS.researchWindowHours;
  const doses = [
    { at: '2026-03-02T10:00:00-05:00' },
    { at: '2026-03-12T10:00:00-05:00' },
    { at: '2026-04-01T10:00:00-05:00' },
  ];
  const until = '2026-04-20T10:00:00-05:00';
  const example = (label, windowMs) => {
    const a = analyzeCriticalPeriods(doses, { windowMs, until });
    return [
      label,
      a.windows
        .map((w) => `${w.doseNumber}: ${w.start.slice(0, 10)} → ${w.end.slice(0, 16).replace('T', ' ')}`)
        .join('<br>'),
      a.overlaps.length
        ? a.overlaps.map((o) => `${o.from}→${o.to} (${days(o.overlapMs)})`).join(', ')
        : 'none',
      a.chains.map((c) => `[${c.doses.join(', ')}]`).join(' '),
      a.gaps.length
        ? a.gaps.map((g) => `${days(g.durationMs)} after dose ${g.afterDose}`).join(', ')
        : 'none',
      a.coverage ? `${num(Math.round(a.coverage.fraction * 1000) / 10)} %` : dash,
      a.nextDoseDeadline
        ? `before ${a.nextDoseDeadline.before} (last day ${a.nextDoseDeadline.latestDay})`
        : dash,
    ];
  };
  return [
    `Ketamine's benefits to mood and neuroplasticity are described as lasting "up to two weeks after a single ketamine experience"; the seed calls that window the **critical period**, and a course of KAP aims for dosing and integration sessions with **overlapping critical periods**. kapkit models it literally: each dosing session's dose opens a window \`[doseAt, doseAt + W)\` (a booster in the same session does not open a new one).`,
    '',
    `- **W, default ${seedDays} days**, the seed's model (policy \`criticalPeriodDays\`). Spine density after one dose stayed raised for up to 2 weeks in mice (Phoumthipphavong et al. 2016, eNeuro).`,
    `- **${researchHours} h** is the conservative research alternative: in mice, ketamine reopened the social-reward critical period for about 48 hours (Nardou et al. 2023, Nature 618:790), against two weeks for psilocybin or MDMA. Set \`criticalPeriodDays: ${num(researchHours / 24)}\` on the plan or the episode to use it.`,
    '',
    'From the doses and W, `analyzeCriticalPeriods` derives:',
    '',
    '- **windows**, one per dose, in time order; a window end is shown in the UTC offset of its dose, and time is elapsed time (a day is 86,400,000 ms; daylight-saving changes are not applied);',
    '- **overlaps** of consecutive windows: dose k + 1 falls strictly inside the window of dose k;',
    '- **chains**: maximal runs of doses, each inside the previous window; a dose exactly at the end of a window starts a new chain but leaves no gap;',
    '- **coverage**: how much of the span from the first dose to `until` (by default the end of the last window) the union of the windows covers, and the **gaps** it leaves;',
    '- **the next-dose deadline**: the end of the last window; a dose strictly before it keeps the chain unbroken, and `latestDay` is the last calendar day on which that is still possible;',
    '- for any instant (an assessment, say), `locateInCriticalPeriods` gives the windows it falls in and the days since the last dose; `wouldKeepChain` says whether a planned dose would keep the chain.',
    '',
    `Example, computed by the code: doses on ${doses.map((d) => d.at.slice(0, 10)).join(', ')}, coverage counted until ${until.slice(0, 10)}.`,
    '',
    table(
      ['W', 'Windows', 'Overlaps', 'Chains', 'Gaps', 'Coverage', 'Next dose'],
      [
        example(`${seedDays} days (default)`, windowMsFromDays(seedDays)),
        example(`${researchHours} h (research)`, windowMsFromHours(researchHours)),
      ],
    ),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// statusAt: fields from the source, alerts checked against the source, and a worked example

function exampleEpisode() {
  const start = Date.parse('2026-03-02T10:00:00-05:00');
  const at = (d) => `${new Date(start + d * DAY_MS - 5 * 3_600_000).toISOString().slice(0, 19)}-05:00`;
  let n = 0;
  const ev = (d, type, payload = {}) => ({
    id: `ep-doc-e${++n}`,
    episodeId: 'ep-doc',
    patientId: 'pt-synthetic-doc',
    type,
    at: at(d),
    v: EVENT_SCHEMA_VERSION,
    synthetic: true,
    ...payload,
  });
  const dose = {
    sessionId: 's1',
    kind: 'full',
    doseMg: 300,
    route: 'sublingual',
    formulation: 'sublingual-lozenge',
  };
  const events = [
    ev(0, 'EpisodeOpened'),
    ev(0.04, 'FitAssessed', { outcome: 'good-fit' }),
    ev(3, 'MedicalEvaluationScheduled', { scheduledFor: at(7), mode: 'telehealth' }),
    ev(7, 'MedicalEvaluationCompleted', { eligible: true }),
    ev(7.01, 'TreatmentPlanCreated', {
      plannedDosingSessions: 6,
      monitoring: { measures: [{ instrument: 'phq9', everyDays: 28 }, { instrument: 'gad7' }] },
    }),
    ev(7.02, 'PrescriptionIssued', {
      medication: 'ketamine',
      route: 'sublingual',
      formulation: 'sublingual-lozenge',
      doseMg: 300,
      dosesAuthorized: 2,
    }),
    ev(10, 'MedicationDelivered', { doses: 2 }),
    ev(10.02, 'SelfAdministrationTrained', { vitalsTrained: true, selfAdministrationTrained: true }),
    ev(12, 'AssessmentRecorded', {
      instrument: 'phq9',
      responses: [2, 2, 2, 2, 1, 2, 1, 1, 0],
      context: 'baseline',
    }),
    ev(12.01, 'AssessmentRecorded', {
      instrument: 'gad7',
      responses: [2, 2, 2, 1, 1, 1, 1],
      context: 'baseline',
    }),
    ev(12.05, 'PreparationSessionCompleted', { mode: 'in-person', intentionsSet: true }),
    ev(14, 'DosingSessionScheduled', { sessionId: 's1', scheduledFor: at(14.05), mode: 'in-person' }),
    ev(14.04, 'VitalsRecorded', { sessionId: 's1', phase: 'pre', systolic: 124, diastolic: 78 }),
    ev(14.05, 'DoseAdministered', dose),
    ev(14.12, 'VitalsRecorded', { sessionId: 's1', phase: 'post', systolic: 128, diastolic: 80 }),
    ev(14.13, 'DosingSessionCompleted', { sessionId: 's1', durationMinutes: 120 }),
    ev(16, 'IntegrationSessionCompleted', { mode: 'telehealth', sessionId: 's1' }),
    ev(16.05, 'AssessmentRecorded', {
      instrument: 'phq9',
      responses: [1, 1, 1, 1, 1, 1, 0, 1, 1],
      context: 'integration',
    }),
  ];
  const r = replay(events);
  if (r.refusals.length)
    throw new Error(`gen-episode-docs: example refused: ${JSON.stringify(r.refusals[0])}`);
  return { state: r.state, asOf: at(25.5) };
}

function statusSection() {
  const fields = interfaceFields(statusSrc, 'EpisodeStatus');
  sameSet(
    'EpisodeStatus fields',
    fields.map((f) => f.name),
    STATUS_FIELDS,
  );
  const alertCodes = unionAfter(interfaceBody(statusSrc, 'EpisodeAlert'), 'readonly code:');
  sameSet('alert codes', alertCodes, ALERTS);
  const { state, asOf } = exampleEpisode();
  const s = statusAt(state, asOf);
  const summary = [
    ['phase', code(s.phase)],
    ['dosesGiven / plannedDosingSessions', `${s.dosesGiven} / ${s.plannedDosingSessions}`],
    ['dosesOnHand / dosesAuthorized', `${s.dosesOnHand} / ${s.dosesAuthorized}`],
    ['followUp', s.followUp ? `due ${s.followUp.dueAt}, overdue: ${s.followUp.overdue}` : 'null'],
    [
      'criticalPeriods.open',
      s.criticalPeriods.open.map((w) => `dose ${w.doseNumber} until ${w.end}`).join(', ') || 'none',
    ],
    ['criticalPeriods.nextDoseLatestDay', String(s.criticalPeriods.nextDoseLatestDay)],
    ['measures', s.measures.map((m) => `${m.instrument} ${m.rule}: ${m.status}`).join('; ')],
    [
      'unreviewedSafetyFlags',
      s.unreviewedSafetyFlags.map((f) => `${f.rule} (item ${f.item} = ${f.value})`).join(', ') || 'none',
    ],
  ];
  return [
    '`statusAt(state, asOf)` reports an episode as of a point in time. It is pure: `asOf` is an argument, so the same events and the same `asOf` always give the same answer, in tests, in a nightly job or in a dashboard.',
    '',
    table(
      ['Field', 'Meaning'],
      fields.map((f) => [code(f.name), sentence(f.doc || STATUS_FIELDS[f.name])]),
    ),
    '',
    '### Alerts',
    '',
    table(
      ['Alert', 'Severity', 'When'],
      alertCodes.map((c) => [code(c), ALERTS[c].severity, sentence(ALERTS[c].meaning)]),
    ),
    '',
    'A positive PHQ-9 item 9 is never dropped silently: it is flagged on the assessment, kept in `safetyFlags` (reviewed or not), reported as an urgent alert until a `SafetyFlagReviewed` event records the follow-up, and even a refused, invalid assessment carries the flags of its valid answers in the refusal.',
    '',
    `### Example`,
    '',
    `A synthetic episode (built by this script): eligible, planned for 6 dosing sessions, 2 doses delivered, first dose on ${s.criticalPeriods.analysis.windows[0]?.start ?? '?'}, one integration session, and a PHQ-9 at that session with item 9 answered 1. Its status at ${asOf}:`,
    '',
    table(
      ['Field', 'Value'],
      summary.map(([k, v]) => [code(k), esc(v)]),
    ),
    '',
    table(
      ['Alert', 'Severity', 'Message'],
      s.alerts.map((a) => [code(a.code), a.severity, esc(a.message)]),
    ),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// The page

function phasesSection() {
  const phases = unionAfter(decideSrc, 'export type EpisodePhase =');
  sameSet('phases', phases, PHASES);
  return table(
    ['Phase', 'Meaning'],
    phases.map((p) => [code(p), sentence(PHASES[p])]),
  );
}

function render() {
  const refusalRows = Object.entries(refusalCodes).map(([c, m]) => [code(c), sentence(m)]);
  return `# The KAP episode model

<!-- Generated by scripts/gen-episode-docs.mjs from the episode model in @kapkit/core (episodeMachine,
     eventSchemas, defaultPolicy, policySources, refusalCodes, analyzeCriticalPeriods, statusAt). Do not edit by
     hand: change the code, rebuild, and run \`node scripts/gen-episode-docs.mjs\`. \`npm test\` fails when this
     file is out of date. -->

This page describes how kapkit records one course of ketamine-assisted psychotherapy (KAP): the steps of a
course, the events that record them, the state machine that decides which event may come next, the policy it
applies, the reasons it gives when it refuses an event, the critical periods that doses open, and the status
it reports at any point in time. It is generated from the code, so what you read here is what kapkit does.

> kapkit records, checks policy and reports. It does not prescribe: clinicians decide. Every threshold below
> is a configurable default with its source.

## What an episode is

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

Each of these steps is recorded as an immutable, timestamped **event** (\`FitAssessed\`,
\`DoseAdministered\`, \`EpisodeCompleted\`, …). The state of an episode is a fold of its events: nothing is
stored that cannot be recomputed from them. A state machine decides whether an event may be appended; when it
may not, the event is refused with a stable code and a sentence that says why.

\`\`\`ts
import { decide, initialEpisodeState, replay, statusAt } from '@kapkit/core';

const d = decide(initialEpisodeState, event);      // { ok: true, state } or { ok: false, refusal }
if (!d.ok) console.log(d.refusal.code);            // e.g. 'vitals-hold'
const { state, refusals } = replay(events);        // fold a log; refused events are reported and skipped
statusAt(state, '2026-05-01T09:00:00-04:00');      // phase, medication, measures due, critical periods, alerts
\`\`\`

### Phases

\`phaseOf(state)\` names where an episode is, in the words of the course rather than of the machine:

${phasesSection()}

## The state machine

The episode is an [XState v5](https://stately.ai/docs) machine, \`episodeMachine\` (version ${EPISODE_MACHINE_VERSION};
\`createEpisodeMachine\` builds one with another instrument registry or policy). Each transition is guarded by
the data rules; each accepted event is folded into the context by the pure reducer \`evolve\`. The diagram is
generated from the machine definition. Transitions are labelled \`Event [guard]\`; \`[else]\` marks the
transition taken when the guard of the one before it fails. Loops on a simple state are events it records
without changing state; events that a compound state records without changing state (for example
assessments, which are accepted throughout \`open\`) are listed in the table below, because Mermaid cannot
draw a loop on a nested compound state ([mermaid-js/mermaid#4866](https://github.com/mermaid-js/mermaid/issues/4866)).

${mermaid()}

Guards:

${Object.entries(GUARDS)
  .map(([g, text]) => `- \`${g}\`: ${text}${guardsUsed.includes(g) ? '' : ' (not used by any transition)'}.`)
  .join('\n')}

\`EpisodeResumed\` returns to the **deep history** of \`open\`: a paused episode resumes in the exact state it
was paused in (for example \`medicalEvaluation.scheduled\`, or \`treatment.betweenSessions\`).

${sessionsSection()}

${machineTable()}

## Events

${eventsSection()}
## Policy

${policySection()}

## Refusals

\`decide\` never ignores an event silently and never throws on bad input: an event it does not accept comes
back as a \`Refusal\` with a stable \`code\` (callers may switch on it), a \`message\` for people, the \`event\`,
and, for schema and assessment problems, the \`issues\` found. A refused assessment still carries the safety
flags of its valid answers (\`safetyFlags\`), so a positive PHQ-9 item 9 is never lost because another answer
was invalid. \`replay\` reports each refusal with the index of the event in the log and goes on.

${table(['Code', 'Meaning'], refusalRows)}

## Critical periods

${criticalSection()}

## Status at a point in time

${statusSection()}

## Time

- **No timers.** The machine has no delayed transitions and reads no clock: follow-ups, measures due and
  critical periods are computed from event timestamps and an explicit \`asOf\` (\`statusAt(state, asOf)\`).
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
- **Order.** Events must be appended in time order; equal timestamps are allowed. An event timestamped before
  the last accepted one is refused (\`out-of-order\`).

## Persistence

\`persistEpisode(state)\` returns a JSON-serialisable snapshot tagged with the machine version
(${EPISODE_MACHINE_VERSION}); \`restoreEpisode(persisted)\` restores it, history included, so a paused episode
resumes where it was. A snapshot made by another machine version is refused with a \`SnapshotVersionError\`:
rebuild the state by replaying the episode's events, which are the source of truth.
`;
}

// ---------------------------------------------------------------------------------------------------------

const generated = render();

if (check) {
  const current = existsSync(outFile) ? readFileSync(outFile, 'utf8') : null;
  if (current !== generated) {
    console.error(
      `${outName} is out of date${current === null ? ' (missing)' : ''}: it differs from what scripts/gen-episode-docs.mjs generates from the episode model. Run \`node scripts/gen-episode-docs.mjs\` and commit the result.`,
    );
    process.exit(1);
  }
  console.log(`${outName} is up to date.`);
} else {
  writeFileSync(outFile, generated);
  console.log(
    `wrote ${outName} (${Object.keys(eventSchemas).length} event types, ${allNodes.length} states)`,
  );
}
