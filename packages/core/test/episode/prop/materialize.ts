import type { EpisodeState } from '../../../src/episode/decide.js';
import type { EpisodeEvent, EventOf, EventType } from '../../../src/episode/events.js';
import { primaryRoleOf } from '../../../src/episode/permissions.js';
import { normalizeInstrumentId } from '../../../src/instruments/registry.js';
import { type Command, DAY, EPISODE, MINUTE, PATIENT } from './payloads.js';

// ---------------------------------------------------------------------------------------------------------
// Turning commands into events while folding.

function isoIn(ms: number, offset: Command['offset']): string {
  const minutes = offset === 'Z' ? 0 : offset === '-05:00' ? -300 : 330;
  const local = new Date(ms + minutes * MINUTE).toISOString().slice(0, 19);
  return `${local}${offset}`;
}

export interface FoldState {
  state: EpisodeState;
  /** The clock of whoever records and checks: never goes back. */
  clock: number;
  /** Accepted inputs and events, in recording order (voided ones included). */
  accepted: unknown[];
  acceptedEvents: EpisodeEvent[];
}

/** Ids of the events voided so far. */
export const voidedIds = (events: readonly EpisodeEvent[]) =>
  new Set(events.flatMap((e) => (e.type === 'EventVoided' ? [e.voidedEventId] : [])));

/** The session in progress, the booked sessions that have not started, and the last booked, from the events. */
function sessionsOf(events: readonly EpisodeEvent[]) {
  let inProgress: string | null = null;
  let last: string | null = null;
  const booked: string[] = [];
  for (const e of events) {
    if (e.type === 'DosingSessionScheduled') {
      booked.push(e.sessionId);
      last = e.sessionId;
    } else if (e.type === 'VitalsRecorded' || e.type === 'DoseAdministered') {
      inProgress = e.sessionId;
      if (booked.includes(e.sessionId)) booked.splice(booked.indexOf(e.sessionId), 1);
    } else if (e.type === 'DosingSessionCompleted' || e.type === 'DosingSessionAborted') {
      if (inProgress === e.sessionId) inProgress = null;
      if (booked.includes(e.sessionId)) booked.splice(booked.indexOf(e.sessionId), 1);
    } else if (e.type === 'EpisodeDiscontinued') {
      inProgress = null;
    }
  }
  return { inProgress, booked, last };
}

const lastOf = <T>(xs: readonly T[], p: (x: T) => boolean): T | undefined => [...xs].reverse().find(p);

/** The id of the last event of `type` in force that `p` picks, else of the last event of that type, or 'none'. */
function lastIdOf<T extends EventType>(
  inForce: readonly EpisodeEvent[],
  type: T,
  p: (e: EventOf<T>) => boolean,
): string {
  const ofType = inForce.filter((e): e is EventOf<T> => e.type === type);
  return (lastOf(ofType, p) ?? ofType[ofType.length - 1])?.id ?? 'none';
}

