// Generates docs/episode.md from the KAP episode model in @kapkit/core (the machine definition, the event
// schemas and their upcaster, the permission table, the policy, the refusal and alert codes, the critical-period
// analysis and statusAt), so that the documentation cannot drift from the code.
//
//   node scripts/gen-episode-docs.mjs           write docs/episode.md
//   node scripts/gen-episode-docs.mjs --check   exit 1 if docs/episode.md is not what would be written
//
// Reads the built package (packages/core/dist): run `npm run build` first. A few things TypeScript erases (the
// doc comments of EpisodePolicy and EpisodeStatus, the EpisodePhase union) are read from packages/core/src,
// and so is the permission table's sources when the package does not export them. The prose about each phase,
// guard, root-level transition, refusal code and alert is written here, and generation fails if the code has
// one that this script does not describe (or describes one that is gone), or if the model no longer does what
// the prose says: the script replays small synthetic episodes (dosing sessions, the safety layer, consent,
// medications, titration and maintenance, clinical time and corrections, alerts) and fails on any difference.
// The tables of examples in the page are their results.
// The output is deterministic (no dates of the day, no machine details), so the check can run in CI.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { toJSONSchema } from 'zod';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outFile = join(root, 'docs', 'episode.md');
const outName = relative(root, outFile);
const coreDir = join(root, 'packages', 'core');
const distEntry = join(coreDir, 'dist', 'index.js');
const coreSrc = join(coreDir, 'src');
const episodeSrc = join(coreSrc, 'episode');

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
  alertCodes,
  analyzeCriticalPeriods,
  builtinInstruments,
  createEpisodeModel,
  decide,
  defaultMonitoringPlan,
  defaultPolicy,
  episodeMachine,
  eventSchemas,
  formatInOffset,
  initialEpisodeState,
  phaseOf,
  policySources,
  refusalCodes,
  statusAt,
  upcastEvent,
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
  if (existsSync(coreSrc) && newest(coreSrc) > built) {
    console.error(
      'gen-episode-docs: warning: packages/core/src is newer than packages/core/dist; run `npm run build` so the docs match the source.',
    );
  }
}

/** Stops generation with a message that says what to update. */
function fail(message) {
  console.error(`gen-episode-docs: ${message}`);
  process.exit(2);
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
  return /[.!?]\)?$/.test(t) ? t : `${t}.`;
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

/** A policy value as written in the docs: lists as their items. */
function policyValue(v) {
  return Array.isArray(v) ? v.map((x) => code(x)).join(', ') : code(JSON.stringify(v));
}

// ---------------------------------------------------------------------------------------------------------
// What TypeScript erases, read from the source

