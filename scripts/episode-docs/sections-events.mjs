// Part of scripts/gen-episode-docs.mjs: the Events, upcaster and Permissions sections.
import { toJSONSchema } from 'zod';
import {
  code,
  dash,
  EVENT_SCHEMA_VERSION,
  esc,
  eventSchemas,
  fail,
  sentence,
  table,
  upcastEvent,
} from './env.mjs';
import { handledIn } from './machine.mjs';
import { permissionSources, permissionTable, primaryRole, roles, sameSet } from './source.mjs';

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

export function jsonSchemaOf(schema) {
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

export function eventsSection() {
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

export function upcasterSection() {
  const at = '2025-11-03T10:00:00-05:00';
  const byRole = new Map();
  for (const type of Object.keys(eventSchemas)) {
    const up = upcastEvent({ v: 1, type, at });
    if (up.v !== EVENT_SCHEMA_VERSION || up.recordedAt !== at || up.recordedBy !== primaryRole(type)) {
      fail(
        `upcastEvent on a version 1 ${type} gives ${JSON.stringify(up)}; the docs say it sets v = ${EVENT_SCHEMA_VERSION}, recordedAt = at and recordedBy = the primary role (${primaryRole(type)}). Update the prose in scripts/episode-docs/.`,
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

export function permissionsSection() {
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
