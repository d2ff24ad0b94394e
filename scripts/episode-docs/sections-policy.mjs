// Part of scripts/gen-episode-docs.mjs: the Policy, Safety layer, Clinical time, Refusals and Critical periods sections.
import {
  analyzeCriticalPeriods,
  builtinInstruments,
  CRITICAL_PERIOD_DEFAULTS,
  code,
  dash,
  days,
  defaultMonitoringPlan,
  defaultPolicy,
  esc,
  eventSchemas,
  fail,
  INITIAL_SUPPLY_SESSIONS,
  num,
  policySources,
  policyValue,
  refusalCodes,
  sentence,
  table,
  windowMsFromDays,
  windowMsFromHours,
} from './env.mjs';
import { REFUSALS } from './prose.mjs';
import { refusalSignals, safetyCases } from './safety-cases.mjs';
import { jsonSchemaOf } from './sections-events.mjs';
import { interfaceFields, policySrc, sameSet } from './source.mjs';
import { casesTable } from './story.mjs';
import { timeCases } from './time-cases.mjs';

// ---------------------------------------------------------------------------------------------------------
// Policy

export function policySection() {
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

export function safetySection() {
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

export function timeSection() {
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

export function refusalsSection() {
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

export function criticalSection() {
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