function source(file) {
  const path = join(episodeSrc, file);
  if (!existsSync(path)) {
    fail(`${relative(root, path)} not found (the docs read doc comments from it).`);
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

/**
 * The value of `export const name ... = { ... };` when it is a literal of strings (no code): evaluated on its
 * own, for objects the package does not export.
 */
function objectLiteral(src, name) {
  const start = src.indexOf(`export const ${name}`);
  if (start < 0) throw new Error(`gen-episode-docs: ${name} not found`);
  const open = src.indexOf('= {', start) + 2;
  let depth = 0;
  let quote = null;
  for (let i = open; i < src.length; i++) {
    const ch = src[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"' || ch === '`') quote = ch;
    else if (ch === '{') depth++;
    else if (ch === '}' && --depth === 0)
      return Function(`"use strict"; return (${src.slice(open, i + 1)});`)();
  }
  throw new Error(`gen-episode-docs: ${name} is not closed`);
}

/** Fails generation unless the code and the prose of this script name the same things. */
function sameSet(what, inCode, described) {
  const missing = inCode.filter((x) => !(x in described));
  const gone = Object.keys(described).filter((x) => !inCode.includes(x));
  if (missing.length || gone.length) {
    fail(
      `the ${what} in the code and in this script differ: ${missing.length ? `not described: ${missing.join(', ')}` : ''}${missing.length && gone.length ? '; ' : ''}${gone.length ? `described but not in the code: ${gone.join(', ')}` : ''}. Update scripts/gen-episode-docs.mjs.`,
    );
  }
}

const policySrc = source('policy.ts');
const statusSrc = source('status.ts');
const phasesSrc = source('phases.ts');

// The permission table: exported by newer builds; else the default model's table and the sources from the source.
const permissionTable = core.defaultPermissions ?? createEpisodeModel().permissions;
const permissionSources =
  core.permissionSources ?? objectLiteral(source('permissions.ts'), 'permissionSources');
const roles = core.recordedByRoles;
{
  const types = Object.keys(eventSchemas);
  const missing = types.filter((t) => !Array.isArray(permissionTable[t]) || permissionTable[t].length === 0);
  if (missing.length) fail(`the permission table has no row for ${missing.join(', ')}.`);
}
const primaryRole = (type) => permissionTable[type][0];

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
    'At least one dose was given, no session in progress: integration sessions, booking and further dosing sessions, follow-ups, refills and re-evaluations.',
  maintenance:
    'The medical team planned maintenance (`MaintenancePlanned`) after the initial course (or before its planned sessions are done, with a reason): further dosing sessions every `intervalDays`, under the same gates as the initial course, and reported apart from it. No session is in progress (one in progress is `dosing-session`).',
  paused:
    'Treatment is paused until it resumes where it left off. Assessments, adverse events, safety-flag and adverse-event reviews, voids, consents, consent withdrawals and medication reviews are still recorded, and, once the patient was found eligible, medical follow-ups, refills and deliveries; nothing else.',
  completed:
    'The course ended: as planned, or short of the plan with a recorded reason. Only adverse events, reviews, voids and consent withdrawals are still recorded (see [Closed is not final](#closed-is-not-final)).',
  discontinued:
    'The course ended early (patient choice, ineligibility, adverse event, …). Only adverse events, reviews, voids and consent withdrawals are still recorded.',
};

const GUARDS = {
  allowed:
    'the data rules of `checkEvent` (packages/core/src/episode/rules.ts): the event is accepted only if no rule refuses it',
  openedAndAllowed:
    'the episode has been opened and no rule of `checkEvent` refuses the event. It guards the root-level transitions, which every state takes once the episode is open, paused and closed ones included',
  goodFit: 'the fit assessment says `good-fit`',
  eligible:
    'the medical evaluation found the patient eligible and no rule of `checkEvent` refuses it (eligibility despite an absolute contraindication needs a `contraindicationOverride` with a reason). The next branch is guarded by `allowed`, not taken otherwise: an evaluation that says eligible but is refused by a rule is refused with that rule’s code (`contraindicated`, for example) instead of being read as not eligible',
  pausedInTreatment:
    'the medical evaluation found the patient eligible and no rule of `checkEvent` refuses the event (medical follow-ups, refills and deliveries go on while treatment is paused)',
};

/** The root-level transitions: events every state takes once the episode is open. */
const ROOT_EVENTS = {
  AdverseEventReported:
    'late reports happen, so an adverse event is accepted in every phase, closed episodes included; a report naming a session the episode does not know is kept and flagged (`unknownSession`), never refused for it',
  AdverseEventReviewed:
    'a clinician reviews an adverse event (refused `unknown-adverse-event` if the episode has no such report)',
  SafetyFlagReviewed:
    'a clinician follows up a safety flag (refused `unknown-safety-flag` if the episode has no such flag)',
  EventVoided:
    'a clinician marks an earlier event as entered in error (see [Entered in error](#entered-in-error))',
  ConsentWithdrawn:
    'a patient may withdraw consent at any time, after the course too (research use), so a withdrawal is accepted in every phase once the episode is open, closed episodes included, and recorded by the patient or a clinician; a scope never consented to may be withdrawn too (a research opt-out). See [Informed consent](#informed-consent)',
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
  criticalPeriods: 'Critical periods of the initial course.',
  vitalsHold:
    'A dosing session is in progress without a dose and its last pre-dose reading is beyond a hold threshold (blood pressure, heart rate or SpO₂).',
  unreviewedAdverseEvents:
    'Adverse events that need a review (severe, serious, suicidal ideation) or are moderate, not yet reviewed.',
  treatmentStopped:
    'The treatment stop in force, if any: the event that decided it, when, and whether a follow-up or a re-evaluation.',
  outcomes:
    'For each outcome measure with a response definition: baseline, latest, response, reliable deterioration, most severe band.',
  consent:
    'Informed consent as of now: whether the policy requires it, the scopes in force (given and not withdrawn), the scopes withdrawn, the latest consent recorded.',
  medications:
    'Concurrent medications from the latest review: its date, the classes, the total benzodiazepine dose in mg diazepam-equivalent a day, and the findings (see [Concurrent medications](#concurrent-medications)).',
  maintenance:
    'The maintenance phase, reported apart from the initial course (null when none is planned): plan date, interval, maintenance sessions dosed, the last dose, when the next is due and its status, and the critical periods of the maintenance doses alone.',
  alerts: 'Alerts for the people caring for the patient (see below).',
};

/** What the doc comment of a status field leaves out, written after it. */
const STATUS_MORE = {
  criticalPeriods:
    'The window length in days, the windows open at `asOf` (maintenance windows included), the full analysis (windows, overlaps, chains, coverage, gaps) of the initial course’s doses given by `asOf`, and the deadline of the next dose that keeps the chain unbroken (`nextDoseBefore`, `nextDoseLatestDay`; null when the episode is not active, before the first dose, when the planned course is done, or once maintenance is planned).',
  consent:
    '`required` (the policy `requireInformedConsent`), `inForce` (scopes given and not withdrawn), `withdrawn` (every scope the patient withdrew, consented to or not, even when consented to again since), `latest` (the latest consent recorded).',
  medications:
    '`reviewedAt`, `classes`, `diazepamEquivalentMgPerDay` (total over the benzodiazepines that can be converted; null when none can) and `findings`, each raising a `medication-interaction` alert (see [Concurrent medications](#concurrent-medications)).',
  maintenance:
    '`plannedAt`, `intervalDays`, `sessions` (maintenance sessions dosed), `lastDoseAt`, `nextDueAt` (the last maintenance dose, or the plan, + `intervalDays`), `status` (`not-due`, `due`, or `overdue` once more than `measureGraceDays` late; `not-due` while the episode is not active) and the `criticalPeriods` of the maintenance doses alone.',
};

const phq9 = core.phq9;
const phq9Response = phq9.outcomes?.response?.fraction;
const phq9Reliable = phq9.change?.fixedPoints?.value;
const phq9Severe = phq9.bands?.[phq9.bands.length - 1];

/** When each alert is raised and when it clears (severities are observed by replaying episodes). */
const ALERTS = {
  'safety-flag':
    'Raised for each positive safety item of an accepted assessment (PHQ-9 item 9 > 0: thoughts of being better off dead or of self-harm), patient-reported ones marked so. Cleared by a clinician’s `SafetyFlagReviewed`. Until then, doses are refused (`safety-review-required`).',
  'safety-item-unanswered':
    'Raised for each safety item left blank in an accepted assessment (an assessment with every item blank is refused). Cleared by a clinician’s `SafetyFlagReviewed` for that rule; it does not block doses.',
  'adverse-event':
    'An adverse event not yet reviewed: urgent when severe, serious or `suicidal-ideation` (those also block doses until reviewed), warning when moderate, none when mild. Raised in every phase, closed episodes included; the message says so when the report names a session the episode does not know. Cleared by a clinician’s `AdverseEventReviewed`.',
  'late-entry':
    'A positive safety flag, an adverse event that needs a review, or a treatment stop is dated before a dose but was recorded after it: the dose went ahead because nobody knew, and had it been known it would have been refused. One alert per such dose; it stays until the signal is reviewed or the stop is lifted.',
  'treatment-stopped':
    'While a treatment stop is in force (`MedicalFollowUpCompleted { continueTreatment: false }`, or a re-evaluation during treatment that finds the patient not eligible). Cleared by a new prescription, an eligible re-evaluation or a follow-up that continues treatment.',
  'vitals-hold':
    'A dosing session is in progress without a dose and its last pre-dose reading is beyond a hold threshold (blood pressure, heart rate or SpO₂). Cleared by a reading within the thresholds, by the dose (with the medical team’s override), or by ending the session.',
  'vitals-alert':
    'One per reading (pre, during or post-dose) of the latest dosing session with vitals that is beyond an alert threshold (`alertSystolicAbove`, `alertDiastolicAbove`, `alertHeartRateAbove`, `alertSpo2Below`). It stands until a later session records vitals.',
  'follow-up-overdue':
    'After the first dose, the next medical follow-up (first dose or last follow-up + `followUpIntervalDays`) is past due. Kept while the episode is paused (medical monitoring goes on); cleared by a follow-up, or when the episode closes.',
  'measure-due':
    'A measure of the monitoring plan is due: a baseline before the first dose, one within `beforeEachDoseWithinDays` before the next booked dosing session, or a periodic one `everyDays` after the last. Only while the episode is active (not paused or closed); cleared by taking the measure.',
  'measure-overdue':
    'The booked dosing session’s time has passed without the measure, or a periodic measure is more than `measureGraceDays` late. Only while the episode is active.',
  'no-response': `An outcome measure with a response definition shows no response (PHQ-9: a reduction of at least ${num(phq9Response * 100)} % from baseline) at a score taken at or after dose number \`noResponseAfterDoses\`. Not raised in closed episodes.`,
  'reliable-deterioration': `The latest score is worse than the baseline (the last score at or before the first dose) by at least the instrument’s reliable-change threshold (PHQ-9: ${phq9Reliable} points). Not raised in closed episodes.`,
  'severe-symptoms': `The latest score is in the instrument’s most severe band (PHQ-9: ${phq9Severe.label.toLowerCase()}, ${phq9Severe.min}–${phq9Severe.max}). Not raised in closed episodes.`,
  'critical-period-chain-ending':
    'The last critical period closes within `chainWarningDays` while the episode is active and the planned course is not done: the next dose must come by the day shown to keep the chain unbroken.',
  'critical-period-chain-broken':
    'The last critical period has closed without a new dose while the planned course is not done; the next dose starts a new chain.',
  'low-medication':
    'Fewer doses on hand than `lowSupplyDoses` while the episode is active, prescribed and the planned course is not done (or maintenance is planned): arrange a follow-up and a refill.',
  'consent-missing':
    'The policy requires informed consent (`requireInformedConsent`) and no consent to KAP is in force while the episode is in planning, preparation, its dosing course or maintenance (not during a session in progress, not while paused or closed); the message says whether consent was never recorded or withdrawn. Cleared by `InformedConsentRecorded` with scope `kap`. A missing consent to remote sessions raises no alert: the telehealth dose is refused `consent-required`.',
  'medication-interaction':
    'One per finding in the latest medication review (see [Concurrent medications](#concurrent-medications)): a benzodiazepine above `benzodiazepineAlertAboveMgDiazepam` mg diazepam-equivalent a day or whose equivalent cannot be worked out, and every medication of an interaction class, with its source. Not raised in closed episodes; cleared by a review that no longer lists it. It never blocks a dose: the medical team decides.',
  'maintenance-session-due':
    'Maintenance is planned and its next session is due: `intervalDays` after the last maintenance dose (or after the plan, before any), info when due, warning when overdue by more than `measureGraceDays`. Only while the episode is active and no session is in progress; cleared by the next maintenance dose.',
};

/**
 * Every refusal code, grouped by what refuses it, with when it is given. The sentence of each code comes from
 * `refusalCodes`; the notes add what it does not say.
 */
const REFUSALS = [
  {
    title: 'Envelope: checked first, in every phase',
    codes: {
      'invalid-event':
        'The schema refuses it (the problems are in `issues`): a missing or wrong field, an unknown `type`, or a schema version other than 1 (upcast) or 2.',
      'wrong-episode': dash,
      'wrong-patient': dash,
      'duplicate-event-id':
        'Also for the id of a voided event: ids are never reused. A retry of a write that was stored is refused with this code, so writes are idempotent.',
      'not-permitted':
        'The permission table does not let `recordedBy` record this event type. Also a vitals-hold override whose `clinicianRole` is not `medical`.',
      'future-event':
        '`at` later than `recordedAt` + `clockToleranceMinutes`, or `at` or `recordedAt` later than the checking clock (`decide(state, e, { now })`) + the tolerance. Scheduling fields (`scheduledFor`) may lie in the future.',
      'already-opened': 'A second `EpisodeOpened`.',
    },
  },
  {
    title: 'Clinical time and corrections',
    codes: {
      'out-of-order':
        'A late entry (dated before the latest accepted event) that the history in clinical order is not valid with: the message and `invalidates` name the first later event it would invalidate. A late entry that is itself refused where its time puts it gets that refusal’s own code instead. (The sentence in the Meaning column is out of date: an event dated before the last accepted one is accepted when the history stays valid with it.)',
      'unknown-event': '`EventVoided` names no accepted event of the episode, or one already voided.',
      'cannot-void':
        '`EventVoided` names the `EpisodeOpened` (discontinue the episode instead) or another void (record the event again under a new id).',
      'void-would-invalidate':
        'The episode without the voided event is not valid: `invalidates` names the first later event that depends on it. Void that one first.',
    },
  },
  {
    title: 'Phase: the current state does not take this event type',
    codes: {
      'episode-not-opened': dash,
      'episode-closed':
        'Anything but adverse events, reviews, voids and consent withdrawals in a completed or discontinued episode (a new consent or a medication review included). (The sentence in the Meaning column is out of date: those are still recorded.)',
      'episode-paused': dash,
      'not-paused': '`EpisodeResumed` when the episode is not paused.',
      'not-allowed-in-phase':
        'Any other event the current phase does not take (e.g. `EpisodePaused` while paused).',
      'fit-not-established': 'Scheduling or completing the medical evaluation before a good-fit assessment.',
      'evaluation-not-scheduled':
        'Completing the medical evaluation before it was scheduled, or a `MedicationsReviewed` before the medical evaluation was scheduled (medications are reviewed at or after it).',
      'not-eligible':
        'Treatment events (plan, prescription, supply, training, sessions, follow-ups, refills, maintenance, completion) before the patient was found eligible.',
    },
  },
  {
    title: 'Treatment, supply and sessions',
    codes: {
      'no-treatment-plan': 'A prescription or a first dose without a treatment plan.',
      'no-prescription': 'A delivery, a refill or a dose without a prescription.',
      'supply-exceeds-authorized': dash,
      'refill-requires-follow-up':
        'A refill, or any prescription after the first, without a medical follow-up since the last prescription or refill (policy `refillRequiresFollowUp`).',
      'no-medication-on-hand':
        'Fewer doses on hand than the units the dose uses (its mg over the prescribed mg).',
      'training-required': dash,
      'preparation-required': dash,
      'integration-required': dash,
      'follow-up-overdue':
        'Only when the policy `refuseDoseWhenFollowUpOverdue` is on (off by default: an alert instead).',
      'no-dose-to-integrate': dash,
      'session-in-progress':
        'An in-session event naming another session while one is in progress, or an event that cannot happen during a session (a preparation session, say).',
      'no-session-in-progress': 'An in-session event naming a session that has not started or has ended.',
      'unknown-session':
        'An in-session event or an integration session naming a session that was never booked (one that names another session while one is in progress is refused `session-in-progress`).',
      'duplicate-session': dash,
      'pre-dose-vitals-required':
        'The first dose of a session without pre-dose vitals known when it was recorded (policy `requirePreDoseVitals`).',
      'vitals-hold':
        'The first dose of a session whose last pre-dose reading is beyond a hold threshold: blood pressure, heart rate or SpO₂ (the sentence in the Meaning column names only blood pressure), and no `vitalsOverride`.',
      'booster-without-dose': dash,
      'session-already-dosed': dash,
      'vitals-before-dose': dash,
      'session-not-dosed': dash,
      'post-dose-vitals-required': dash,
      'no-doses-given':
        'Completing the episode without any dose (discontinue it instead), or planning maintenance (`MaintenancePlanned`) before any dose of the initial course.',
    },
  },
  {
    title: 'Safety layer',
    codes: {
      'safety-review-required':
        'Any dose (boosters included) while a positive safety flag or a severe, serious or `suicidal-ideation` adverse event known when the dose was recorded has no review (policy `requireSafetyReviewBeforeDose`).',
      'treatment-stopped':
        'A dose, a booking or a refill while a treatment stop known when it was recorded is in force. A follow-up that continues treatment also lifts it.',
      contraindicated:
        'An eligible evaluation listing one of the policy `absoluteContraindications` without a meaningful `contraindicationOverride.reason`.',
      'reason-required':
        'A reason missing or shorter than `minReasonLength` letters or digits: completing a session within `observationMinutes` of its last dose or with the last post-dose blood pressure above the hold threshold, completing the episode short of its planned dosing sessions, a vitals-hold override, a session’s first dose whose mg departs from the treatment plan’s titration step, or planning maintenance before the planned dosing sessions of the initial course are done.',
      'dose-mismatch':
        'Route or formulation other than the prescription’s; a full dose above the prescribed mg, a half dose above half of it, a booster above `maxBoosterFraction` of it; more than `maxBoostersPerSession` boosters; a `unitsUsed` that does not follow from the mg.',
      'dosing-too-soon':
        'The first dose of a session less than `minHoursBetweenDosingSessions` after the first dose of the previous dosed session.',
      'chaperone-required':
        'Booking a telehealth dosing session without `chaperone: true`, or dosing in one (policy `requireChaperoneForRemoteDosing`).',
      'consent-required':
        'Any dose (boosters included) without consent to KAP in force, or a dose in a telehealth session without consent to remote sessions in force (policy `requireInformedConsent`). A withdrawal counts from when it was recorded: one recorded after the dose does not count against it. Booking is not refused: the gate is the dose.',
    },
  },
  {
    title: 'Assessments and reviews',
    codes: {
      'unknown-instrument': dash,
      'invalid-assessment': 'Also an assessment with every item unanswered (an empty form is not a measure).',
      'unknown-safety-flag': dash,
      'unknown-adverse-event': dash,
    },
  },
];

// ---------------------------------------------------------------------------------------------------------
// The machine: walked from its definition

function stateNodes(node) {
  return Object.values(node.states).flatMap((child) => [child, ...stateNodes(child)]);
}
const machineRoot = episodeMachine.root;
const allNodes = stateNodes(machineRoot);
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
const allTransitions = [machineRoot, ...allNodes].flatMap(transitionsOf);
// The Time section says the machine has no timers: keep it true.
const timed = [machineRoot, ...allNodes].filter((n) => n.after.length > 0 || n.invoke.length > 0);
if (timed.length) {
  fail(
    `${timed.map((n) => n.id).join(', ')} ${timed.length === 1 ? 'has' : 'have'} delayed transitions or invoked actors; the Time section of docs/episode.md says there are none. Update scripts/gen-episode-docs.mjs.`,
  );
}
const guardsUsed = [...new Set(allTransitions.map((t) => t.guard).filter((g) => g && g !== 'else'))];
sameSet('guards', Object.keys(episodeMachine.implementations.guards), GUARDS);

// The root-level transitions: every one is described, stays where it is, and is guarded by openedAndAllowed.
const rootTransitions = transitionsOf(machineRoot);
sameSet(
  'root-level transitions',
  rootTransitions.map((t) => t.event),
  ROOT_EVENTS,
);
for (const t of rootTransitions) {
  if (t.targets.length || t.guard !== 'openedAndAllowed') {
    fail(
      `the root-level transition on ${t.event} ${t.targets.length ? 'changes state' : `is guarded by ${t.guard}`}; the docs say root-level events are recorded in place once the episode is open. Update scripts/gen-episode-docs.mjs.`,
    );
  }
}

// Closed is not final: the page explains why; keep it true.
const CLOSED_STATES = ['completed', 'discontinued'];
{
  const finals = allNodes.filter((n) => n.type === 'final').map((n) => n.key);
  const closed = CLOSED_STATES.map((k) => machineRoot.states[k]);
  if (finals.length || closed.some((n) => n?.type !== 'atomic' || n.transitions.size > 0)) {
    fail(
      `the closed states are no longer atomic states without transitions of their own${finals.length ? ` (final: ${finals.join(', ')})` : ''}; the section "Closed is not final" says they are. Update scripts/gen-episode-docs.mjs.`,
    );
  }
}

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
  out.push(`  [*] --> ${machineRoot.initial.target[0].key}`);
  block(machineRoot, 2);
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
  return n === machineRoot ? `${code(n.key)} (root)` : code(n.path.join('.'));
}

function machineTable() {
  const rows = [];
  for (const n of [machineRoot, ...allNodes]) {
    const kind =
      n === machineRoot
        ? `root: its transitions apply in every state (starts in ${code(n.initial.target[0].key)})`
        : n.type === 'compound'
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
  const states = allNodes.filter((n) => n.transitions.has(event)).map((n) => code(n.path.join('.')));
  return machineRoot.transitions.has(event) ? ['every state (root), once opened', ...states] : states;
}

// ---------------------------------------------------------------------------------------------------------
// Synthetic episodes: the prose is checked against the model by replaying them, and their results are shown

const T0 = Date.parse('2026-03-02T15:00:00Z');
const OFFSET = '-05:00';
const MINUTE = 1 / 1440;
/** The instant `d` days after the start of every synthetic episode (10:00 at UTC−05:00), to the minute. */
const dayAt = (d) => formatInOffset(T0 + Math.round(d * 1440) * 60_000, OFFSET);

const problems = [];
const RX = (dosesAuthorized) => ({
  medication: 'ketamine',
  route: 'sublingual',
  formulation: 'sublingual-lozenge',
  doseMg: 300,
  dosesAuthorized,
});
const FULL = { kind: 'full', doseMg: 300, route: 'sublingual', formulation: 'sublingual-lozenge' };
const NORMAL = { systolic: 122, diastolic: 78, heartRate: 72, spo2: 98 };
const PHQ9_BASELINE = [2, 2, 2, 2, 1, 2, 1, 1, 0];

/**
 * A synthetic episode. Events are one minute apart unless `at` (days after T0) is given; `recordedAt` defaults
 * to the later of `at` and the latest time so far (a late entry is written now); `recordedBy` to the event
 * type's primary role.
 */
function story(name) {
  let n = 0;
  let clock = 0;
  const s = {
    state: initialEpisodeState,
    sent: [],
    lastDay: 0,
    ev(type, payload = {}, o = {}) {
      const at = o.at ?? clock + MINUTE;
      const recordedAt = o.recordedAt ?? Math.max(at, clock);
      s.lastDay = at;
      return {
        id: o.id ?? `${name}-e${++n}`,
        episodeId: name,
        patientId: `pt-synthetic-${name}`,
        type,
        at: dayAt(at),
        recordedAt: dayAt(recordedAt),
        v: EVENT_SCHEMA_VERSION,
        recordedBy: o.recordedBy ?? primaryRole(type),
        synthetic: true,
        ...payload,
      };
    },
    /** Decide an event (built by `ev`, or given as is with `o.raw`); apply it when accepted. */
    add(type, payload, o = {}) {
      s.lastDay = clock;
      const e = o.raw ?? s.ev(type, payload, o);
      const d = decide(s.state, e, o.now === undefined ? {} : { now: dayAt(o.now) });
      if (d.ok) {
        // The clock of the story moves with accepted events only.
        clock = Math.max(clock, s.lastDay);
        s.state = d.state;
        s.sent.push(e);
      }
      return { ...d, sent: e };
    },
    /** An event that must be accepted. */
    must(type, payload, o) {
      const d = s.add(type, payload, o);
      if (!d.ok) problems.push(`${name}: ${type} refused (${d.refusal.code}: ${d.refusal.message})`);
      return d;
    },
    /** The result of an event, checked: `expected` is the phase after it, or the refusal code. */
    expect(list, what, type, payload, o, expected) {
      const d = s.add(type, payload, o);
      const got = d.ok ? phaseOf(d.state) : d.refusal.code;
      if (got !== expected) {
        problems.push(
          `${name}: ${what}: expected ${expected}, got ${got}${d.ok ? '' : ` (${d.refusal.message})`}`,
        );
      }
      list?.push({ what, d });
      return d;
    },
    status(day) {
      return statusAt(s.state, dayAt(day));
    },
  };
  return s;
}

const CONSENT_DOC = 'KAP consent v3 (2026-01)';

/**
 * Opened, eligible, consent to KAP (unless `consent` is false), planned (with `titration` if given), prescribed
 * (300 mg sublingual lozenges), supplied, trained, baseline PHQ-9, prepared.
 */
function prepare(
  s,
  { planned = 4, supply = 4, monitoring = [{ instrument: 'phq9' }], consent = true, titration, opened } = {},
) {
  if (opened) s.must('EpisodeOpened', null, { raw: opened });
  else s.must('EpisodeOpened', {});
  s.must('FitAssessed', { outcome: 'good-fit' });
  s.must('MedicalEvaluationScheduled', { scheduledFor: dayAt(0.5), mode: 'telehealth' });
  s.must('MedicalEvaluationCompleted', { eligible: true });
  if (consent) s.must('InformedConsentRecorded', { scope: ['kap'], documentVersion: CONSENT_DOC });
  s.must('TreatmentPlanCreated', {
    plannedDosingSessions: planned,
    monitoring: { measures: monitoring },
    ...(titration ? { titration } : {}),
  });
  s.must('PrescriptionIssued', RX(supply));
  s.must('MedicationDelivered', { doses: supply });
  s.must('SelfAdministrationTrained', { vitalsTrained: true, selfAdministrationTrained: true });
  s.must('AssessmentRecorded', { instrument: 'phq9', responses: PHQ9_BASELINE, context: 'baseline' });
  s.must('PreparationSessionCompleted', { mode: 'in-person', intentionsSet: true });
}

/** A dosing session on `day`: booked, pre-dose vitals, a full dose, post-dose vitals 2 h later, completed; integration the next day. */
function dosingSession(s, sessionId, day, { integrate = true } = {}) {
  s.must(
    'DosingSessionScheduled',
    { sessionId, scheduledFor: dayAt(day + 5 * MINUTE), mode: 'in-person' },
    { at: day },
  );
  s.must('VitalsRecorded', { sessionId, phase: 'pre', ...NORMAL }, { at: day + 5 * MINUTE });
  s.must('DoseAdministered', { sessionId, ...FULL }, { at: day + 10 * MINUTE });
  s.must('VitalsRecorded', { sessionId, phase: 'post', ...NORMAL }, { at: day + 130 * MINUTE });
  s.must('DosingSessionCompleted', { sessionId, durationMinutes: 125 }, { at: day + 135 * MINUTE });
  if (integrate) s.must('IntegrationSessionCompleted', { mode: 'telehealth', sessionId }, { at: day + 1 });
}

/** How a case ended, for the tables: the phase it left the episode in, or the refusal code. */
function outcome(d) {
  if (d.ok) return `accepted (${code(phaseOf(d.state))})`;
  const inv = d.refusal.invalidates;
  return `refused ${code(d.refusal.code)}${inv ? `, invalidates the ${code(inv.type)} of ${inv.at.slice(0, 10)} (${code(inv.code)})` : ''}`;
}

function casesTable(list) {
  return table(
    ['Case', 'Result'],
    list.map((c) => [esc(c.what), c.d ? outcome(c.d) : esc(c.result)]),
  );
}

// Dosing sessions -----------------------------------------------------------------------------------------

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
  const s = story('ep-sessions');
  prepare(s);
  const vitals = (sessionId, phase = 'pre') => ({ sessionId, phase, ...NORMAL });
  const book = (sessionId) => ({ sessionId, scheduledFor: dayAt(3), mode: 'in-person' });
  const step = (what, type, payload, expected, o = {}) => s.expect(null, what, type, payload, o, expected);
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
  step('pre-dose vitals of a booked session', 'VitalsRecorded', vitals('a'), 'dosing-session', { at: 3 });
  step('booking during a session', 'DosingSessionScheduled', book('c'), 'dosing-session');
  step('vitals for another session', 'VitalsRecorded', vitals('c'), 'session-in-progress');
  step('completing without a dose', 'DosingSessionCompleted', { sessionId: 'a' }, 'session-not-dosed');
  step('the dose', 'DoseAdministered', { sessionId: 'a', ...FULL }, 'dosing-session', {
    at: 3 + 10 * MINUTE,
  });
  step(
    'completing without post-dose vitals',
    'DosingSessionCompleted',
    { sessionId: 'a' },
    'post-dose-vitals-required',
    {
      at: 3 + 125 * MINUTE,
    },
  );
  step('post-dose vitals', 'VitalsRecorded', vitals('a', 'post'), 'dosing-session', { at: 3 + 130 * MINUTE });
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
}

// The safety layer -----------------------------------------------------------------------------------------

const REASON = 'BP re-measured twice, patient asymptomatic; prescriber consulted by phone';
const PHQ9_ITEM9 = (value) => [1, 1, 1, 1, 1, 1, 0, 1, value];

/** The safety layer, replayed: the cases shown in the Safety layer section, each checked. */
function safetyCases() {
  const out = [];
  // Safety review before a dose; dose reconciliation; observation time; post-dose blood pressure.
  {
    const s = story('ep-safety-dose');
    prepare(s);
    s.must(
      'DosingSessionScheduled',
      { sessionId: 'a', scheduledFor: dayAt(2), mode: 'in-person' },
      { at: 1 },
    );
    s.must(
      'AssessmentRecorded',
      { instrument: 'phq9', responses: PHQ9_ITEM9(1), context: 'pre-dose' },
      {
        at: 2,
        recordedBy: 'patient',
      },
    );
    s.must('VitalsRecorded', { sessionId: 'a', phase: 'pre', ...NORMAL });
    const flagged = s.sent.at(-2).id;
    const review = { assessmentEventId: flagged, rule: 'phq9-item9-positive', outcome: 'no-current-risk' };
    s.expect(
      out,
      'A dose while the PHQ-9 item 9 answered 1 that morning is unreviewed',
      'DoseAdministered',
      { sessionId: 'a', ...FULL },
      {},
      'safety-review-required',
    );
    s.expect(
      out,
      'The patient records the review of their own flag',
      'SafetyFlagReviewed',
      review,
      { recordedBy: 'patient' },
      'not-permitted',
    );
    s.expect(out, 'The therapist records the review', 'SafetyFlagReviewed', review, {}, 'dosing-session');
    s.expect(
      out,
      'A dose by another route than the prescription’s (intravenous)',
      'DoseAdministered',
      { sessionId: 'a', ...FULL, route: 'intravenous', formulation: 'infusion' },
      {},
      'dose-mismatch',
    );
    s.expect(
      out,
      'A full dose of 400 mg on a 300 mg prescription',
      'DoseAdministered',
      { sessionId: 'a', ...FULL, doseMg: 400 },
      {},
      'dose-mismatch',
    );
    s.expect(
      out,
      'A half dose of 200 mg on a 300 mg prescription',
      'DoseAdministered',
      { sessionId: 'a', ...FULL, kind: 'half', doseMg: 200 },
      {},
      'dose-mismatch',
    );
    s.expect(
      out,
      'A full dose of 300 mg that says it used 2 units',
      'DoseAdministered',
      { sessionId: 'a', ...FULL, unitsUsed: 2 },
      {},
      'dose-mismatch',
    );
    s.expect(
      out,
      'The full dose of 300 mg, the patient recording it',
      'DoseAdministered',
      { sessionId: 'a', ...FULL },
      { recordedBy: 'patient', at: 2 + 10 * MINUTE },
      'dosing-session',
    );
    s.expect(
      out,
      `A booster of 200 mg (above ${num(defaultPolicy.maxBoosterFraction * 100)} % of 300 mg)`,
      'DoseAdministered',
      { sessionId: 'a', ...FULL, kind: 'booster', doseMg: 200 },
      {},
      'dose-mismatch',
    );
    s.expect(
      out,
      'A booster of 150 mg half an hour later',
      'DoseAdministered',
      { sessionId: 'a', ...FULL, kind: 'booster', doseMg: 150 },
      { at: 2 + 40 * MINUTE },
      'dosing-session',
    );
    s.expect(
      out,
      'A second booster in the same session',
      'DoseAdministered',
      { sessionId: 'a', ...FULL, kind: 'booster', doseMg: 100 },
      {},
      'dose-mismatch',
    );
    s.must('VitalsRecorded', { sessionId: 'a', phase: 'post', ...NORMAL });
    s.expect(
      out,
      'Completing the session 20 minutes after the booster, no reason',
      'DosingSessionCompleted',
      { sessionId: 'a' },
      { at: 2 + 60 * MINUTE },
      'reason-required',
    );
    s.must(
      'VitalsRecorded',
      { sessionId: 'a', phase: 'post', systolic: 150, diastolic: 96 },
      { at: 2 + 165 * MINUTE },
    );
    s.expect(
      out,
      'Completing it 2 h after the booster, the last post-dose BP 150/96, reason "ok."',
      'DosingSessionCompleted',
      { sessionId: 'a', reason: 'ok.' },
      {},
      'reason-required',
    );
    s.expect(
      out,
      'The same with a reason that says something',
      'DosingSessionCompleted',
      { sessionId: 'a', reason: REASON },
      {},
      'dosing-course',
    );
    s.must('IntegrationSessionCompleted', { mode: 'telehealth', sessionId: 'a' }, { at: 2.5 });
    s.must(
      'DosingSessionScheduled',
      { sessionId: 'b', scheduledFor: dayAt(2.9), mode: 'in-person' },
      { at: 2.6 },
    );
    s.must('VitalsRecorded', { sessionId: 'b', phase: 'pre', ...NORMAL }, { at: 2.9 });
    s.expect(
      out,
      'The next session’s dose the next morning, less than 24 h after',
      'DoseAdministered',
      { sessionId: 'b', ...FULL },
      {},
      'dosing-too-soon',
    );
    s.must('DosingSessionAborted', { sessionId: 'b', reason: 'other' });
    s.expect(
      out,
      'Booking a telehealth dosing session without a chaperone',
      'DosingSessionScheduled',
      { sessionId: 'c', scheduledFor: dayAt(5), mode: 'telehealth' },
      {},
      'chaperone-required',
    );
    s.expect(
      out,
      'The same with `chaperone: true`',
      'DosingSessionScheduled',
      { sessionId: 'c', scheduledFor: dayAt(5), mode: 'telehealth', chaperone: true },
      {},
      'dosing-course',
    );
  }
  // Vitals hold and its override.
  {
    const s = story('ep-safety-hold');
    prepare(s);
    s.must(
      'DosingSessionScheduled',
      { sessionId: 'a', scheduledFor: dayAt(2), mode: 'in-person' },
      { at: 1 },
    );
    s.must(
      'VitalsRecorded',
      { sessionId: 'a', phase: 'pre', ...NORMAL, heartRate: defaultPolicy.holdHeartRateAbove + 8 },
      { at: 2 },
    );
    const dose = { sessionId: 'a', ...FULL };
    s.expect(
      out,
      `A dose after a pre-dose heart rate of ${defaultPolicy.holdHeartRateAbove + 8}/min`,
      'DoseAdministered',
      dose,
      {},
      'vitals-hold',
    );
    s.expect(
      out,
      'The same, overridden by the therapist',
      'DoseAdministered',
      { ...dose, vitalsOverride: { clinicianRole: 'therapist', reason: REASON } },
      {},
      'not-permitted',
    );
    s.expect(
      out,
      'The same, overridden by the medical team with the reason "ok."',
      'DoseAdministered',
      { ...dose, vitalsOverride: { clinicianRole: 'medical', reason: 'ok.' } },
      {},
      'reason-required',
    );
    s.expect(
      out,
      'The same, overridden by the medical team with a reason',
      'DoseAdministered',
      { ...dose, vitalsOverride: { clinicianRole: 'medical', reason: REASON } },
      {},
      'dosing-session',
    );
  }
  // Medical decisions bind.
  {
    const s = story('ep-safety-stop');
    prepare(s, { supply: 2 });
    dosingSession(s, 'a', 2);
    s.expect(
      out,
      'A follow-up decides not to continue treatment',
      'MedicalFollowUpCompleted',
      { continueTreatment: false },
      { at: 4 },
      'dosing-course',
    );
    s.expect(
      out,
      'Booking the next dosing session',
      'DosingSessionScheduled',
      { sessionId: 'b', scheduledFor: dayAt(9), mode: 'in-person' },
      {},
      'treatment-stopped',
    );
    s.expect(out, 'A refill', 'RefillIssued', { dosesAuthorized: 2 }, {}, 'treatment-stopped');
    s.expect(
      out,
      'A new prescription (the follow-up counts for the follow-up gate)',
      'PrescriptionIssued',
      RX(2),
      {},
      'dosing-course',
    );
    s.expect(
      out,
      'Booking the next dosing session again',
      'DosingSessionScheduled',
      { sessionId: 'b', scheduledFor: dayAt(9), mode: 'in-person' },
      {},
      'dosing-course',
    );
    s.expect(
      out,
      'A third prescription, no follow-up since the second',
      'PrescriptionIssued',
      RX(2),
      {},
      'refill-requires-follow-up',
    );
    s.expect(
      out,
      'A re-evaluation during treatment finds the patient not eligible',
      'MedicalEvaluationCompleted',
      { eligible: false },
      {},
      'dosing-course',
    );
    s.expect(
      out,
      'Booking another session',
      'DosingSessionScheduled',
      { sessionId: 'c', scheduledFor: dayAt(10), mode: 'in-person' },
      {},
      'treatment-stopped',
    );
    s.expect(
      out,
      'A re-evaluation finds the patient eligible again',
      'MedicalEvaluationCompleted',
      { eligible: true },
      {},
      'dosing-course',
    );
    s.expect(
      out,
      'Booking it again',
      'DosingSessionScheduled',
      { sessionId: 'c', scheduledFor: dayAt(10), mode: 'in-person' },
      {},
      'dosing-course',
    );
    s.expect(
      out,
      'Completing the episode after 1 of 4 planned dosing sessions, no reason',
      'EpisodeCompleted',
      {},
      {},
      'reason-required',
    );
    s.expect(
      out,
      'The same with a reason',
      'EpisodeCompleted',
      { reason: 'Patient in remission after one session; agreed with the prescriber' },
      {},
      'completed',
    );
    s.expect(
      out,
      'An adverse event reported after completion, naming a session the episode does not know',
      'AdverseEventReported',
      { code: 'headache', severity: 'moderate', sessionId: 'zz' },
      {},
      'completed',
    );
    if (s.state.context.adverseEvents.at(-1)?.unknownSession !== true) {
      problems.push(
        'ep-safety-stop: an adverse event naming an unknown session is not flagged unknownSession',
      );
    }
    if (s.state.status !== 'active')
      problems.push(`ep-safety-stop: a completed episode has status ${s.state.status}`);
    s.expect(
      out,
      'Its review by a clinician',
      'AdverseEventReviewed',
      { adverseEventId: s.sent.at(-1).id, outcome: 'no-current-risk' },
      {},
      'completed',
    );
    s.expect(
      out,
      'An assessment after completion',
      'AssessmentRecorded',
      { instrument: 'phq9', responses: PHQ9_BASELINE },
      {},
      'episode-closed',
    );
  }
  // Eligibility despite an absolute contraindication.
  {
    const s = story('ep-safety-eligibility');
    s.must('EpisodeOpened', {});
    s.must('FitAssessed', { outcome: 'good-fit' });
    s.must('MedicalEvaluationScheduled', { scheduledFor: dayAt(1), mode: 'telehealth' });
    const ci = { eligible: true, contraindications: ['active-suicidal-ideation'] };
    s.expect(
      out,
      'Eligible with active suicidal ideation recorded, no override',
      'MedicalEvaluationCompleted',
      ci,
      {},
      'contraindicated',
    );
    s.expect(
      out,
      'The same with an override whose reason is "ok."',
      'MedicalEvaluationCompleted',
      { ...ci, contraindicationOverride: { reason: 'ok.' } },
      {},
      'contraindicated',
    );
    s.expect(
      out,
      'The same with a reason',
      'MedicalEvaluationCompleted',
      {
        ...ci,
        contraindicationOverride: {
          reason: 'Passive ideation only, C-SSRS screen negative, safety plan in place',
        },
      },
      {},
      'planning',
    );
  }
  return out;
}

/** Every refusal carries the safety signals of the refused event: an example, and a check over several codes. */
function refusalSignals() {
  const s = story('ep-signals');
  const phq = { instrument: 'phq9', responses: PHQ9_ITEM9(2) };
  const d = s.add('AssessmentRecorded', phq);
  if (d.ok || d.refusal.code !== 'episode-not-opened' || !d.refusal.safetyFlags?.length) {
    problems.push('ep-signals: a PHQ-9 before EpisodeOpened is not refused with its safety flag');
  }
  prepare(s);
  const more = [
    ['invalid-event', 'AssessmentRecorded', { ...phq, context: 'whenever' }, {}],
    ['not-permitted', 'AssessmentRecorded', phq, { recordedBy: 'system' }],
    ['future-event', 'AssessmentRecorded', phq, { at: 1, recordedAt: 0.5 }],
    [
      'invalid-assessment',
      'AssessmentRecorded',
      { instrument: 'phq9', responses: [9, 1, 1, 1, 1, 1, 1, 1, 2] },
      {},
    ],
  ];
  for (const [expected, type, payload, o] of more) {
    const r = s.add(type, payload, o);
    if (
      r.ok ||
      r.refusal.code !== expected ||
      !r.refusal.safetyFlags?.some((f) => f.rule === 'phq9-item9-positive')
    ) {
      problems.push(
        `ep-signals: ${expected}: the refusal does not carry the PHQ-9 item 9 flag (got ${r.ok ? 'accepted' : r.refusal.code})`,
      );
    }
  }
  const vitals = s.add('VitalsRecorded', { sessionId: 'nope', phase: 'pre', systolic: 200, diastolic: 125 });
  if (vitals.ok || !vitals.refusal.safetyFlags?.some((f) => f.origin === 'vitals')) {
    problems.push('ep-signals: refused vitals beyond the alert thresholds do not carry a safety signal');
  }
  const { code: c, message, safetyFlags } = d.refusal;
  return { code: c, message, safetyFlags };
}

// Consent, medications, titration and maintenance ------------------------------------------------------------

const WITHDRAWAL_REASON = 'Patient no longer wishes to continue ketamine treatment';

/** Consent, titration, concurrent medications and maintenance, replayed: the cases shown, each checked. */
function protocolCases() {
  const consent = [];
  const titration = [];
  const medications = [];
  const maintenance = [];
  const alertList = (st) => st.alerts.map((a) => `${code(a.code)} (${a.severity})`).join(', ') || 'none';
  // Consent → dose, remote sessions, a late withdrawal, a withdrawal, after the course.
  {
    const s = story('ep-consent');
    prepare(s, { consent: false });
    s.must(
      'DosingSessionScheduled',
      { sessionId: 'a', scheduledFor: dayAt(2), mode: 'in-person' },
      { at: 1 },
    );
    s.must('VitalsRecorded', { sessionId: 'a', phase: 'pre', ...NORMAL }, { at: 2 });
    const dose = (sessionId) => ({ sessionId, ...FULL });
    const kap = { scope: ['kap'], documentVersion: CONSENT_DOC };
    s.expect(consent, 'A dose, no consent recorded', 'DoseAdministered', dose('a'), {}, 'consent-required');
    s.expect(
      consent,
      'The patient records their own consent',
      'InformedConsentRecorded',
      kap,
      { recordedBy: 'patient' },
      'not-permitted',
    );
    s.expect(
      consent,
      `The therapist records consent to KAP (\`${CONSENT_DOC}\`)`,
      'InformedConsentRecorded',
      kap,
      {},
      'dosing-session',
    );
    s.expect(consent, 'The dose', 'DoseAdministered', dose('a'), {}, 'dosing-session');
    s.must('VitalsRecorded', { sessionId: 'a', phase: 'post', ...NORMAL }, { at: 2 + 130 * MINUTE });
    s.must('DosingSessionCompleted', { sessionId: 'a' });
    s.must('IntegrationSessionCompleted', { mode: 'telehealth', sessionId: 'a' }, { at: 3 });
    s.must(
      'DosingSessionScheduled',
      { sessionId: 'b', scheduledFor: dayAt(9), mode: 'telehealth', chaperone: true },
      { at: 8 },
    );
    s.must('VitalsRecorded', { sessionId: 'b', phase: 'pre', ...NORMAL }, { at: 9, recordedBy: 'patient' });
    s.expect(
      consent,
      'A dose in a telehealth session (chaperone present), no consent to remote sessions',
      'DoseAdministered',
      dose('b'),
      { recordedBy: 'patient' },
      'consent-required',
    );
    s.expect(
      consent,
      'Consent to remote sessions recorded',
      'InformedConsentRecorded',
      { scope: ['remote-sessions'], documentVersion: CONSENT_DOC },
      {},
      'dosing-session',
    );
    s.expect(
      consent,
      'The dose',
      'DoseAdministered',
      dose('b'),
      { recordedBy: 'patient', at: 9 + 10 * MINUTE },
      'dosing-session',
    );
    s.must('VitalsRecorded', { sessionId: 'b', phase: 'post', ...NORMAL }, { at: 9 + 130 * MINUTE });
    s.must('DosingSessionCompleted', { sessionId: 'b' });
    s.expect(
      consent,
      'A withdrawal of consent to remote sessions dated 5 minutes before that dose, entered after the session',
      'ConsentWithdrawn',
      { scope: ['remote-sessions'] },
      { at: 9 + 5 * MINUTE, recordedBy: 'patient' },
      'dosing-course',
    );
    if (s.state.context.sessions.find((x) => x.sessionId === 'b')?.doses.length !== 1) {
      problems.push('ep-consent: a withdrawal recorded after a dose undid the dose');
    }
    // The prose says a late withdrawal raises a late-entry alert, as late safety signals and stops do.
    if (!s.status(9.5).alerts.some((a) => a.code === 'late-entry')) {
      problems.push(
        'ep-consent: a late consent withdrawal no longer raises a late-entry alert; say so in the prose',
      );
    }
    s.must('IntegrationSessionCompleted', { mode: 'telehealth', sessionId: 'b' }, { at: 10 });
    s.expect(
      consent,
      'The patient withdraws consent to KAP',
      'ConsentWithdrawn',
      { scope: ['kap'], reason: WITHDRAWAL_REASON },
      { at: 11, recordedBy: 'patient' },
      'dosing-course',
    );
    const st = s.status(11.5);
    if (!st.alerts.some((a) => a.code === 'consent-missing') || st.consent.inForce.length !== 0) {
      problems.push(
        `ep-consent: a withdrawal of consent to KAP raises no consent-missing alert (${JSON.stringify(st.consent)}, ${st.alerts.map((a) => a.code)})`,
      );
    }
    consent.push({
      what: 'The status that evening',
      result: `consent in force: ${st.consent.inForce.map((x) => code(x)).join(', ') || 'none'}, withdrawn: ${st.consent.withdrawn.map((x) => code(x)).join(', ')}; alerts ${alertList(st)}`,
    });
    s.must(
      'DosingSessionScheduled',
      { sessionId: 'c', scheduledFor: dayAt(14), mode: 'in-person' },
      { at: 12 },
    );
    s.must('VitalsRecorded', { sessionId: 'c', phase: 'pre', ...NORMAL }, { at: 14 });
    s.expect(
      consent,
      'A dose in a session booked after the withdrawal',
      'DoseAdministered',
      dose('c'),
      {},
      'consent-required',
    );
    s.must('DosingSessionAborted', { sessionId: 'c', reason: 'patient-declined' });
    s.must('EpisodeDiscontinued', { reason: 'patient-choice' });
    s.expect(
      consent,
      'After discontinuation, the patient opts out of research use (never consented to)',
      'ConsentWithdrawn',
      { scope: ['research-use'] },
      { recordedBy: 'patient' },
      'discontinued',
    );
    s.expect(
      consent,
      'A new consent after discontinuation',
      'InformedConsentRecorded',
      kap,
      {},
      'episode-closed',
    );
  }
  // An episode opened by a version 1 event is not held to the consent gate.
  {
    const s = story('ep-consent-v1');
    const opened = s.ev('EpisodeOpened', {});
    delete opened.recordedAt;
    delete opened.recordedBy;
    prepare(s, { consent: false, opened: { ...opened, v: 1 } });
    s.must(
      'DosingSessionScheduled',
      { sessionId: 'a', scheduledFor: dayAt(2), mode: 'in-person' },
      { at: 1 },
    );
    s.must('VitalsRecorded', { sessionId: 'a', phase: 'pre', ...NORMAL }, { at: 2 });
    s.expect(
      consent,
      'In an episode opened by a version 1 `EpisodeOpened` (upcast with `requireInformedConsent: false`): a dose, no consent recorded',
      'DoseAdministered',
      { sessionId: 'a', ...FULL },
      {},
      'dosing-session',
    );
  }
  // Titration: a half dose first.
  {
    const steps = [
      { fromSession: 1, doseMg: 150 },
      { fromSession: 2, doseMg: 300 },
    ];
    const s = story('ep-titration');
    prepare(s, { titration: steps });
    s.must(
      'DosingSessionScheduled',
      { sessionId: 'a', scheduledFor: dayAt(2), mode: 'in-person' },
      { at: 1 },
    );
    s.must('VitalsRecorded', { sessionId: 'a', phase: 'pre', ...NORMAL }, { at: 2 });
    s.expect(
      titration,
      'First session: a full dose of 300 mg (the step is 150 mg), no reason',
      'DoseAdministered',
      { sessionId: 'a', ...FULL },
      {},
      'reason-required',
    );
    s.expect(
      titration,
      'The step’s 150 mg (half a unit of the 300 mg prescription)',
      'DoseAdministered',
      { sessionId: 'a', ...FULL, doseMg: 150 },
      {},
      'dosing-session',
    );
    s.must('VitalsRecorded', { sessionId: 'a', phase: 'post', ...NORMAL }, { at: 2 + 130 * MINUTE });
    s.must('DosingSessionCompleted', { sessionId: 'a' });
    s.must('IntegrationSessionCompleted', { mode: 'telehealth', sessionId: 'a' }, { at: 3 });
    s.must(
      'DosingSessionScheduled',
      { sessionId: 'b', scheduledFor: dayAt(9), mode: 'in-person' },
      { at: 8 },
    );
    s.must('VitalsRecorded', { sessionId: 'b', phase: 'pre', ...NORMAL }, { at: 9 });
    s.expect(
      titration,
      'Second session: 200 mg (the step is 300 mg), reason "ok."',
      'DoseAdministered',
      { sessionId: 'b', ...FULL, doseMg: 200, reason: 'ok.' },
      {},
      'reason-required',
    );
    s.expect(
      titration,
      'The same with a reason',
      'DoseAdministered',
      {
        sessionId: 'b',
        ...FULL,
        doseMg: 200,
        reason: 'Marked dissociation at 150 mg; stepping up gradually, agreed with the prescriber',
      },
      {},
      'dosing-session',
    );
    const b = s.state.context.sessions.find((x) => x.sessionId === 'b')?.doses[0];
    if (b?.plannedDoseMg !== 300 || !b.reason) {
      problems.push('ep-titration: a departing dose does not keep its planned step and its reason');
    }
    s.expect(
      titration,
      'A booster of 100 mg (boosters are not compared with the step)',
      'DoseAdministered',
      { sessionId: 'b', ...FULL, kind: 'booster', doseMg: 100 },
      { at: 9 + 40 * MINUTE },
      'dosing-session',
    );
  }
  // Concurrent medications.
  {
    const s = story('ep-medications');
    s.must('EpisodeOpened', {});
    s.must('FitAssessed', { outcome: 'good-fit' });
    const list = {
      medications: [
        { name: 'lorazepam', class: 'benzodiazepine', dailyDose: 2 },
        { name: 'lamotrigine', class: 'lamotrigine', dailyDose: 100 },
        { name: 'sertraline', class: 'antidepressant', dailyDose: 100 },
      ],
    };
    s.expect(
      medications,
      'A medication review before the medical evaluation is scheduled',
      'MedicationsReviewed',
      list,
      {},
      'evaluation-not-scheduled',
    );
    s.must('MedicalEvaluationScheduled', { scheduledFor: dayAt(1), mode: 'telehealth' });
    s.expect(
      medications,
      'The therapist records the review',
      'MedicationsReviewed',
      list,
      { recordedBy: 'therapist' },
      'not-permitted',
    );
    s.expect(
      medications,
      'The medical team records it at the evaluation: lorazepam 2 mg/day, lamotrigine 100 mg/day, sertraline 100 mg/day',
      'MedicationsReviewed',
      list,
      { at: 1 },
      'medical-evaluation',
    );
    const st = s.status(1.5);
    medications.push({
      what: 'The status',
      result: `classes ${st.medications.classes.map((x) => code(x)).join(', ')}; ${num(st.medications.diazepamEquivalentMgPerDay)} mg diazepam-equivalent a day; alerts ${alertList(st)}`,
    });
    s.must('MedicalEvaluationCompleted', { eligible: true });
    s.expect(
      medications,
      'A later review: lorazepam tapered to 0.5 mg/day, lamotrigine stopped',
      'MedicationsReviewed',
      {
        medications: [
          { name: 'lorazepam', class: 'benzodiazepine', dailyDose: 0.5 },
          { name: 'sertraline', class: 'antidepressant', dailyDose: 100 },
        ],
      },
      { at: 20 },
      'planning',
    );
    const later = s.status(20.5);
    if (later.alerts.some((a) => a.code === 'medication-interaction')) {
      problems.push('ep-medications: a review below the threshold still raises medication-interaction');
    }
    medications.push({
      what: 'The status',
      result: `${num(later.medications.diazepamEquivalentMgPerDay)} mg diazepam-equivalent a day; alerts ${alertList(later)}`,
    });
  }
  // Maintenance after the initial course.
  {
    const s = story('ep-maintenance');
    prepare(s, { planned: 2, supply: 4 });
    const plan = { intervalDays: 28 };
    s.expect(
      maintenance,
      'Planning maintenance before any dose',
      'MaintenancePlanned',
      plan,
      {},
      'no-doses-given',
    );
    dosingSession(s, 'a', 2);
    s.expect(
      maintenance,
      'After dosing session 1 of 2 planned, no reason',
      'MaintenancePlanned',
      plan,
      { at: 4 },
      'reason-required',
    );
    dosingSession(s, 'b', 9);
    s.expect(
      maintenance,
      'After session 2 of 2, planned by the therapist',
      'MaintenancePlanned',
      plan,
      { at: 11, recordedBy: 'therapist' },
      'not-permitted',
    );
    s.expect(
      maintenance,
      'The same, planned by the medical team: every 28 days',
      'MaintenancePlanned',
      plan,
      { at: 11 },
      'maintenance',
    );
    const due = s.status(39.5);
    maintenance.push({
      what: 'The status on day 39',
      result: `maintenance next due ${due.maintenance.nextDueAt.slice(0, 10)} (${due.maintenance.status}); alerts ${alertList(due)}`,
    });
    dosingSession(s, 'm1', 41);
    const after = s.status(42.5);
    if (after.phase !== 'maintenance' || after.maintenance.sessions !== 1 || after.dosesGiven !== 3) {
      problems.push('ep-maintenance: a maintenance session is not counted as one');
    }
    maintenance.push({
      what: 'A maintenance dosing session on day 41 (booked, dosed, completed, integrated); the status the next day',
      result: `phase ${code(after.phase)}; doses given ${after.dosesGiven} (${after.criticalPeriods.analysis.windows.length} in the initial course, ${after.maintenance.sessions} in maintenance); maintenance next due ${after.maintenance.nextDueAt.slice(0, 10)} (${after.maintenance.status}); initial course chains ${after.criticalPeriods.analysis.chains.map((c) => `[${c.doses.join(', ')}]`).join(' ')}, maintenance windows ${after.maintenance.criticalPeriods.windows.length}; next-dose deadline ${after.criticalPeriods.nextDoseLatestDay ?? 'none'}; alerts ${alertList(after)}`,
    });
  }
  return { consent, titration, medications, maintenance };
}

/** The medication classes, the diazepam-equivalent table and findings on a sample list, all from the code. */
function medicationTables() {
  const {
    medicationClasses,
    interactionClasses,
    diazepamEquivalentMg,
    diazepamEquivalentSource,
    diazepamEquivalentPerDay,
    medicationFindings,
    doseUnits,
  } = core;
  const threshold = defaultPolicy.benzodiazepineAlertAboveMgDiazepam;
  const classes = table(
    ['Class', 'Alert', 'Why, with its source'],
    Object.entries(medicationClasses).map(([k, why]) => [
      code(k),
      k === 'benzodiazepine'
        ? `above ${threshold} mg diazepam-equivalent a day, or not convertible`
        : interactionClasses.includes(k)
          ? 'whenever taken'
          : dash,
      sentence(why),
    ]),
  );
  const equivalents = table(
    [
      'Benzodiazepine',
      'Oral mg ≈ 10 mg diazepam',
      `Daily dose at the ${threshold} mg diazepam-equivalent threshold`,
    ],
    Object.entries(diazepamEquivalentMg).map(([name, mg]) => [
      name,
      num(mg),
      `${num((threshold * mg) / 10)} mg`,
    ]),
  );
  const sample = [
    { name: 'lorazepam', class: 'benzodiazepine', dailyDose: 2 },
    { name: 'clonazepam', class: 'benzodiazepine', dailyDose: 500, unit: 'mcg' },
    { name: 'alprazolam', class: 'benzodiazepine' },
    { name: 'lamotrigine', class: 'lamotrigine', dailyDose: 200 },
    { name: 'carbamazepine', class: 'cyp-inducer', dailyDose: 400 },
    { name: 'sertraline', class: 'antidepressant', dailyDose: 100 },
  ];
  const findings = medicationFindings(sample, threshold);
  const findingsTable = table(
    ['Medication', 'Class', 'Daily dose', 'Diazepam-equivalent', 'Finding'],
    sample.map((m) => {
      const eq = diazepamEquivalentPerDay(m);
      const f = findings.filter((x) => x.medication === m.name);
      return [
        m.name,
        code(m.class),
        m.dailyDose === undefined ? dash : `${num(m.dailyDose)} ${m.unit ?? 'mg'}`,
        eq === null ? dash : `${num(eq)} mg/day`,
        f.length ? f.map((x) => esc(x.message)).join('<br>') : 'none',
      ];
    }),
  );
  return {
    classes,
    equivalents,
    findingsTable,
    source: diazepamEquivalentSource,
    units: doseUnits,
    threshold,
  };
}

function protocolSection() {
  const { consent, titration, medications, maintenance } = protocolCases();
  const m = medicationTables();
  const p = defaultPolicy;
  return [
    'Machine version 3 also records what the protocol of a KAP course needs around the doses: the patient’s informed consent, the concurrent medications reviewed by the medical team, the dose titration of the plan, and maintenance after the initial course. Each example table is computed by the code: the events are decided against a synthetic episode prepared for dosing (300 mg sublingual lozenges prescribed), in the order shown.',
    '',
    '### Informed consent',
    '',
    `\`InformedConsentRecorded { scope, documentVersion }\`, recorded by a clinician, keeps one consent per scope: \`kap\` (KAP itself), \`remote-sessions\` (telehealth dosing sessions with a chaperone) and \`research-use\` (research use of de-identified data). It is accepted in every open phase and while paused, not in a closed episode. \`ConsentWithdrawn { scope, reason? }\` is a [root-level transition](#the-state-machine): the patient (or a clinician for them) may withdraw at any time once the episode is open, after the course too; a scope never consented to may be withdrawn (a research opt-out), and a \`research-use\` withdrawal leaves the episode out of de-identified exports. A scope withdrawn can be consented to again.`,
    '',
    `With the policy \`requireInformedConsent\` on (default ${code(JSON.stringify(p.requireInformedConsent))}), every dose, boosters included, needs consent to \`kap\` in force, and a dose in a telehealth session consent to \`remote-sessions\` too, else \`consent-required\`. Bookings are not refused: the gate is the dose. Like the other gates before a dose, a withdrawal is judged by what was known when the dose was recorded (\`recordedAt\`): a withdrawal entered after a dose does not undo it, even when it is dated before it, and raises an urgent \`late-entry\` alert (as a late safety signal or treatment stop does). The \`consent-missing\` alert says when the next dose would be refused. Episodes opened by a version 1 \`EpisodeOpened\` (which could not record consent) are upcast with \`requireInformedConsent: false\` and are not held to the gate (see [Schema versions](#schema-versions)).`,
    '',
    casesTable(consent),
    '',
    '### Concurrent medications',
    '',
    `\`MedicationsReviewed { medications: [{ name, class, dailyDose?, unit? }] }\`, recorded by the medical team at or after the medical evaluation (before it was scheduled: \`evaluation-not-scheduled\`; also while paused), lists every medication the patient takes now and replaces the previous list (an empty list: none). \`unit\` is one of ${m.units.map((u) => code(u)).join(', ')} (default \`mg\`). \`statusAt\` reports the latest review (\`medications\`) and raises a \`medication-interaction\` warning for each finding of \`medicationFindings\`; kapkit does not refuse a dose for a medication: the medical team decides. The classes (\`medicationClasses\`):`,
    '',
    m.classes,
    '',
    `A benzodiazepine’s daily dose is converted to mg diazepam-equivalent a day (\`diazepamEquivalentPerDay\`: the dose in mg × 10 / the equivalent below; names are generic names, matched without regard to case) and compared with the policy \`benzodiazepineAlertAboveMgDiazepam\` (default ${m.threshold} mg); one without a daily dose or not in the table is a finding too, since its equivalent cannot be worked out. The table (\`diazepamEquivalentMg\`) is from ${sentence(m.source)}`,
    '',
    m.equivalents,
    '',
    'The findings on a sample list (computed by `medicationFindings`):',
    '',
    m.findingsTable,
    '',
    casesTable(medications),
    '',
    '### Titration',
    '',
    '`TreatmentPlanCreated.titration` lists planned dose steps `{ fromSession, doseMg }` (1-based, counting dosing sessions with a dose; the first step starts at session 1, steps in increasing order; the last holds for later sessions, maintenance included). The first dose of a session (full or half) whose mg departs from its step needs `DoseAdministered.reason` of at least `minReasonLength` letters or digits, else `reason-required`; boosters are not compared with it. The step is checked after the prescription (`dose-mismatch`): a step cannot authorise more than the prescription. The episode keeps each dose’s step (`plannedDoseMg`) and reason.',
    '',
    casesTable(titration),
    '',
    '### Maintenance',
    '',
    '`MaintenancePlanned { intervalDays, reason? }`, recorded by the medical team between sessions, starts the `maintenance` phase: dosing sessions booked from then on are maintenance sessions (one booked before stays in the initial course), under the same gates as the initial course, every `intervalDays` (7–365). It needs a dose first (`no-doses-given`) and, before the planned dosing sessions of the initial course are done, a reason (`reason-required`). A later `MaintenancePlanned` replaces the interval. `statusAt` reports maintenance apart (`maintenance`: sessions, next due, status, critical periods of the maintenance doses alone); `criticalPeriods` covers the initial course only, and once maintenance is planned the initial course counts as done (no chain alerts, no next-dose deadline). The `maintenance-session-due` alert says when the next maintenance session is due (info) or overdue (warning).',
    '',
    casesTable(maintenance),
  ].join('\n');
}

// Clinical time and corrections ----------------------------------------------------------------------------

/** Late entries, future events, voids and the upcaster, replayed: the cases shown, each checked. */
function timeCases() {
  const late = [];
  const future = [];
  const voids = [];
  {
    const s = story('ep-late');
    prepare(s);
    dosingSession(s, 'a', 2);
    dosingSession(s, 'b', 9, { integrate: false });
    s.expect(
      late,
      'An integration session dated day 5, entered on day 9 after session b',
      'IntegrationSessionCompleted',
      { mode: 'in-person', sessionId: 'a' },
      { at: 5 },
      'dosing-course',
    );
    s.expect(
      late,
      'A paper PHQ-9 dated day 8 with item 9 answered 2, entered on day 9',
      'AssessmentRecorded',
      { instrument: 'phq9', responses: PHQ9_ITEM9(2) },
      { at: 8 },
      'dosing-course',
    );
    const st = s.status(9.5);
    const lateAlert = st.alerts.find((a) => a.code === 'late-entry');
    if (!lateAlert || !st.alerts.some((a) => a.code === 'safety-flag')) {
      problems.push(
        'ep-late: a late positive item 9 dated before a dose that went ahead raises no late-entry alert',
      );
    }
    late.push({
      what: 'The status on day 9',
      result: `alerts ${st.alerts.map((a) => `${code(a.code)} (${a.severity})`).join(', ')}`,
    });
    s.expect(
      late,
      'A pause dated day 8.5, entered on day 9',
      'EpisodePaused',
      { reason: 'medical' },
      { at: 8.5 },
      'out-of-order',
    );
    s.expect(
      late,
      'A follow-up dated day 8 deciding not to continue, entered on day 9',
      'MedicalFollowUpCompleted',
      { continueTreatment: false },
      { at: 8 },
      'dosing-course',
    );
    s.expect(
      late,
      'An event dated exactly as the latest one (a tie keeps recording order)',
      'AdverseEventReported',
      { code: 'nausea', severity: 'mild' },
      { at: 9 + 135 * MINUTE },
      'dosing-course',
    );
  }
  {
    const s = story('ep-future');
    prepare(s);
    s.expect(
      future,
      '`at` 10 minutes after `recordedAt`',
      'PreparationSessionCompleted',
      { mode: 'in-person' },
      { at: 1 + 10 * MINUTE, recordedAt: 1 },
      'future-event',
    );
    s.expect(
      future,
      `\`at\` ${defaultPolicy.clockToleranceMinutes - 2} minutes after \`recordedAt\` (within the clock tolerance)`,
      'PreparationSessionCompleted',
      { mode: 'in-person' },
      { at: 1 + (defaultPolicy.clockToleranceMinutes - 2) * MINUTE, recordedAt: 1 },
      'preparation',
    );
    s.expect(
      future,
      'A year ahead, `recordedAt` too, checked with the clock of the store (`now`)',
      'PreparationSessionCompleted',
      { mode: 'in-person' },
      { at: 366, recordedAt: 366, now: 1.5 },
      'future-event',
    );
    s.expect(
      future,
      'Booking a dosing session for a month ahead (`scheduledFor` is exempt)',
      'DosingSessionScheduled',
      { sessionId: 'a', scheduledFor: dayAt(31), mode: 'in-person' },
      { at: 1.5, now: 1.5 },
      'preparation',
    );
  }
  {
    const s = story('ep-void');
    prepare(s);
    dosingSession(s, 'a', 2);
    const id = (type) => s.sent.findLast((e) => e.type === type).id;
    const opened = id('EpisodeOpened');
    s.expect(
      voids,
      'Voiding the prescription after the delivery it authorised',
      'EventVoided',
      { voidedEventId: id('PrescriptionIssued'), reason: 'entered on the wrong patient' },
      {},
      'void-would-invalidate',
    );
    s.must('AssessmentRecorded', { instrument: 'phq9', responses: [0, 0, 0, 0, 0, 0, 0, 0, 0] });
    const wrong = s.sent.at(-1).id;
    const before = s.state.context.assessments.length;
    s.expect(
      voids,
      'Voiding a PHQ-9 entered in error',
      'EventVoided',
      { voidedEventId: wrong, reason: 'recorded for the wrong patient' },
      {},
      'dosing-course',
    );
    if (
      s.state.context.assessments.length !== before - 1 ||
      !s.state.context.voidedEventIds.includes(wrong)
    ) {
      problems.push('ep-void: a voided assessment is still in the episode');
    }
    const theVoid = s.sent.at(-1).id;
    s.expect(
      voids,
      'Recording another event under the voided id',
      'AssessmentRecorded',
      { instrument: 'phq9', responses: PHQ9_BASELINE },
      { id: wrong },
      'duplicate-event-id',
    );
    s.expect(
      voids,
      'Voiding it again',
      'EventVoided',
      { voidedEventId: wrong, reason: 'recorded for the wrong patient' },
      {},
      'unknown-event',
    );
    s.expect(
      voids,
      'Voiding the void',
      'EventVoided',
      { voidedEventId: theVoid, reason: 'the void was a mistake' },
      {},
      'cannot-void',
    );
    s.expect(
      voids,
      'Voiding `EpisodeOpened`',
      'EventVoided',
      { voidedEventId: opened, reason: 'wrong episode' },
      {},
      'cannot-void',
    );
    s.expect(
      voids,
      'A void recorded by the patient',
      'EventVoided',
      { voidedEventId: id('IntegrationSessionCompleted'), reason: 'did not happen' },
      { recordedBy: 'patient' },
      'not-permitted',
    );
    s.must('EpisodeCompleted', { reason: 'Patient moved abroad; care handed over to a local clinic' });
    s.expect(
      voids,
      'Voiding the `EpisodeCompleted` of a course that was not over',
      'EventVoided',
      { voidedEventId: id('EpisodeCompleted'), reason: 'completed the wrong episode' },
      {},
      'dosing-course',
    );
    // Version 1 events are upcast: recordedAt = at, recordedBy = the primary role when missing; a given one is checked.
    const v1 = (type, payload, recordedBy) => {
      const e = s.ev(type, payload);
      delete e.recordedAt;
      delete e.recordedBy;
      return { ...e, v: 1, ...(recordedBy ? { recordedBy } : {}) };
    };
    s.expect(
      voids,
      'A version 1 PHQ-9 without `recordedBy` (upcast: therapist)',
      null,
      null,
      { raw: v1('AssessmentRecorded', { instrument: 'phq9', responses: PHQ9_ITEM9(1) }) },
      'dosing-course',
    );
    const flagged = s.sent.at(-1);
    if (
      flagged.recordedBy !== undefined ||
      s.state.context.history.at(-1).recordedBy !== primaryRole('AssessmentRecorded')
    ) {
      problems.push('ep-void: a version 1 event without recordedBy is not attributed to its primary role');
    }
    s.expect(
      voids,
      'A version 1 review of its flag with `recordedBy: "patient"`',
      null,
      null,
      {
        raw: v1(
          'SafetyFlagReviewed',
          { assessmentEventId: flagged.id, rule: 'phq9-item9-positive', outcome: 'no-current-risk' },
          'patient',
        ),
      },
      'not-permitted',
    );
  }
  return { late, future, voids };
}

// Alerts ---------------------------------------------------------------------------------------------------

/**
 * Episodes that raise every alert code, replayed: the severities shown are the ones observed, and generation
 * fails if an alert code is never raised, or raised or cleared otherwise than the prose says.
 */
function observeAlerts() {
  const seen = new Map(Object.keys(alertCodes).map((c) => [c, new Set()]));
  const look = (name, st, present, absent = []) => {
    const codes = st.alerts.map((a) => a.code);
    for (const a of st.alerts) seen.get(a.code)?.add(a.severity);
    const missing = present.filter((c) => !codes.includes(c));
    const extra = absent.filter((c) => codes.includes(c));
    if (missing.length || extra.length) {
      problems.push(
        `${name} at ${st.asOf}: ${missing.length ? `expected ${missing.join(', ')}` : ''}${extra.length ? ` did not expect ${extra.join(', ')}` : ''} (alerts: ${codes.join(', ') || 'none'})`,
      );
    }
  };
  // Safety signals, their reviews, a late entry and a treatment stop.
  {
    const s = story('ep-alerts-safety');
    prepare(s, { supply: 2 });
    dosingSession(s, 'a', 2);
    s.must('AssessmentRecorded', { instrument: 'phq9', responses: PHQ9_ITEM9(1) }, { at: 3.1 });
    const positive = s.sent.at(-1).id;
    s.must(
      'AssessmentRecorded',
      { instrument: 'phq9', responses: PHQ9_ITEM9(null) },
      { at: 3.2, recordedBy: 'patient' },
    );
    const blank = s.sent.at(-1).id;
    s.must(
      'AdverseEventReported',
      { code: 'dissociation-distress', severity: 'severe', sessionId: 'a' },
      { at: 3.3 },
    );
    const severe = s.sent.at(-1).id;
    s.must('AdverseEventReported', { code: 'nausea', severity: 'moderate', sessionId: 'a' }, { at: 3.4 });
    const moderate = s.sent.at(-1).id;
    s.must('AdverseEventReported', { code: 'headache', severity: 'mild' }, { at: 3.5 });
    const st = s.status(4);
    look('ep-alerts-safety', st, ['safety-flag', 'safety-item-unanswered', 'adverse-event']);
    const ae = st.alerts.filter((a) => a.code === 'adverse-event').map((a) => a.severity);
    if (ae.join() !== 'urgent,warning')
      problems.push(
        `ep-alerts-safety: adverse-event severities ${ae.join()} (expected urgent for severe, warning for moderate, none for mild)`,
      );
    s.must(
      'SafetyFlagReviewed',
      { assessmentEventId: positive, rule: 'phq9-item9-positive', outcome: 'safety-plan' },
      { at: 4 },
    );
    s.must('SafetyFlagReviewed', {
      assessmentEventId: blank,
      rule: 'phq9-item9-positive',
      outcome: 'no-current-risk',
    });
    s.must('AdverseEventReviewed', { adverseEventId: severe, outcome: 'no-current-risk' });
    s.must('AdverseEventReviewed', { adverseEventId: moderate, outcome: 'no-current-risk' });
    look('ep-alerts-safety', s.status(4.5), [], ['safety-flag', 'safety-item-unanswered', 'adverse-event']);
    dosingSession(s, 'b', 9, { integrate: false });
    s.must('AdverseEventReported', { code: 'suicidal-ideation', severity: 'mild' }, { at: 8 });
    const lateAe = s.sent.at(-1).id;
    look('ep-alerts-safety', s.status(10), ['adverse-event', 'late-entry', 'low-medication']);
    s.must('AdverseEventReviewed', { adverseEventId: lateAe, outcome: 'escalated' }, { at: 10 });
    look('ep-alerts-safety', s.status(10.5), [], ['adverse-event', 'late-entry']);
    s.must('MedicalFollowUpCompleted', { continueTreatment: false }, { at: 11 });
    look('ep-alerts-safety', s.status(11.5), ['treatment-stopped']);
    s.must('MedicalFollowUpCompleted', { continueTreatment: true }, { at: 12 });
    look('ep-alerts-safety', s.status(12.5), [], ['treatment-stopped']);
  }
  // Vitals.
  {
    const s = story('ep-alerts-vitals');
    prepare(s);
    s.must(
      'DosingSessionScheduled',
      { sessionId: 'a', scheduledFor: dayAt(2), mode: 'in-person' },
      { at: 1 },
    );
    s.must('VitalsRecorded', { sessionId: 'a', phase: 'pre', systolic: 150, diastolic: 95 }, { at: 2 });
    look('ep-alerts-vitals', s.status(2.01), ['vitals-hold'], ['vitals-alert']);
    s.must('VitalsRecorded', {
      sessionId: 'a',
      phase: 'pre',
      systolic: defaultPolicy.alertSystolicAbove + 10,
      diastolic: 100,
    });
    look('ep-alerts-vitals', s.status(2.02), ['vitals-hold', 'vitals-alert']);
    s.must('VitalsRecorded', { sessionId: 'a', phase: 'pre', ...NORMAL }, { at: 2.03 });
    look('ep-alerts-vitals', s.status(2.04), ['vitals-alert'], ['vitals-hold']);
  }
  // Follow-up overdue (kept while paused), measures, the critical-period chain.
  {
    const s = story('ep-alerts-calendar');
    prepare(s, { planned: 6, supply: 6, monitoring: [{ instrument: 'phq9', everyDays: 28 }] });
    look('ep-alerts-calendar', s.status(30), ['measure-due']);
    look('ep-alerts-calendar', s.status(40), ['measure-overdue']);
    s.must('AssessmentRecorded', { instrument: 'phq9', responses: PHQ9_BASELINE }, { at: 41 });
    dosingSession(s, 'a', 42);
    const end = 42 + 10 * MINUTE + defaultPolicy.criticalPeriodDays;
    look('ep-alerts-calendar', s.status(end - 1), ['critical-period-chain-ending']);
    look('ep-alerts-calendar', s.status(end + 1), ['critical-period-chain-broken']);
    s.must('EpisodePaused', { reason: 'financial' }, { at: 50 });
    look(
      'ep-alerts-calendar',
      s.status(42 + defaultPolicy.followUpIntervalDays + 2),
      ['follow-up-overdue'],
      ['measure-overdue', 'measure-due'],
    );
  }
  // Not on track: no response, reliable deterioration, severe symptoms after the policy number of doses.
  {
    const s = story('ep-alerts-outcomes');
    prepare(s, { planned: 8, supply: 8 });
    for (let i = 0; i < defaultPolicy.noResponseAfterDoses; i++) dosingSession(s, `s${i + 1}`, 2 + 7 * i);
    const last = 2 + 7 * (defaultPolicy.noResponseAfterDoses - 1);
    s.must(
      'AssessmentRecorded',
      { instrument: 'phq9', responses: [3, 3, 3, 2, 2, 2, 2, 3, 0], context: 'integration' },
      { at: last + 2 },
    );
    look('ep-alerts-outcomes', s.status(last + 2.5), [
      'no-response',
      'reliable-deterioration',
      'severe-symptoms',
    ]);
  }
  // Consent missing, then recorded; withdrawn.
  {
    const s = story('ep-alerts-consent');
    prepare(s, { consent: false });
    look('ep-alerts-consent', s.status(1), ['consent-missing']);
    s.must('InformedConsentRecorded', { scope: ['kap'], documentVersion: CONSENT_DOC }, { at: 1 });
    look('ep-alerts-consent', s.status(1.5), [], ['consent-missing']);
    dosingSession(s, 'a', 2);
    s.must('ConsentWithdrawn', { scope: ['kap'] }, { at: 4, recordedBy: 'patient' });
    look('ep-alerts-consent', s.status(4.5), ['consent-missing']);
    s.must('EpisodePaused', { reason: 'patient-request' }, { at: 5 });
    look('ep-alerts-consent', s.status(5.5), [], ['consent-missing']);
  }
  // Concurrent medications: a finding per benzodiazepine above the threshold and per interaction class.
  {
    const s = story('ep-alerts-medications');
    prepare(s);
    s.must(
      'MedicationsReviewed',
      {
        medications: [
          { name: 'lorazepam', class: 'benzodiazepine', dailyDose: 2 },
          { name: 'lamotrigine', class: 'lamotrigine', dailyDose: 100 },
          { name: 'sertraline', class: 'antidepressant', dailyDose: 100 },
        ],
      },
      { at: 1 },
    );
    const st = s.status(1.5);
    look('ep-alerts-medications', st, ['medication-interaction']);
    if (st.alerts.filter((a) => a.code === 'medication-interaction').length !== 2) {
      problems.push('ep-alerts-medications: expected one medication-interaction alert per finding (2)');
    }
    s.must(
      'MedicationsReviewed',
      { medications: [{ name: 'lorazepam', class: 'benzodiazepine', dailyDose: 0.5 }] },
      { at: 2 },
    );
    look('ep-alerts-medications', s.status(2.5), [], ['medication-interaction']);
  }
  // Maintenance: due, then overdue, then cleared by a maintenance dose.
  {
    const s = story('ep-alerts-maintenance');
    prepare(s, { planned: 1, supply: 4 });
    dosingSession(s, 'a', 2);
    s.must('MaintenancePlanned', { intervalDays: 28 }, { at: 4 });
    look('ep-alerts-maintenance', s.status(31), [], ['maintenance-session-due']);
    look('ep-alerts-maintenance', s.status(32.5), ['maintenance-session-due']);
    look('ep-alerts-maintenance', s.status(32 + defaultPolicy.measureGraceDays + 1), [
      'maintenance-session-due',
    ]);
    dosingSession(s, 'm1', 33);
    look('ep-alerts-maintenance', s.status(34.5), [], ['maintenance-session-due']);
  }
  const never = [...seen].filter(([, sev]) => sev.size === 0).map(([c]) => c);
  if (never.length)
    problems.push(`no synthetic episode raises ${never.join(', ')}: add one to observeAlerts()`);
  const order = ['urgent', 'warning', 'info'];
  return new Map([...seen].map(([c, sev]) => [c, order.filter((x) => sev.has(x))]));
}

// ---------------------------------------------------------------------------------------------------------
// Events: from the zod schemas

const ENVELOPE = [
  'id',
  'episodeId',
  'patientId',
  'type',
  'at',
  'recordedAt',
  'v',
  'recordedBy',
  'actorId',
  'synthetic',
  'note',
];

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
        'the rules of [the policy](#policy) an episode may set (“episode” in its table)',
        'optional',
        sentence(`${p.description ?? ''} Other rules are clinic-level only: the schema drops them`),
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
    '`type` names the event. Ids must be unique in the episode, voided events included: a repeated id is refused (`duplicate-event-id`), so writes are idempotent and the id of an event entered in error is never reused. Events may arrive late: see [Clinical time and corrections](#clinical-time-and-corrections).',
    '',
    '### Two times on every event',
    '',
    '- **`at`, clinical time**: when it happened (a PHQ-9 filled in on paper yesterday has yesterday’s `at`). The episode orders its history by `at`, and status, alerts, critical periods and analytics use it.',
    '- **`recordedAt`, recording time**: when it was written, set by the writer (the form, the device, the import). The gates before a dose judge it by what was known when it was recorded (see [Late entries](#late-entries)), and `at` may not be later than `recordedAt` (see [No future events](#no-future-events)).',
    '- **The store’s commit time.** `@kapkit/store` also keeps the time it committed each event, with its position in the store; that is not part of the event and the model does not use it.',
    '',
    'The model is FHIR’s distinction between the time an observation is about (`Observation.effective[x]`, “the time or time-period the observed value is asserted as being true”) and the time it was “made available to providers” (`Observation.issued`) ([FHIR R4 Observation](https://hl7.org/fhir/R4/observation.html)). Who recorded the event is `recordedBy`, a role checked against the [permission table](#permissions), and optionally `actorId`, an opaque id of the person (a user id, never a name), pseudonymised on research export.',
    '',
    `### The ${types.length} event types`,
    '',
    table(
      ['Event', 'What it records', 'Handled in'],
      types.map((t) => [
        `[${code(t)}](#${t.toLowerCase()})`,
        sentence(eventSchemas[t].meta()?.description ?? ''),
        handledIn(t).join(', '),
      ]),
    ),
    '',
    'A state handles the events of its own transitions and of its ancestors (an event handled in `open` is handled in every state inside it, and one handled at the root in every state). An event that the current state does not handle is refused with a reason, never ignored.',
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
// Schema versions: the upcaster, run on every event type

function upcasterSection() {
  const at = '2025-11-03T10:00:00-05:00';
  const byRole = new Map();
  for (const type of Object.keys(eventSchemas)) {
    const up = upcastEvent({ v: 1, type, at });
    if (up.v !== EVENT_SCHEMA_VERSION || up.recordedAt !== at || up.recordedBy !== primaryRole(type)) {
      fail(
        `upcastEvent on a version 1 ${type} gives ${JSON.stringify(up)}; the docs say it sets v = ${EVENT_SCHEMA_VERSION}, recordedAt = at and recordedBy = the primary role (${primaryRole(type)}). Update scripts/gen-episode-docs.mjs.`,
      );
    }
    byRole.set(up.recordedBy, [...(byRole.get(up.recordedBy) ?? []), type]);
  }
  const opened = upcastEvent({ v: 1, type: 'EpisodeOpened', at });
  const openedWithPolicy = upcastEvent({
    v: 1,
    type: 'EpisodeOpened',
    at,
    policy: { criticalPeriodDays: 2, requireInformedConsent: true },
  });
  if (
    opened.policy?.requireInformedConsent !== false ||
    openedWithPolicy.policy?.requireInformedConsent !== true ||
    openedWithPolicy.policy?.criticalPeriodDays !== 2
  ) {
    fail(
      `upcastEvent on a version 1 EpisodeOpened gives policy ${JSON.stringify(opened.policy)} (and ${JSON.stringify(openedWithPolicy.policy)} with a policy); the docs say it adds requireInformedConsent: false unless the event sets it, keeping the rest.`,
    );
  }
  const kept = upcastEvent({ v: 1, type: 'SafetyFlagReviewed', at, recordedBy: 'patient' });
  if (kept.recordedBy !== 'patient')
    fail('upcastEvent no longer keeps a given recordedBy; the docs say it does.');
  const order = roles.filter((r) => byRole.has(r));
  return [
    `Events carry their schema version in \`v\`; this is version ${EVENT_SCHEMA_VERSION}. Version 2 added \`recordedAt\`, made \`recordedBy\` required and added \`actorId\`. Every log written before it is version 1, and it keeps validating: \`decide\` (and \`parseEvent\`) first pass every input through \`upcastEvent\`, which maps a version 1 event to version 2 and leaves anything else unchanged. It is pure and never mutates its input.`,
    '',
    '- `recordedAt` = `at`: the best knowledge of when it was written.',
    '- `recordedBy`, when missing: the **primary role** of the event type, the first role of its row in the [permission table](#permissions) (of the clinic’s table, when it has its own). A `recordedBy` that was given is kept and checked against the table like any other, so a version 1 review recorded by the patient is refused `not-permitted`.',
    '- `EpisodeOpened.policy.requireInformedConsent` = `false`, unless the event sets it (the rest of its policy is kept): version 1 could not record consent, so an episode opened then is not held to the consent gate ([Informed consent](#informed-consent)).',
    '- Any other version is refused `invalid-event`.',
    '',
    'The primary roles, as `upcastEvent` assigns them:',
    '',
    table(
      ['Primary role', 'Event types'],
      order.map((r) => [
        code(r),
        byRole
          .get(r)
          .map((t) => code(t))
          .join(', '),
      ]),
    ),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// Permissions

const ROLE_TEXT = {
  therapist: 'the psychotherapist',
  medical: 'the medical team (prescriber, nurse)',
  patient: 'the patient',
  chaperone: 'the adult present with the patient in a remote session',
  system: 'an integration (scheduling, pharmacy)',
};

function permissionsSection() {
  sameSet('roles', roles, ROLE_TEXT);
  const rows = Object.keys(eventSchemas).map((t) => [
    code(t),
    ...roles.map((r) =>
      permissionTable[t][0] === r ? '**primary**' : permissionTable[t].includes(r) ? 'yes' : dash,
    ),
  ]);
  return [
    `Every event records the role of whoever recorded it (\`recordedBy\`: ${roles.map((r) => `${code(r)}, ${ROLE_TEXT[r]}`).join('; ')}). The permission table says which role may record which event type; an event recorded by another role is refused \`not-permitted\` before any rule of the phase is looked at. The table is domain policy: a clinic can replace it (\`createEpisodeModel({ permissions })\`, which also sets the primary roles the [upcaster](#schema-versions) uses), an episode cannot (\`EpisodeOpened.policy\` has no permissions). The first role of a row is the event type’s primary role.`,
    '',
    table(['Event', ...roles.map((r) => code(r))], rows),
    '',
    'Where the default table comes from:',
    '',
    ...Object.entries(permissionSources).map(([k, v]) => `- **${k}**: ${sentence(v)}`),
    '',
    'Consents are recorded by a clinician; a withdrawal of consent may be recorded by the patient themselves (from a patient portal, say) or by a clinician for them. Medication reviews and maintenance plans are the medical team’s.',
    '',
    'Who records an event and who decides are not always the same person: the patient may record the dose they self-administer, but a dose given despite a vitals hold needs `vitalsOverride` with `clinicianRole: "medical"` (the medical team decides; a therapist’s override is refused `not-permitted`) and a reason that says something (`reason-required`), and may name the clinician in `vitalsOverride.actorId`.',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// Policy

function policySection() {
  const docs = Object.fromEntries(interfaceFields(policySrc, 'EpisodePolicy').map((f) => [f.name, f.doc]));
  const perEpisode = new Set(
    Object.keys(jsonSchemaOf(eventSchemas.EpisodeOpened).properties.policy.properties),
  );
  const keys = Object.keys(defaultPolicy);
  const perPlan = new Set(
    Object.keys(eventSchemas.TreatmentPlanCreated.shape).filter((k) => keys.includes(k)),
  );
  sameSet('policy rules', keys, policySources);
  const unknown = [...perEpisode].filter((k) => !keys.includes(k));
  if (unknown.length)
    fail(`EpisodeOpened.policy has fields that are not policy rules: ${unknown.join(', ')}.`);
  const unverified = (k) => /unverified/i.test(policySources[k]);
  const rows = keys.map((k) => {
    const where = ['clinic', perEpisode.has(k) ? 'episode' : null, perPlan.has(k) ? 'plan' : null].filter(
      Boolean,
    );
    return [
      code(k),
      `${policyValue(defaultPolicy[k])}${unverified(k) ? ' (**unverified**)' : ''}`,
      docs[k] ? sentence(docs[k]) : dash,
      where.join(', '),
      sentence(policySources[k]),
    ];
  });
  const clinicOnly = keys.filter((k) => !perEpisode.has(k));
  const monitoring = defaultMonitoringPlan.measures
    .map(
      (m) =>
        `${code(m.instrument)} (baseline${m.beforeEachDoseWithinDays ? `, within ${m.beforeEachDoseWithinDays} days before each dosing session` : ''}${m.everyDays ? `, at least every ${m.everyDays} days` : ''})`,
    )
    .join(' and ');
  const p = defaultPolicy;
  return [
    'Every threshold and rule the episode applies is a field of `EpisodePolicy`, with a default and the source of that default; defaults for which no published source was found are marked **unverified**. kapkit checks and records; clinicians decide. The policy is set at three levels:',
    '',
    '- **clinic**: any rule, for all the clinic’s episodes (`createEpisodeModel({ policy })`, `createEpisodeMachine({ policy })`);',
    `- **episode**: the rules listed in the zod schema of \`EpisodeOpened.policy\`, when the episode is opened (${[...perEpisode].map((k) => code(k)).join(', ')}). Any other field there is dropped by the schema, so an episode cannot relax a clinic-level rule;`,
    `- **plan**: ${[...perPlan].map((k) => code(k)).join(' and ')}, set by \`TreatmentPlanCreated\`.`,
    '',
    `Clinic-level only: ${clinicOnly.map((k) => code(k)).join(', ')}.`,
    '',
    table(['Rule', 'Default', 'What it does', 'Set per', 'Source of the default'], rows),
    '',
    `Until a treatment plan sets the episode's own monitoring plan, the default is ${monitoring}. The initial medication supply covers ${INITIAL_SUPPLY_SESSIONS} dosing sessions (seed); demo data and the low-medication alert use that.`,
    '',
    `A vitals hold is a default, not a prohibition. Before the first dose of a session, a last pre-dose reading with systolic BP above ${p.holdSystolicAbove} or diastolic above ${p.holdDiastolicAbove} mmHg, heart rate above ${p.holdHeartRateAbove}/min or SpO₂ below ${p.holdSpo2Below} % holds the dose (\`vitals-hold\`); re-measuring clears it, and the medical team can give the dose anyway with \`DoseAdministered.vitalsOverride\` (\`clinicianRole: "medical"\` and a reason of at least ${p.minReasonLength} letters or digits), which records who decided and why. Boosters are not held again. Any reading above ${p.alertSystolicAbove}/${p.alertDiastolicAbove} mmHg, above ${p.alertHeartRateAbove}/min or below ${p.alertSpo2Below} % SpO₂, before, during or after the dose, raises an urgent \`vitals-alert\` (see [Alerts](#alerts)).`,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// The safety layer

function safetySection() {
  const cases = safetyCases();
  const signals = refusalSignals();
  const p = defaultPolicy;
  const rules = builtinInstruments.flatMap((d) =>
    (d.safety ?? []).map((r) => [
      code(d.id),
      code(r.id),
      `item ${r.item} ${esc(r.op)} ${r.value}${r.flagUnanswered ? '; flagged when left unanswered too' : ''}`,
      sentence(r.source ?? dash),
    ]),
  );
  return [
    'Machine version 3 adds a safety layer: no safety signal is lost on any path, the medical team’s decisions bind, and every dose is reconciled with its prescription. Every threshold is a [policy](#policy) rule with its source.',
    '',
    '### No safety signal is lost',
    '',
    `A **safety signal** is an assessment answer that trips a safety rule of its instrument, an adverse event that is severe, serious or \`suicidal-ideation\`, or a vitals reading beyond an alert threshold. An accepted signal is kept in the episode and raises an alert until a clinician reviews it (\`SafetyFlagReviewed\`, \`AdverseEventReviewed\`); while a positive flag or such an adverse event is unreviewed, doses are refused (\`safety-review-required\`, policy \`requireSafetyReviewBeforeDose\`). A refused event keeps its signals **whatever the refusal code** (schema, phase, permission, clock, late entry, …): \`refusal.safetyFlags\` lists them as \`{ rule, kind, value, message, origin, instrument?, item?, itemId?, source? }\` (\`kind\`: \`positive\` or \`unanswered\`; \`origin\`: \`assessment\`, \`adverse-event\` or \`vitals\`), and the message ends with \`— SAFETY: …\`. [Reading a log](#reading-a-log) reports them on the refused line.`,
    '',
    'The safety rules of the built-in instruments:',
    '',
    table(['Instrument', 'Rule', 'Flags', 'Source'], rules),
    '',
    'A PHQ-9 with item 9 answered 2, sent before its episode was opened (computed by the code):',
    '',
    '```json',
    JSON.stringify(signals, null, 2),
    '```',
    '',
    '### Gates before a dose',
    '',
    'A `DoseAdministered` is checked in this order; the first rule that fails refuses it:',
    '',
    '1. the session: the one in progress, or a booked one the dose starts (`session-in-progress`, `no-session-in-progress`, `unknown-session`); a booster needs a dose earlier in the session, a full or half dose must be its first (`booster-without-dose`, `session-already-dosed`);',
    '2. **treatment stop** (`treatment-stopped`), **informed consent** to KAP, and to remote sessions in a telehealth session (`consent-required`, policy `requireInformedConsent`; see [Informed consent](#informed-consent)), and **unreviewed safety signals** (`safety-review-required`), for boosters too;',
    `3. **reconciliation with the active prescription** (\`dose-mismatch\`): the same route and formulation; at most the prescribed mg for a full dose, half of it for a half dose, ${num(p.maxBoosterFraction * 100)} % of it for a booster (\`maxBoosterFraction\`), at most ${p.maxBoostersPerSession} booster(s) per session (\`maxBoostersPerSession\`). Units used follow from the mg (one unit is one prescribed dose: 150 mg of a 300 mg prescription uses 0.5); a \`unitsUsed\` that says otherwise is refused. Then, for the first dose of a session, the treatment plan’s **titration step**: a dose that departs from it needs a reason (\`reason-required\`; see [Titration](#titration)). Then enough on hand (\`no-medication-on-hand\`);`,
    `4. for the first dose of a session only: a treatment plan, training, a preparation session before the first dose, integration sessions since the last dose (\`minIntegrationSessionsBetweenDoses\`), at least ${p.minHoursBetweenDosingSessions} h since the previous session’s dose (\`dosing-too-soon\`), a chaperone for a telehealth session (\`chaperone-required\`), pre-dose vitals and no vitals hold without the medical team’s override (\`vitals-hold\`, \`not-permitted\`, \`reason-required\`), and, only when \`refuseDoseWhenFollowUpOverdue\` is on, a follow-up that is not overdue.`,
    '',
    'The gates judge a dose by what was known when it was recorded (`recordedAt`): a safety signal, a treatment stop, a consent withdrawal or pre-dose vitals recorded after the dose do not count against it. See [Late entries](#late-entries).',
    '',
    '### Adverse events',
    '',
    'Adverse events are accepted in every phase once the episode is open, paused and closed episodes included (late reports happen). A report naming a session the episode does not know is kept and flagged (`unknownSession`), never refused for it. Severe, serious and `suicidal-ideation` events need a clinician’s `AdverseEventReviewed` before the next dose and raise an urgent `adverse-event` alert until then; moderate ones raise a warning until reviewed; mild ones are recorded without an alert.',
    '',
    '### Medical decisions bind',
    '',
    '- **Treatment stop.** `MedicalFollowUpCompleted { continueTreatment: false }`, or a re-evaluation during treatment (`MedicalEvaluationCompleted`, no scheduling needed) that finds the patient not eligible, stops treatment: doses, bookings and refills are refused `treatment-stopped`. A new prescription, an eligible re-evaluation or a follow-up that continues treatment lifts it. The episode stays in its phase; the `treatment-stopped` alert says so.',
    '- **Second prescriptions.** Any prescription after the first passes the same gate as a refill: a medical follow-up since the last prescription or refill (`refill-requires-follow-up`, policy `refillRequiresFollowUp`).',
    `- **Contraindications.** Eligibility despite an absolute contraindication (policy \`absoluteContraindications\`: ${p.absoluteContraindications.map((c) => code(c)).join(', ')}) needs \`contraindicationOverride\` with a reason of at least ${p.minReasonLength} letters or digits, else \`contraindicated\`. Other contraindication codes are considerations, recorded only.`,
    '- **Completion short of plan.** `EpisodeCompleted` after fewer dosing sessions than planned needs a `reason` (`reason-required`); without any dose, discontinue instead (`no-doses-given`).',
    '',
    '### Session rules',
    '',
    `- **Spacing**: the first doses of two sessions at least ${p.minHoursBetweenDosingSessions} h apart (\`minHoursBetweenDosingSessions\`).`,
    `- **Observation**: completing a session less than ${p.observationMinutes} minutes after its last dose needs a \`reason\` (\`observationMinutes\`).`,
    `- **Post-dose blood pressure**: completing a session whose last post-dose reading is still above the hold threshold (${p.holdSystolicAbove}/${p.holdDiastolicAbove} mmHg) needs a \`reason\`.`,
    '- **Chaperone**: a telehealth dosing session needs `chaperone: true` when it is booked and when it is dosed (`requireChaperoneForRemoteDosing`).',
    '',
    '### Examples',
    '',
    'Computed by the code: each row is an event decided against a synthetic episode that is prepared for dosing (300 mg sublingual lozenges prescribed), in the order shown.',
    '',
    casesTable(cases),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// Clinical time and corrections

function timeSection() {
  const { late, future, voids } = timeCases();
  const p = defaultPolicy;
  return [
    '### Late entries',
    '',
    'Clinical records are often written late: a paper questionnaire entered the next day, a session note typed after the next session. An event dated before the latest accepted one is a **late entry**. `decide` rebuilds the episode from its history in clinical order (by `at`; equal times keep recording order) with the late entry in its place: the entry is accepted when that history is still valid, otherwise it is refused `out-of-order`, and the refusal (`message` and `invalidates: { eventId, type, at, code, message }`) names the first later event it would invalidate and why. A late entry that its own place refuses (a dose before its session was booked, say) gets that refusal’s code.',
    '',
    'The gates before a dose (safety review, treatment stop, consent withdrawals, pre-dose vitals and vitals hold) judge the dose by what was known when it was **recorded** (`recordedAt`), so a late safety signal, stop or withdrawal does not undo a dose that went ahead. For a late safety signal or stop, `statusAt` raises an urgent `late-entry` alert instead: had it been known, the dose would have been refused. A late consent withdrawal raises none (see [Informed consent](#informed-consent)).',
    '',
    casesTable(late),
    '',
    '### No future events',
    '',
    `An event may not be dated in the future: \`at\` later than its own \`recordedAt\` by more than \`clockToleranceMinutes\` (default ${p.clockToleranceMinutes}) is refused \`future-event\`. A writer with a trustworthy clock, such as a store or a server, passes it to \`decide(state, e, { now })\` (and \`EventLogFold\` takes \`now\` too); then \`at\` and \`recordedAt\` later than \`now\` plus the tolerance are refused too. Scheduling fields (\`scheduledFor\`) are exempt: a booking is for the future. Without this rule one mistyped year would make every later record a late entry.`,
    '',
    casesTable(future),
    '',
    '### Entered in error',
    '',
    '`EventVoided { voidedEventId, reason }`, recorded by a clinician, marks an accepted event as entered in error (FHIR’s `entered-in-error` status). The episode becomes the replay of its history without the voided event; the void is refused `void-would-invalidate` when a later accepted event depends on the voided one (the refusal’s `invalidates` names it: void that one first). `EpisodeOpened` and voids cannot be voided (`cannot-void`); an event voided already or never accepted is `unknown-event`; a voided event’s id is never reused (`duplicate-event-id`). A void of `EpisodeCompleted` or `EpisodeDiscontinued` reopens the course where it was. Voided events stay in the log for ever (`context.voidedEventIds` lists them); they are left out of the episode’s state, and so of status, analytics and exports (`kapkit export --include-voided` adds them, marked).',
    '',
    casesTable(voids),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// Refusals

function refusalsSection() {
  const described = Object.fromEntries(REFUSALS.flatMap((g) => Object.entries(g.codes)));
  const listed = REFUSALS.flatMap((g) => Object.keys(g.codes));
  const twice = listed.filter((c, i) => listed.indexOf(c) !== i);
  if (twice.length) fail(`refusal codes listed twice in REFUSALS: ${twice.join(', ')}.`);
  sameSet('refusal codes', Object.keys(refusalCodes), described);
  const out = [
    '`decide` never ignores an event silently and never throws on bad input: an event it does not accept comes back as a `Refusal` with a stable `code` (callers may switch on it), a `message` for people, the `event`, for schema and assessment problems the `issues` found, for late entries and voids the event they would `invalidate`, and, **whatever the code**, the `safetyFlags` the refused event carries (see [No safety signal is lost](#no-safety-signal-is-lost)). `replay` reports each refusal with the index of the event in the log and goes on.',
    '',
    'Each code’s sentence is `refusalCodes[code]`; the notes say when it is given.',
  ];
  for (const g of REFUSALS) {
    out.push(
      '',
      `### ${g.title}`,
      '',
      table(
        ['Code', 'Meaning', 'Notes'],
        Object.entries(g.codes).map(([c, note]) => [
          code(c),
          sentence(refusalCodes[c]),
          note === dash ? dash : sentence(note),
        ]),
      ),
    );
  }
  return out.join('\n');
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
// statusAt: fields from the source, alerts from `alertCodes` (severities observed), and a worked example

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
    recordedAt: at(d),
    v: EVENT_SCHEMA_VERSION,
    recordedBy: primaryRole(type),
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
    ev(7.005, 'InformedConsentRecorded', { scope: ['kap'], documentVersion: 'KAP consent v3 (2026-01)' }),
    ev(7.006, 'MedicationsReviewed', {
      medications: [{ name: 'sertraline', class: 'antidepressant', dailyDose: 100 }],
    }),
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
    ev(14.14, 'VitalsRecorded', { sessionId: 's1', phase: 'post', systolic: 128, diastolic: 80 }),
    ev(14.15, 'DosingSessionCompleted', { sessionId: 's1', durationMinutes: 150 }),
    ev(16, 'IntegrationSessionCompleted', { mode: 'telehealth', sessionId: 's1' }),
    ev(16.05, 'AssessmentRecorded', {
      instrument: 'phq9',
      responses: [1, 1, 1, 1, 1, 1, 0, 1, 1],
      context: 'integration',
      recordedBy: 'patient',
    }),
  ];
  const r = core.replay(events);
  if (r.refusals.length) fail(`example refused: ${JSON.stringify(r.refusals[0])}`);
  return { state: r.state, asOf: at(25.5) };
}

function statusSection() {
  const fields = interfaceFields(statusSrc, 'EpisodeStatus');
  sameSet(
    'EpisodeStatus fields',
    fields.map((f) => f.name),
    STATUS_FIELDS,
  );
  const extra = Object.keys(STATUS_MORE).filter((k) => !fields.some((f) => f.name === k));
  if (extra.length) fail(`STATUS_MORE describes fields EpisodeStatus does not have: ${extra.join(', ')}.`);
  sameSet('alert codes', Object.keys(alertCodes), ALERTS);
  const severities = observeAlerts();
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
    [
      'consent',
      `required: ${s.consent.required}, in force: ${s.consent.inForce.join(', ') || 'none'}, withdrawn: ${s.consent.withdrawn.join(', ') || 'none'}`,
    ],
    [
      'medications',
      `reviewed ${s.medications.reviewedAt}, classes: ${s.medications.classes.join(', ') || 'none'}, findings: ${s.medications.findings.length}`,
    ],
    ['maintenance', String(s.maintenance)],
    ['measures', s.measures.map((m) => `${m.instrument} ${m.rule}: ${m.status}`).join('; ')],
    [
      'unreviewedSafetyFlags',
      s.unreviewedSafetyFlags.map((f) => `${f.rule} (item ${f.item} = ${f.value})`).join(', ') || 'none',
    ],
    [
      'outcomes',
      s.outcomes
        .map((o) => `${o.instrument} ${o.baseline?.total} → ${o.latest?.total}, response: ${o.response}`)
        .join('; ') || 'none',
    ],
  ];
  return [
    '`statusAt(state, asOf)` reports an episode as of a point in time. It is pure: `asOf` is an argument, so the same events and the same `asOf` always give the same answer, in tests, in a nightly job or in a dashboard. It reads the episode’s state, so voided events are not in it and late entries are in their clinical place. `asOf` is the time the status is computed at, not a cut-off of the log: the critical periods, measures and outcomes leave out what is dated after it, but doses given, safety flags, adverse events and the treatment stop are read from every event in the state. To see an episode as it stood on an earlier day, fold only the events recorded by then.',
    '',
    table(
      ['Field', 'Meaning'],
      fields.map((f) => [
        code(f.name),
        `${sentence(f.doc || STATUS_FIELDS[f.name])}${STATUS_MORE[f.name] ? ` ${sentence(STATUS_MORE[f.name])}` : ''}`,
      ]),
    ),
    '',
    '### Alerts',
    '',
    'Every alert code is a key of `alertCodes` (its sentence below). The severities are the ones `statusAt` gave when this script replayed synthetic episodes that raise each alert; the last column says when an alert is raised and what clears it.',
    '',
    table(
      ['Alert', 'Severity', 'Meaning', 'Raised and cleared'],
      Object.keys(alertCodes).map((c) => [
        code(c),
        severities.get(c).join(' or '),
        sentence(alertCodes[c]),
        sentence(ALERTS[c]),
      ]),
    ),
    '',
    `### Example`,
    '',
    `A synthetic episode (built by this script): eligible, consent to KAP recorded, a medication review (sertraline), planned for 6 dosing sessions, 2 doses delivered, first dose on ${s.criticalPeriods.analysis.windows[0]?.start ?? '?'}, one integration session, and a PHQ-9 the patient filled in after it with item 9 answered 1. Its status at ${asOf}:`,
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
  const phases = unionAfter(phasesSrc, 'export type EpisodePhase =');
  sameSet('phases', phases, PHASES);
  return table(
    ['Phase', 'Meaning'],
    phases.map((p) => [code(p), sentence(PHASES[p])]),
  );
}

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

function render() {
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
\`\`\`

### Phases

\`phaseOf(state)\` names where an episode is, in the words of the course rather than of the machine:

${phasesSection()}

## The state machine

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

${machineTable()}

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

function sessionsSection() {
  checkSessionsProse();
  return SESSIONS_PROSE;
}

// ---------------------------------------------------------------------------------------------------------

const generated = render();

if (problems.length) {
  fail(
    `the model no longer does what docs/episode.md says:\n  ${problems.join('\n  ')}\nUpdate the prose (and the synthetic episodes) in scripts/gen-episode-docs.mjs.`,
  );
}

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
