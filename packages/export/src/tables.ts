import type { TableName, TableSpec } from './columns.js';
import { assessmentsTable } from './tables/assessments.js';
import { dosingSessionsTable } from './tables/dosing-sessions.js';
import { episodesTable } from './tables/episodes.js';

/**
 * The three research tables (tidy: one row per assessment, per dosing session, per episode). Column order is
 * the order in files. Day 0 is the episode's `EpisodeOpened` (its baseline); every `*_day` column is elapsed
 * days since then, fractional (1 h = 0.041666…), never a calendar date.
 */

export {
  assessmentsTable,
  ITEM_COLUMN_NAMES,
  ITEM_COLUMNS,
  itemColumnName,
} from './tables/assessments.js';
export { dosingSessionsTable } from './tables/dosing-sessions.js';
export { EPISODE_OUTCOME_INSTRUMENTS, episodesTable, FIXED_POINTS } from './tables/episodes.js';

/** The table specs, by name. */
export const tables: Readonly<Record<TableName, TableSpec>> = {
  assessments: assessmentsTable,
  dosing_sessions: dosingSessionsTable,
  episodes: episodesTable,
};
