import type { ColumnSpec } from '../columns.js';

/* Column helpers shared by the three research tables. */

/** The start of the source of every `*_day` column. */
export const DAY_SOURCE = 'elapsed time from the episode’s EpisodeOpened.at (day 0, the baseline) to';

/** A column that is always present and never null, unless `spec` says otherwise. */
export function col(spec: Omit<ColumnSpec, 'presence' | 'nullable'> & Partial<ColumnSpec>): ColumnSpec {
  return { presence: 'always', nullable: false, ...spec };
}

/** The identifier columns a row starts with: patient, episode and (dosing sessions) session. */
export function idColumns(withSession: boolean): ColumnSpec[] {
  const out = [
    col({
      name: 'patient_id',
      type: 'string',
      pseudonymised: 'patient',
      description:
        'Patient identifier as the clinic recorded it. The same patient has the same id in every table and every episode of an export (and in every export made with the same key).',
      source: 'EpisodeOpened.patientId',
    }),
    col({
      name: 'episode_id',
      type: 'string',
      pseudonymised: 'episode',
      description: 'Episode (one course of KAP for one patient) identifier as the clinic recorded it.',
      source: 'EpisodeOpened.episodeId',
    }),
  ];
  if (withSession)
    out.push(
      col({
        name: 'session_id',
        type: 'string',
        pseudonymised: 'session',
        description:
          'Dosing session identifier as the clinic recorded it, unique within its episode (the key of a row is episode_id + session_id).',
        source: 'DosingSessionScheduled.sessionId',
      }),
    );
  return out;
}
