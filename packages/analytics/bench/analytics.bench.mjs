// Per-patient baseline, latest, change, response, remission and OLS slope plus cohort aggregates over
// 1,000,000 assessments (100,000 patients, rows in arbitrary order): kapkit's columnar path against DuckDB
// computing the same in SQL over the same rows already loaded, in one process. Target (issue): kapkit's time
// ≤ DuckDB's. Also times the full report (Kaplan–Meier and mixed model included) and its peak memory, in a
// child process of its own (KAPKIT_BENCH_FULL_REPORT=1) so that DuckDB's memory does not count.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
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

if (process.env.KAPKIT_BENCH_FULL_REPORT === '1') {
  console.log(JSON.stringify(fullReport()));
  process.exit(0);
}

/**
 * The full report over one record object per assessment (as `kapkit analyze` builds them), once: wall and CPU
 * time, peak RSS and RSS before (records included).
 */
function fullReport() {
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
  const load = os.loadavg()[0];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const report = analyzeOutcomes(records);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  // The report runs synchronously (no timer could sample during it): the kernel's high-water mark of the
  // process is its peak.
  const peak = process.resourceUsage().maxRSS * 1024;
  const phq = report.instruments.phq9;
  return {
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    peak,
    rssBefore,
    load: [load, os.loadavg()[0]],
    mixedModel: phq?.mixedModel
      ? `${phq.mixedModel.nGroups.toLocaleString('en-US')} groups, converged: ${phq.mixedModel.converged}`
      : phq?.mixedModelNote,
  };
}

const { DuckDBInstance } = await import('@duckdb/node-api');

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

// The full report in a fresh process (the data are generated there the same way).
const full = JSON.parse(
  execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url)], {
    env: { ...process.env, KAPKIT_BENCH_FULL_REPORT: '1' },
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  }),
);
const mib = (b) => Math.round(b / 2 ** 20);
const fullMet = full.ms <= 10_000 && full.peak < 2 ** 30;

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
effect sizes, Kaplan–Meier, trajectory, linear mixed model by REML), once, in a fresh process: **${(full.ms / 1000).toFixed(1)} s**
(${(full.cpuMs / 1000).toFixed(1)} s of CPU; load average ${full.load[0].toFixed(1)} → ${full.load[1].toFixed(1)} on ${os.cpus().length} cores), peak RSS
**${mib(full.peak)} MiB** (${mib(full.rssBefore)} MiB before, records included). Mixed model: ${full.mixedModel}.
Target: ≤ 10 s and < 1 GiB: **${fullMet ? 'met' : 'NOT met'}**. Inside, the report reads the records once into
typed-array columns (rows ordered by patient and day by a counting sort; about 75 bytes per assessment) and builds
one object per patient, none per assessment; the mixed model's optimiser evaluates the REML criterion over
per-patient sums, one pass of the patients per evaluation.`;

writeSection('analytics', section);
console.log(section);
