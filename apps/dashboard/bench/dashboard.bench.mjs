// Dashboard benchmark: bundle size (size-limit, gzip) and API latency of the patient page for a patient with
// three years of weekly PHQ-9 + GAD-7 and 41 dosing sessions, among a synthetic demo caseload, on PGlite.
// Latency is timed in-process (Hono `app.request`) and over loopback HTTP, against a baseline in the same
// process: the store reads the route itself makes (loadEpisode + readEpisode); the bytes of the patient answer
// on the wire (gzip) and the caseload API at KAPKIT_BENCH_CASELOAD patients (default 500). Writes docs/benchmarks.md.
// Needs the build (turbo runs it first): dist/server and dist/client.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { openStore } from '@kapkit/store';
import { machine, median, writeSection } from '../../../scripts/bench-report.mjs';
import { buildLongEpisode, createDashboardApp, seedDemoCaseload } from '../dist/server/index.js';

const app = join(dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.env.KAPKIT_BENCH_REQUESTS ?? 200);
const WARMUP = 20;
const CASELOAD = Number(process.env.KAPKIT_BENCH_CASELOAD ?? 500);
const DAY_MS = 86_400_000;

function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
}

async function time(label, fn) {
  for (let i = 0; i < WARMUP; i++) await fn();
  const samples = [];
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  const r = { label, median: median(samples), p95: quantile(samples, 0.95) };
  console.log(`${label}: median ${r.median.toFixed(2)} ms, p95 ${r.p95.toFixed(2)} ms`);
  return r;
}

// ── bundle size ─────────────────────────────────────────────────────────────────────────────────────────────
const require = createRequire(import.meta.url);
const sizeLimitBin = join(dirname(require.resolve('size-limit/package.json')), 'bin.js');
let sizes;
try {
  sizes = JSON.parse(
    execFileSync(process.execPath, [sizeLimitBin, '--json'], { cwd: app, encoding: 'utf8' }),
  );
} catch (error) {
  // size-limit exits 1 when a budget is exceeded; its JSON is still on stdout.
  sizes = JSON.parse(error.stdout);
}
for (const s of sizes)
  console.log(
    `${s.name}: ${(s.size / 1000).toFixed(1)} kB gzip (limit ${(s.sizeLimit / 1000).toFixed(0)} kB)`,
  );

// ── API latency ─────────────────────────────────────────────────────────────────────────────────────────────
const dir = mkdtempSync(join(tmpdir(), 'kapkit-dashboard-bench-'));
const store = await openStore({ dataDir: dir });
const now = Date.now();
// Enrolled over the past 380 days, so that every demo patient has started (the demo spreads enrolment over a year).
const demo = await seedDemoCaseload(store, { nowMs: now, patients: CASELOAD - 1, enrolFromDaysAgo: 380 });
const patient = { patientId: 'bench-pt-0001', episodeId: 'bench-ep-0001' };
const events = buildLongEpisode({
  ...patient,
  startMs: now - (3 * 365 + 14) * DAY_MS,
  weeks: 156,
  // 41, not 40: with 40 the builder puts a follow-up inside a dosing session and the machine refuses the
  // completion (reason-required), a bug of buildLongEpisode.
  doses: 41,
});
await store.append(patient.episodeId, events, { expectedVersion: 0 });
const { state } = await store.loadEpisode(patient.episodeId);
const c = state.context;
const doses = c.sessions.filter((s) => s.doseNumber !== null).length;
const assessments = c.assessments.length;
if (doses !== 41) throw new Error(`expected 41 doses, built ${doses}`);

const { app: dashboard, accounts } = createDashboardApp({ store, log: () => {} });
// A signed-in therapist whose care team looks after every patient: each request also reads the session and
// writes an audit entry, as in use.
const patientIds = new Set();
for await (const s of store.streamAll()) patientIds.add(s.event.patientId);
const therapist = await accounts.createUser(
  { email: 'therapist@bench.kapkit.invalid', role: 'therapist' },
  now,
);
const team = await accounts.createTeam('Bench team', now);
await accounts.setTeamMember(team.id, therapist.id, true);
await accounts.setTeamPatients(team.id, [...patientIds], true);
const session = await accounts.createSession(therapist.id, Date.now(), {
  idleMs: 3_600_000,
  absoluteMs: 3_600_000,
});
const headers = { cookie: `kapkit_session=${session.token}` };
const path = `/api/patients/${patient.patientId}`;
const first = await dashboard.request(path, { headers });
if (first.status !== 200) throw new Error(`patient API answered ${first.status}`);
const bytes = (await first.arrayBuffer()).byteLength;
// On the wire: what a browser gets (it sends Accept-Encoding; the server gzips API answers).
const gz = await dashboard.request(path, { headers: { ...headers, 'accept-encoding': 'gzip, deflate, br' } });
if (gz.status !== 200) throw new Error(`patient API (gzip) answered ${gz.status}`);
const wireBytes = (await gz.arrayBuffer()).byteLength;
const wireEncoding = gz.headers.get('content-encoding') ?? 'identity';

