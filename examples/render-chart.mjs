// @ts-check
// Draw one episode's outcome chart (PHQ-9 and GAD-7 with dosing sessions and critical periods) to a PNG.
//   node examples/render-chart.mjs [events.ndjson] [episodeId] [out.png]
// Needs the optional peers of @kapkit/charts/render (@napi-rs/canvas, date-fns) and a system font.
import { readFileSync, writeFileSync } from 'node:fs';
import { outcomeChart } from '@kapkit/charts';
import { renderChartPng } from '@kapkit/charts/render';
import { replay } from '@kapkit/core';

const file = process.argv[2] ?? new URL('./demo-events.ndjson', import.meta.url);
/** @type {{ episodeId: string }[]} */
const log = readFileSync(file, 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line));
const episodeId = process.argv[3] ?? log[0]?.episodeId;
const out = process.argv[4] ?? 'outcome-chart.png';

const { state } = replay(log.filter((e) => e.episodeId === episodeId));
const { config, data } = outcomeChart({ context: state.context });
const png = await renderChartPng(config, { width: 1200, height: 720 });
writeFileSync(out, png);
console.log(`${out}: ${png.length} bytes, ${data.rows.length} points`);
