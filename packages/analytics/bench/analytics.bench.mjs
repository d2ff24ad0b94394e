// Per-patient baseline, latest, change, response, remission and OLS slope plus cohort aggregates over
// 1,000,000 assessments (100,000 patients, rows in arbitrary order): kapkit's columnar path against DuckDB
// computing the same in SQL over the same rows already loaded, in one process. Target (issue): kapkit's time
// ≤ DuckDB's. Also times the full report (Kaplan–Meier and mixed model included) and its peak memory.
import { DuckDBInstance } from '@duckdb/node-api';
import { machine, median, prng, writeSection } from '../../../scripts/bench-report.mjs';
import { analyzeOutcomes, columnarOutcomes } from '../dist/index.js';

const PATIENTS = Number(process.env.KAPKIT_BENCH_PATIENTS ?? 100_000);
const PER = 10;
const N = PATIENTS * PER;
const ROUNDS = Number(process.env.KAPKIT_BENCH_ROUNDS ?? 5);
const rand = prng(4242);

// Synthetic PHQ-9 course per patient: a pre-baseline screen, baseline before the first dose on day 0, then
// improving-but-noisy follow-ups; shuffled.
const patient = new Int32Array(N);
const day = new Float64Array(N);
const score = new Float64Array(N);
const firstDoseDay = new Float64Array(PATIENTS).fill(0);
let i = 0;
for (let p = 0; p < PATIENTS; p++) {
  const base = 8 + Math.floor(rand() * 18);
  const rate = rand() * 0.12;
  for (let k = 0; k < PER; k++) {
    const d = k === 0 ? -7 - Math.floor(rand() * 7) : (k - 1) * 14 + Math.floor(rand() * 5);
    const s = Math.round(base - rate * Math.max(0, d) + (rand() - 0.5) * 6);
    patient[i] = p;
    day[i] = d;
    score[i] = Math.max(0, Math.min(27, s));
    i++;
  }
}
for (let k = N - 1; k > 0; k--) {
  const j = Math.floor(rand() * (k + 1));
  for (const a of [patient, day, score]) {
    const t = a[k];
    a[k] = a[j];
    a[j] = t;
  }
}
const cols = { patient, day, score, patientCount: PATIENTS, firstDoseDay };

// DuckDB: the same rows in a table (loading is not timed).
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run('CREATE TABLE a (rid INTEGER, patient INTEGER, day DOUBLE, score DOUBLE, fd DOUBLE)');
const appender = await con.createAppender('a');
for (let r = 0; r < N; r++) {
  appender.appendInteger(r);
  appender.appendInteger(patient[r]);
  appender.appendDouble(day[r]);
  appender.appendDouble(score[r]);
  appender.appendDouble(firstDoseDay[patient[r]]);
  appender.endRow();
}
appender.closeSync();

// Order key: by day, then input order (ties as in kapkit); exact in a double for these magnitudes.
const K = 2 ** 21;
const SQL = `
WITH per AS (
  SELECT patient, count(*) AS n,
    coalesce(max_by(score, day * ${K} + rid) FILTER (WHERE day <= fd), min_by(score, day * ${K} + rid)) AS b,
    coalesce(max(day) FILTER (WHERE day <= fd), min(day)) AS bday,
    max(day) AS lday, max_by(score, day * ${K} + rid) AS l,
    regr_slope(score, day) AS slope, regr_sxx(score, day) AS sxx, regr_syy(score, day) AS syy,
    regr_sxy(score, day) AS sxy
  FROM a GROUP BY patient
), resp AS (
  SELECT a.patient, min(a.day) - any_value(per.bday) AS first_resp
  FROM a JOIN per USING (patient)
  WHERE a.day > per.bday AND per.b > 0 AND a.score <= 0.5 * per.b
  GROUP BY a.patient
), out AS (
  SELECT per.*, lday > bday AS evaluable, CASE WHEN lday > bday THEN l - b END AS change,
    CASE WHEN lday > bday AND b > 0 THEN (l <= 0.5 * b)::INT END AS response,
    CASE WHEN lday > bday THEN (l < 5)::INT END AS remission,
    CASE WHEN n > 2 AND sxx > 0 THEN sqrt((syy - sxy * sxy / sxx) / (n - 2) / sxx) END AS slope_se,
    resp.first_resp
  FROM per LEFT JOIN resp USING (patient)
)
SELECT count(*) AS patients, count(*) FILTER (WHERE evaluable) AS evaluable,
  avg(b) FILTER (WHERE evaluable) AS b_mean, stddev_samp(b) FILTER (WHERE evaluable) AS b_sd,
  avg(l) FILTER (WHERE evaluable) AS l_mean, stddev_samp(l) FILTER (WHERE evaluable) AS l_sd,
  avg(change) AS c_mean, stddev_samp(change) AS c_sd,
  sum(response) AS responders, count(response) AS resp_n, sum(remission) AS remitters, count(remission) AS rem_n,
  avg(slope) AS slope_mean, avg(slope_se) AS se_mean, avg(first_resp) AS fr_mean
FROM out`;