const baseline = await time('baseline: store reads (loadEpisode + readEpisode)', async () => {
  await store.loadEpisode(patient.episodeId);
  await store.readEpisode(patient.episodeId);
});
const inProcess = await time('patient API, in-process (app.request)', async () => {
  const res = await dashboard.request(path, { headers });
  await res.arrayBuffer();
});
const server = await new Promise((resolve) => {
  const s = serve({ fetch: dashboard.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
});
const url = `http://127.0.0.1:${server.address().port}${path}`;
const loopback = await time('patient API, loopback HTTP (fetch)', async () => {
  const res = await fetch(url, { headers });
  await res.arrayBuffer();
});
// The first caseload request after start folds every patient's latest episode; later ones reuse each folded
// state until its episode changes.
const coldStart = performance.now();
const cold = await dashboard.request('/api/caseload', { headers });
if (cold.status !== 200) throw new Error(`caseload API answered ${cold.status}`);
await cold.arrayBuffer();
const caseloadColdMs = performance.now() - coldStart;
console.log(`caseload API, first request (every episode folded): ${caseloadColdMs.toFixed(1)} ms`);
const caseload = await time(`caseload API (${demo + 1} patients), in-process`, async () => {
  const res = await dashboard.request('/api/caseload', { headers });
  if (res.status !== 200) throw new Error(`caseload API answered ${res.status}`);
  await res.arrayBuffer();
});
const caseloadGz = await time(`caseload API (${demo + 1} patients), in-process, gzip`, async () => {
  const res = await dashboard.request('/api/caseload', {
    headers: { ...headers, 'accept-encoding': 'gzip' },
  });
  if (res.status !== 200) throw new Error(`caseload API (gzip) answered ${res.status}`);
  await res.arrayBuffer();
});
await new Promise((r) => server.close(r));
await store.close();
rmSync(dir, { recursive: true, force: true });

// ── report ──────────────────────────────────────────────────────────────────────────────────────────────────
const kb = (n) => `${(n / 1000).toFixed(1)} kB`;
const row = (r) =>
  `| ${r.label} | ${r.median.toFixed(2)} | ${r.p95.toFixed(2)} | ${(r.median / baseline.median).toFixed(2)} |`;
writeSection(
  'dashboard',
  `## Dashboard: bundle size and patient-page API latency

${machine()}. Built front end measured with size-limit (gzip level 9); latency: ${N} requests after ${WARMUP}
warm-up ones, one at a time, on embedded PGlite.

| bundle (gzip) | size | budget (.size-limit.json) | within |
|---|---:|---:|:---:|
${sizes.map((s) => `| ${s.name} | ${kb(s.size)} | ${kb(s.sizeLimit)} | ${s.passed ? 'yes' : '**no**'} |`).join('\n')}

The chart chunk (chart.js, its annotation plugin, the date-fns adapter and @kapkit/charts) loads only on the
patient and cohort pages.

Patient page API (\`GET /api/patients/:patientId\`) for a synthetic patient with three years of weekly
PHQ-9 + GAD-7 (${assessments} assessments) and ${doses} dosing sessions (${events.length} events), among ${demo}
demo patients; the answer is ${kb(bytes)} of JSON (episode status, outcome chart data, timeline, vitals, the
folded episode); on the wire (\`Accept-Encoding: gzip, deflate, br\`, ${wireEncoding}) ${kb(wireBytes)}
(target ≤ 100 kB: ${wireBytes <= 100_000 ? 'met' : '**not met**'}). Static assets are served pre-compressed
(brotli, else gzip, by \`Accept-Encoding\`; written at build by scripts/precompress.mjs).

| request | median ms | p95 ms | × baseline |
|---|---:|---:|---:|
${row(baseline)}
${row(inProcess)}
${row(loopback)}
${row(caseload)}
${row(caseloadGz)}

Caseload API p95 at ${demo + 1} patients: ${caseload.p95.toFixed(1)} ms (${caseloadGz.p95.toFixed(1)} ms with gzip).
The dashboard keeps each episode's folded state and caseload scores until the store has a newer event of that
episode, so only the status as of the request (\`statusAt\`) is worked out per patient per request; the
first caseload request after start folds every episode: ${caseloadColdMs.toFixed(0)} ms.
`,
);
console.log('wrote docs/benchmarks.md (dashboard)');
