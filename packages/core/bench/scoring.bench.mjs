// Validate + score 1,000,000 PHQ-9 responses: kapkit's bulk path against (a) a hand-written
// validate-and-sum loop and (b) an Ajv-compiled validator of the same JSON Schema, in one process, on the
// same records. Target (issue): bulk path ≤ 1.5 × the hand-written loop. Writes docs/benchmarks.md.
import Ajv from 'ajv';
import { machine, median, prng, writeSection } from '../../../scripts/bench-report.mjs';
import { phq9, responseSchema, scoreBatch, toJsonSchema } from '../dist/instruments.js';

const N = Number(process.env.KAPKIT_BENCH_N ?? 1_000_000);
const ROUNDS = Number(process.env.KAPKIT_BENCH_ROUNDS ?? 5);
const rand = prng(20261128);

// Synthetic records: 2% of answers missing, 0.5% of records invalid (an answer of 4 or 1.5).
const records = new Array(N);
for (let r = 0; r < N; r++) {
  const responses = new Array(9);
  for (let i = 0; i < 9; i++) responses[i] = rand() < 0.02 ? null : Math.floor(rand() * 4);
  if (rand() < 0.005) responses[Math.floor(rand() * 9)] = rand() < 0.5 ? 4 : 1.5;
  records[r] = { id: `r${r}`, responses };
}

const BAND_MINS = [0, 5, 10, 15, 20];

/** (a) What a careful developer would write by hand for the PHQ-9 alone, with the same outputs. */
function handWritten(recs) {
  const n = recs.length;
  const totals = new Float64Array(n);
  const status = new Uint8Array(n);
  const band = new Int8Array(n);
  const safety = new Uint8Array(n);
  let invalid = 0;
  for (let r = 0; r < n; r++) {
    const a = recs[r].responses;
    let ok = Array.isArray(a) && a.length === 9;
    let sum = 0;
    let missing = 0;
    if (ok) {
      for (let i = 0; i < 9; i++) {
        const v = a[i];
        if (v === null) {
          missing++;
          continue;
        }
        if (typeof v !== 'number' || (v | 0) !== v || v < 0 || v > 3) {
          ok = false;
          break;
        }
        sum += v;
      }
    }
    // Item 9 is read on invalid records too (a positive answer must never be lost).
    const v9 = Array.isArray(a) && a.length === 9 ? a[8] : undefined;
    safety[r] = v9 === null ? 2 : typeof v9 === 'number' && (v9 | 0) === v9 && v9 >= 1 && v9 <= 3 ? 1 : 0;
    if (!ok) {
      totals[r] = Number.NaN;
      status[r] = 3;
      band[r] = -1;
      invalid++;
      continue;
    }
    if (missing > 2) {
      totals[r] = Number.NaN;
      status[r] = 2;
      band[r] = -1;
      continue;
    }
    const total = missing ? (sum * 9) / (9 - missing) : sum;
    totals[r] = total;
    status[r] = missing ? 1 : 0;
    band[r] = total >= 20 ? 4 : total >= 15 ? 3 : total >= 10 ? 2 : total >= 5 ? 1 : 0;
  }
  return { totals, status, band, safety, invalid };
}

/** (b) Ajv-compiled JSON Schema validation, then the same scoring. */
const ajvValidate = new Ajv({ allErrors: false }).compile(toJsonSchema(phq9, { target: 'draft-07' }));
function ajvThenScore(recs) {
  const n = recs.length;
  const totals = new Float64Array(n);
  const status = new Uint8Array(n);
  const band = new Int8Array(n);
  let invalid = 0;
  for (let r = 0; r < n; r++) {
    const rec = recs[r];
    if (!ajvValidate(rec)) {
      totals[r] = Number.NaN;
      status[r] = 3;
      band[r] = -1;
      invalid++;
      continue;
    }
    const a = rec.responses;
    let sum = 0;
    let missing = 0;
    for (let i = 0; i < 9; i++) {
      const v = a[i];
      if (v === null) missing++;
      else sum += v;
    }
    if (missing > 2) {
      totals[r] = Number.NaN;
      status[r] = 2;
      band[r] = -1;
      continue;
    }
    const total = missing ? (sum * 9) / (9 - missing) : sum;
    totals[r] = total;
    status[r] = missing ? 1 : 0;
    let b = 0;
    for (let k = BAND_MINS.length - 1; k >= 0; k--)
      if (total >= BAND_MINS[k]) {
        b = k;
        break;
      }
    band[r] = b;
  }
  return { totals, status, band, invalid };
}