/** The raw event for a command, given what was accepted so far. */
export function materialize(cmd: Command, index: number, f: FoldState): unknown {
  const late = cmd.dt < 0 || cmd.beforeLastDose === true;
  if (!late) f.clock += cmd.dt * MINUTE;
  const accepted = f.acceptedEvents;
  const voided = voidedIds(accepted);
  const inForce = accepted.filter((e) => !voided.has(e.id));
  const lastDose = cmd.beforeLastDose ? lastOf(inForce, (e) => e.type === 'DoseAdministered') : undefined;
  const base = lastDose ? Date.parse(lastDose.at) : f.clock;
  const atMs = cmd.corrupt === 'future' ? f.clock + 2 * DAY : late ? base + cmd.dt * MINUTE : f.clock;
  const sessions = sessionsOf(inForce);
  const current = sessions.inProgress ?? sessions.booked[0] ?? sessions.last ?? 's-none';
  const booked = sessions.booked[sessions.booked.length - 1] ?? 's-none';
  const refs: Record<string, string> = {
    '@current': current,
    '@in-progress': sessions.inProgress ?? 's-none',
    '@booked': booked,
    '@new': `sess-${index}`,
  };
  const rx = lastOf(inForce, (e) => e.type === 'PrescriptionIssued') as
    | EventOf<'PrescriptionIssued'>
    | undefined;
  const kind = cmd.payload.kind;
  const rxMg = rx?.doseMg ?? 300;
  const mg = kind === 'full' ? rxMg : rxMg / 2;
  const payload: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(cmd.payload)) {
    if (v === undefined) continue;
    if (k === 'sessionId') payload[k] = typeof v === 'string' ? (refs[v] ?? v) : v;
    else if (v === '@rx') {
      payload[k] =
        k === 'route'
          ? (rx?.route ?? 'sublingual')
          : k === 'formulation'
            ? (rx?.formulation ?? 'sublingual-lozenge')
            : k === 'doseMg'
              ? mg
              : mg / rxMg;
    } else if (v === '@flagged') {
      // The last assessment with an item 9 that raised a flag (else the last one).
      payload[k] = lastIdOf(
        inForce,
        'AssessmentRecorded',
        (e) => normalizeInstrumentId(e.instrument) === 'phq9' && e.responses[8] !== 0,
      );
    } else if (v === '@adverse') {
      // The last adverse event that needs a review (else the last one).
      payload[k] = lastIdOf(
        inForce,
        'AdverseEventReported',
        (e) => e.severity === 'severe' || e.severity === 'serious' || e.code === 'suicidal-ideation',
      );
    } else if (typeof v === 'string' && k === 'voidedEventId') {
      const target =
        v === '@last'
          ? inForce[inForce.length - 1]
          : v.startsWith('@recent-')
            ? inForce[Math.max(0, inForce.length - 1 - Number(v.slice(8)))]
            : v === '@opened'
              ? inForce[0]
              : v === '@closing'
                ? lastOf(inForce, (e) => e.type === 'EpisodeCompleted' || e.type === 'EpisodeDiscontinued')
                : v === '@void'
                  ? lastOf(inForce, (e) => e.type === 'EventVoided')
                  : undefined;
      payload[k] = v === '@voided' ? ([...voided][0] ?? 'none') : (target?.id ?? v);
    } else payload[k] = v;
  }
  const id =
    cmd.dupId !== null && accepted.length > 0 ? accepted[cmd.dupId % accepted.length]!.id : `ev-${index}`;
  const at = isoIn(atMs, cmd.offset);
  const recordedAt =
    cmd.recorded === 'early'
      ? isoIn(atMs - 30 * MINUTE, cmd.offset)
      : cmd.recorded === 'now' && cmd.corrupt !== 'future'
        ? isoIn(f.clock, cmd.offset)
        : at;
  const event: Record<string, unknown> = {
    id,
    episodeId: cmd.foreign === 'episode' ? 'ep-other' : EPISODE,
    patientId: cmd.foreign === 'patient' ? 'pt-other' : PATIENT,
    type: cmd.type,
    at,
    v: cmd.version,
    synthetic: true,
    ...payload,
  };
  if (cmd.version === 2) {
    event.recordedAt = recordedAt;
    event.recordedBy = cmd.role ?? primaryRoleOf(cmd.type);
  } else {
    // Version 1: upcast with recordedAt = at and the type's primary role, unless given.
    if (recordedAt !== at) event.recordedAt = recordedAt;
    if (cmd.role !== null) event.recordedBy = cmd.role;
  }
  switch (cmd.corrupt) {
    case 'drop-at':
      delete event.at;
      break;
    case 'bad-at':
      event.at = '2026-03-02 10:00';
      break;
    case 'bad-version':
      event.v = 3;
      break;
    case 'bad-type':
      event.type = 'DoseTaken';
      break;
    case 'drop-payload': {
      const key = Object.keys(payload)[0];
      if (key) delete event[key];
      else event.id = '';
      break;
    }
    case 'bad-number': {
      const key = Object.keys(payload).find((k) => typeof payload[k] === 'number');
      if (key) event[key] = -1;
      else event.v = '1';
      break;
    }
    default:
      break;
  }
  return event;
}
