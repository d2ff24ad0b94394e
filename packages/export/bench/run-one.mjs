// One benchmark run in a fresh process, so that its peak RSS is its own. Prints one JSON line on stdout.
//   node bench/run-one.mjs fold   <events.ndjson>                 (the baseline: read + decide, no output)
//   node bench/run-one.mjs export <events.ndjson> <out> <format>  (the export, as `kapkit export` runs it)
import { createReadStream } from 'node:fs';
import { loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { createEpisodeModel } from '@kapkit/core';
import { exportEvents } from '../dist/index.js';

const [mode, input, out, format] = process.argv.slice(2);
const rssSamples = [];
const sample = () => rssSamples.push(process.memoryUsage().rss);
const timer = setInterval(sample, 250);
const t0 = performance.now();
const loadBefore = loadavg()[0];
let result;

if (mode === 'fold') {
  // What every export has to do anyway: read each line, parse it, decide it with the episode machine
  // (one state per open episode, dropped when the episode closes). No rows, no files.
  const model = createEpisodeModel();
  const open = new Map();
  let lines = 0;
  let accepted = 0;
  const lineReader = createInterface({ input: createReadStream(input), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const text of lineReader) {
    lines++;
    if (text === '') continue;
    const value = JSON.parse(text);
    const state = open.get(value.episodeId) ?? model.initial;
    const d = model.decide(state, value);
    if (!d.ok) continue;
    accepted++;
    if (d.event.type === 'EpisodeCompleted' || d.event.type === 'EpisodeDiscontinued')
      open.delete(value.episodeId);
    else open.set(value.episodeId, d.state);
  }
  result = { lines, accepted };
} else {
  let openMax = 0;
  const { manifest } = await exportEvents(createReadStream(input), {
    format,
    outDir: out,
    deidentify: { key: 'benchmark-key-not-secret-0123456789abcdef' },
    onProgress: (p) => {
      openMax = Math.max(openMax, p.openEpisodes);
    },
  });
  const tables = Object.fromEntries(manifest.files.filter((f) => f.table).map((f) => [f.table, f.rows]));
  result = {
    lines: manifest.input.lines,
    accepted: manifest.input.accepted,
    rows: manifest.files.reduce((s, f) => s + (f.kind === 'table' ? f.rows : 0), 0),
    bytes: manifest.files.reduce((s, f) => s + (f.kind === 'table' ? f.bytes : 0), 0),
    tables,
    openMax,
  };
}
const ms = performance.now() - t0;
clearInterval(timer);
sample();
// What is still reachable at the end, after a full collection: retained data, as opposed to heap V8 keeps.
globalThis.gc?.();
const liveHeap = process.memoryUsage().heapUsed;
const q = (f) => rssSamples[Math.min(rssSamples.length - 1, Math.floor(f * (rssSamples.length - 1)))];
process.stdout.write(
  `${JSON.stringify({
    mode,
    format: format ?? null,
    ms,
    load: [loadBefore, loadavg()[0]],
    peakRss: process.resourceUsage().maxRSS * 1024,
    liveHeap,
    rssAt: { '25%': q(0.25), '50%': q(0.5), '75%': q(0.75), '100%': q(1) },
    ...result,
  })}\n`,
);