async function duck() {
  const reader = await con.runAndReadAll(SQL);
  return reader.getRowObjectsJson()[0];
}

function kapkit() {
  const out = columnarOutcomes(cols);
  let se = 0;
  let nse = 0;
  let fr = 0;
  let nfr = 0;
  for (let p = 0; p < PATIENTS; p++) {
    if (!Number.isNaN(out.slopeSE[p])) {
      se += out.slopeSE[p];
      nse++;
    }
    if (!Number.isNaN(out.firstResponseDay[p])) {
      fr += out.firstResponseDay[p];
      nfr++;
    }
  }
  return { ...out.cohort, seMean: se / nse, frMean: fr / nfr };
}

// Same numbers first.
const d0 = await duck();
const k0 = kapkit();
const close = (a, b) => Math.abs(Number(a) - Number(b)) <= 1e-9 * Math.max(1, Math.abs(Number(b)));
const checks = [
  [k0.evaluable, d0.evaluable],
  [k0.baselineMean, d0.b_mean],
  [k0.latestSd, d0.l_sd],
  [k0.changeMean, d0.c_mean],
  [k0.responders, d0.responders],
  [k0.remitters, d0.remitters],
  [k0.slopeMean, d0.slope_mean],
  [k0.seMean, d0.se_mean],
  [k0.frMean, d0.fr_mean],
];
for (const [a, b] of checks) if (!close(a, b)) throw new Error(`kapkit ${a} ≠ DuckDB ${b}`);

const runs = { kapkit: [], duckdb: [] };
for (let r = 0; r < ROUNDS; r++) {
  globalThis.gc?.();
  let t0 = performance.now();
  kapkit();
  runs.kapkit.push(performance.now() - t0);
  t0 = performance.now();
  await duck();
  runs.duckdb.push(performance.now() - t0);
}
const mk = median(runs.kapkit);
const md = median(runs.duckdb);

// The full report over objects (KM and mixed model included), once, with peak RSS.
const records = new Array(N);
for (let r = 0; r < N; r++) {
  records[r] = {
    patientId: `p${patient[r]}`,
    instrument: 'phq9',
    day: day[r],
    score: score[r],
    firstDoseDay: 0,
  };
}
globalThis.gc?.();
const rssBefore = process.memoryUsage().rss;
let peak = rssBefore;
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 20);
const t0 = performance.now();
const report = analyzeOutcomes(records);
const fullMs = performance.now() - t0;
await new Promise((r) => setTimeout(r, 30));
clearInterval(sampler);
peak = Math.max(peak, process.memoryUsage().rss);
const phq = report.instruments.phq9;

const section = `## Analytics: ${N.toLocaleString('en-US')} assessments, ${PATIENTS.toLocaleString('en-US')} patients

${machine()}. Median of ${ROUNDS} alternating rounds. Synthetic PHQ-9 courses, rows shuffled; both engines
checked to agree (to 1e-9) on every aggregate first. DuckDB (\`@duckdb/node-api\`) runs one SQL query over the
same rows already loaded in an in-memory table.

| path | median ms | × DuckDB |
|---|---:|---:|
| DuckDB SQL (baseline) | ${md.toFixed(1)} | 1.00 |
| **kapkit \`columnarOutcomes\`** (typed arrays) | ${mk.toFixed(1)} | **${(mk / md).toFixed(2)}** |

Target: kapkit ≤ DuckDB: **${mk <= md ? 'met' : 'NOT met'}**.

Full report over ${N.toLocaleString('en-US')} record objects (\`analyzeOutcomes\`: per-patient metrics, reliable change,
effect sizes, Kaplan–Meier, trajectory, linear mixed model by REML): **${(fullMs / 1000).toFixed(1)} s**, peak RSS
${Math.round(peak / 2 ** 20)} MiB (${Math.round(rssBefore / 2 ** 20)} MiB before, records included). Mixed model:
${phq?.mixedModel ? `${phq.mixedModel.nGroups.toLocaleString('en-US')} groups, converged: ${phq.mixedModel.converged}` : phq?.mixedModelNote}.`;

writeSection('analytics', section);
console.log(section);
