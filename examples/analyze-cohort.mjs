// @ts-check
// Analyse a cohort from an event log: response, remission and change per instrument.
//   node examples/analyze-cohort.mjs [events.ndjson]      (default: the synthetic demo-events.ndjson here)
import { readFileSync } from 'node:fs';
import { analyzeOutcomes, recordsFromEvents } from '@kapkit/analytics';
import { parseEvent } from '@kapkit/core/read';

const file = process.argv[2] ?? new URL('./demo-events.ndjson', import.meta.url);
const events = readFileSync(file, 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line, i) => {
    // parseEvent reads every schema version (version 1 events are upcast)
    const parsed = parseEvent(JSON.parse(line));
    if (!parsed.success) throw new Error(`line ${i + 1}: ${parsed.error.issues[0]?.message}`);
    return parsed.data;
  });

const { records, courses } = recordsFromEvents(events);
const report = analyzeOutcomes(records, { courses });
const percent = (/** @type {number | null} */ x) => (x === null ? '-' : `${(100 * x).toFixed(0)}%`);

console.log(`${report.records} scored assessments`);
for (const [id, r] of Object.entries(report.instruments)) {
  console.log(
    `${id}: ${r.patients} patients, response ${percent(r.responseRate.rate)}, remission ${percent(r.remissionRate?.rate ?? null)}, ` +
      `mean change ${r.change.mean?.toFixed(1) ?? '-'} [${r.change.lower?.toFixed(1) ?? '-'}, ${r.change.upper?.toFixed(1) ?? '-'}]`,
  );
}
