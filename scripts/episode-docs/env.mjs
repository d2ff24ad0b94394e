// Part of scripts/gen-episode-docs.mjs: arguments, the built @kapkit/core it documents, and the Markdown formatting helpers.
import { join } from 'node:path';
import { checkArgument, code, esc, importBuilt, root } from '../lib/generator.mjs';

export { code, dash, esc, root, table } from '../lib/generator.mjs';

export const outFile = join(root, 'docs', 'episode.md');
const coreDir = join(root, 'packages', 'core');
export const episodeSrc = join(coreDir, 'src', 'episode');

export const check = checkArgument('gen-episode-docs');
// The episode model's entry and the XState-free read entry (instruments, critical periods, vocabularies).
export const core = {
  ...(await importBuilt('gen-episode-docs', join(coreDir, 'dist', 'read.js'), join(coreDir, 'src'))),
  ...(await importBuilt('gen-episode-docs', join(coreDir, 'dist', 'index.js'), join(coreDir, 'src'))),
};
export const {
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

/** Stops generation with a message that says what to update. */
export function fail(message) {
  console.error(`gen-episode-docs: ${message}`);
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------------------
// Formatting helpers

/** A sentence: the text with a full stop unless it already ends with one. */
export function sentence(text) {
  const t = esc(text).trim();
  return /[.!?]\)?$/.test(t) ? t : `${t}.`;
}

/** A number as written in the docs: integers as they are, others with at most 3 decimals. */
export function num(n) {
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 1000) / 1000);
}

export function days(ms) {
  return `${num(ms / DAY_MS)} d`;
}

/** A policy value as written in the docs: lists as their items. */
export function policyValue(v) {
  return Array.isArray(v) ? v.map((x) => code(x)).join(', ') : code(JSON.stringify(v));
}