/** (c) zod `safeParse` per record, for reference: what not to do on a bulk path. */
const zodSchema = responseSchema(phq9);
function zodParseOnly(recs) {
  let invalid = 0;
  for (let r = 0; r < recs.length; r++) if (!zodSchema.safeParse(recs[r]).success) invalid++;
  return { invalid };
}

function time(fn) {
  globalThis.gc?.();
  const t0 = process.hrtime.bigint();
  const out = fn(records);
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, out };
}

// Check the three scorers agree before timing anything.
const ref = handWritten(records);
const kap = scoreBatch(phq9, records);
const ajv = ajvThenScore(records);
for (let r = 0; r < N; r++) {
  const same = (x, y) => (Number.isNaN(x) && Number.isNaN(y)) || x === y;
  if (
    !same(ref.totals[r], kap.totals[r]) ||
    ref.status[r] !== kap.status[r] ||
    ref.band[r] !== kap.band[r] ||
    ref.safety[r] !== kap.safety[r]
  ) {
    throw new Error(`kapkit and the hand-written loop disagree on record ${r}`);
  }
  if (!same(ref.totals[r], ajv.totals[r]) || ref.status[r] !== ajv.status[r]) {
    throw new Error(`Ajv path and the hand-written loop disagree on record ${r}`);
  }
}

const runs = { hand: [], kapkit: [], ajv: [], zod: [] };
for (let round = 0; round < ROUNDS; round++) {
  runs.hand.push(time(handWritten).ms);
  runs.kapkit.push(time((recs) => scoreBatch(phq9, recs)).ms);
  runs.ajv.push(time(ajvThenScore).ms);
  if (round < 2) runs.zod.push(time(zodParseOnly).ms);
}
const med = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v)]));
const ratio = (k) => (med[k] / med.hand).toFixed(2);
const target = med.kapkit / med.hand <= 1.5;

const table = `## Core: validate + score ${N.toLocaleString('en-US')} PHQ-9 responses

${machine()}. Median of ${ROUNDS} alternating rounds (zod: 2). Synthetic records, 2% of answers missing,
${ref.invalid.toLocaleString('en-US')} invalid records; all scorers checked to agree record by record first.

| path | median ms | records/s | × hand-written |
|---|---:|---:|---:|
| hand-written validate-and-sum loop (baseline) | ${med.hand.toFixed(1)} | ${Math.round(N / (med.hand / 1000)).toLocaleString('en-US')} | 1.00 |
| **kapkit \`scoreBatch\`** (compiled check from the definition; bands, proration, safety flags, per-record errors) | ${med.kapkit.toFixed(1)} | ${Math.round(N / (med.kapkit / 1000)).toLocaleString('en-US')} | **${ratio('kapkit')}** |
| Ajv-compiled JSON Schema, then the same scoring | ${med.ajv.toFixed(1)} | ${Math.round(N / (med.ajv / 1000)).toLocaleString('en-US')} | ${ratio('ajv')} |
| zod \`safeParse\` per record (validation only) | ${med.zod.toFixed(1)} | ${Math.round(N / (med.zod / 1000)).toLocaleString('en-US')} | ${ratio('zod')} |

Target: kapkit ≤ 1.5 × hand-written: **${target ? 'met' : 'NOT met'}** (${ratio('kapkit')}×).`;

writeSection('core-scoring', table);
console.log(table);
