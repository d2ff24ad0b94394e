/**
 * Validation of `POST /api/episodes/:episodeId/events` bodies with the core schemas: the event zod schemas
 * (`eventSchemas`) for every event, and the instrument definition (`validateResponse`) for the answers of an
 * assessment. Every problem comes back with its field path (`events[0].responses[8]`) and a sentence saying
 * what was expected, so the form can show it next to the field. Nothing here touches the store.
 */
import { randomUUID } from 'node:crypto';
import {
  type EpisodeEventInput,
  EVENT_SCHEMA_VERSION,
  type EventType,
  eventSchemas,
  eventTypes,
} from '@kapkit/core';
import { type InstrumentRegistry, validateResponse } from '@kapkit/core/instruments';
import { formatPath } from '@kapkit/core/read';
import { primaryRoleOf } from '@kapkit/core/vocabularies';
import type { FieldIssue } from '../shared/api.js';

/** Most events one request may append (a dosing session is five). */
export const MAX_EVENTS_PER_REQUEST = 20;

/** Envelope fields the server sets: a client may not choose the episode, patient, schema version or demo flag. */
const SERVER_FIELDS = ['episodeId', 'patientId', 'v', 'synthetic'] as const;

export type Intake =
  | { readonly ok: true; readonly expectedVersion: number; readonly events: Record<string, unknown>[] }
  | { readonly ok: false; readonly issues: FieldIssue[] };

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function issue(path: (string | number)[], message: string): FieldIssue {
  return { path: formatPath(path), message };
}

/**
 * Check the body's shape (`{ expectedVersion, events: [...] }`) and each event's type; return the events
 * still without their envelope. Field checks come in {@link completeEvents}.
 */
export function parseAppendBody(body: unknown): Intake {
  const issues: FieldIssue[] = [];
  if (!isRecord(body)) {
    return {
      ok: false,
      issues: [issue([], 'expected a JSON object { "expectedVersion": n, "events": [...] }')],
    };
  }
  for (const key of Object.keys(body)) {
    if (key !== 'expectedVersion' && key !== 'events') issues.push(issue([key], 'unknown field'));
  }
  const v = body.expectedVersion;
  if (!(typeof v === 'number' && Number.isSafeInteger(v) && v >= 0)) {
    issues.push(
      issue(['expectedVersion'], 'expected the episode version the form was filled against (an integer ≥ 0)'),
    );
  }
  const events = body.events;
  if (!Array.isArray(events) || events.length === 0 || events.length > MAX_EVENTS_PER_REQUEST) {
    issues.push(issue(['events'], `expected an array of 1 to ${MAX_EVENTS_PER_REQUEST} events`));
  } else {
    events.forEach((e, i) => {
      if (!isRecord(e)) {
        issues.push(issue(['events', i], 'expected an event object'));
        return;
      }
      if (typeof e.type !== 'string' || !(eventTypes as readonly string[]).includes(e.type)) {
        issues.push(issue(['events', i, 'type'], `expected one of ${eventTypes.join(', ')}`));
      }
      for (const f of SERVER_FIELDS) {
        if (f in e) issues.push(issue(['events', i, f], 'set by the server; leave it out'));
      }
    });
  }
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, expectedVersion: v as number, events: events as Record<string, unknown>[] };
}

export interface Envelope {
  readonly episodeId: string;
  readonly patientId: string;
  /** The episode is demo data: new events are marked synthetic too. */
  readonly synthetic: boolean;
  /** The server's clock (ISO 8601 with offset): `at` and `recordedAt` of events that do not give them. */
  readonly at: string;
}

/**
 * Give each event its envelope and validate it with its zod schema and, for assessments, against the
 * instrument definition. The client may send `id`, `at` and `recordedAt`: a form fixes them when it is first
 * submitted, so that a retry is the same event (the store answers `duplicate`); otherwise the server sets a new
 * id and its own clock. `recordedBy` is the role the form is for (until sign-in exists; without it, the event
 * type's primary role); episode, patient and schema version are the server's. Unknown fields are reported rather
 * than silently dropped.
 */
export function completeEvents(
  events: readonly Record<string, unknown>[],
  envelope: Envelope,
  registry: InstrumentRegistry,
): { ok: true; events: EpisodeEventInput[] } | { ok: false; issues: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  const out: EpisodeEventInput[] = [];
  events.forEach((raw, i) => {
    const type = raw.type as EventType;
    const schema = eventSchemas[type] as unknown as {
      shape: Record<string, unknown>;
      safeParse(x: unknown): {
        success: boolean;
        data?: unknown;
        error?: { issues: readonly { path: readonly PropertyKey[]; message: string }[] };
      };
    };
    const event: Record<string, unknown> = {
      id: randomUUID(),
      at: envelope.at,
      recordedAt: envelope.at,
      recordedBy: primaryRoleOf(type),
      ...raw,
      episodeId: envelope.episodeId,
      patientId: envelope.patientId,
      v: EVENT_SCHEMA_VERSION,
      ...(envelope.synthetic ? { synthetic: true } : {}),
    };
    for (const key of Object.keys(raw)) {
      if (!(key in schema.shape)) issues.push(issue(['events', i, key], `unknown field for ${type}`));
    }
    if (type === 'AssessmentRecorded' && typeof raw.instrument === 'string') {
      const definition = registry.find(raw.instrument);
      if (!definition) {
        issues.push(
          issue(['events', i, 'instrument'], `unknown instrument; known: ${registry.ids().join(', ')}`),
        );
      } else {
        for (const vi of validateResponse(definition, {
          responses: raw.responses,
          ...(raw.supplementary !== undefined ? { supplementary: raw.supplementary } : {}),
        })) {
          // The kapkit message names the item (`responses[8] (item 9, phq9_9): expected …`).
          issues.push({ path: formatPath(['events', i, ...vi.path]), message: vi.message });
        }
      }
    }
    // The instrument's own message is clearer than the generic schema's for the same field: keep one.
    const named = new Set(issues.map((x) => x.path));
    const parsed = schema.safeParse(event);
    if (!parsed.success) {
      for (const zi of parsed.error?.issues ?? []) {
        const path = zi.path.map((p) => (typeof p === 'number' ? p : String(p)));
        const f = issue(['events', i, ...path], zi.message);
        if (!named.has(f.path)) issues.push(f);
      }
    }
    out.push(event as EpisodeEventInput);
  });
  if (issues.length > 0) return { ok: false, issues: dedupe(issues) };
  return { ok: true, events: out };
}

function dedupe(issues: FieldIssue[]): FieldIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.path}\u0000${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
