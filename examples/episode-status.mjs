// @ts-check
// Replay one episode from an event log and print its status on a given day.
//   node examples/episode-status.mjs [events.ndjson] [episodeId] [asOf]
// Defaults: the synthetic demo-events.ndjson here, its first episode, the day after its last event.
import { readFileSync } from 'node:fs';
import { replay, statusAt } from '@kapkit/core';

const file = process.argv[2] ?? new URL('./demo-events.ndjson', import.meta.url);
/** @type {{ episodeId: string, at: string }[]} */
const log = readFileSync(file, 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line));
const episodeId = process.argv[3] ?? log[0]?.episodeId;
const events = log.filter((e) => e.episodeId === episodeId);
if (events.length === 0) throw new Error(`no events for episode ${episodeId}`);

const { state, accepted, refusals } = replay(events);
for (const r of refusals) console.log(`event ${r.index} refused: ${r.code}: ${r.message}`);
const asOf = process.argv[4] ?? new Date(Date.parse(events.at(-1)?.at ?? '') + 86_400_000).toISOString();
const status = statusAt(state, asOf);

console.log(`episode ${episodeId}: ${accepted} events accepted, ${refusals.length} refused`);
console.log(`status at ${asOf}: phase ${status.phase}`);
console.log(
  `doses given ${status.dosesGiven} of ${status.plannedDosingSessions ?? '?'} planned, on hand ${status.dosesOnHand}`,
);
console.log(
  `critical periods: ${status.criticalPeriods.analysis.windows.length} windows of ${status.criticalPeriods.windowDays} days`,
);
for (const m of status.measures)
  console.log(`measure ${m.instrument} (${m.rule}): ${m.status}, due ${m.dueAt}`);
for (const a of status.alerts) console.log(`alert ${a.severity}: ${a.code}: ${a.message}`);
