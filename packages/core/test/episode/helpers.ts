import { expect } from 'vitest';
import { decide, type EpisodeState, replay } from '../../src/episode/decide.js';
import type { Refusal } from '../../src/episode/rules.js';

/*
 * Helpers the episode tests share: replay a story that must be accepted, the refusal of one more event, a plain
 * full dose, and a version 2 event written by hand.
 */

/** Replay and insist that every event was accepted. */
export function accepted(events: readonly unknown[]): EpisodeState {
  const r = replay(events);
  expect(r.refusals).toEqual([]);
  return r.state;
}

/** The refusal of `next` after `events` (which must all be accepted), judged by the clock `now` when given. */
export function refusalOf(events: readonly unknown[], next: unknown, now?: string): Refusal {
  const d = decide(accepted(events), next, now === undefined ? {} : { now });
  if (d.ok) throw new Error(`expected ${(next as { type: string }).type} to be refused`);
  return d.refusal;
}

/** A full 300 mg sublingual-lozenge dose in session `sessionId` (DoseAdministered payload). */
export function fullDose(sessionId: string, extra: Record<string, unknown> = {}) {
  return {
    sessionId,
    kind: 'full',
    doseMg: 300,
    route: 'sublingual',
    formulation: 'sublingual-lozenge',
    ...extra,
  };
}

/**
 * A version 2 event of the story's episode and patient (ep-1, pt-synthetic-1), written by hand: dated `at`,
 * recorded at `recordedAt` by `recordedBy` (a late entry when `recordedAt` is well after `at`).
 */
export function v2Event(
  id: string,
  type: string,
  at: string,
  recordedAt: string,
  recordedBy: string,
  payload: Record<string, unknown> = {},
) {
  return {
    id,
    episodeId: 'ep-1',
    patientId: 'pt-synthetic-1',
    type,
    at,
    recordedAt,
    v: 2,
    recordedBy,
    ...payload,
  };
}
