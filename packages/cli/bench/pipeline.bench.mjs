// `kapkit validate`, `analyze --json` and `export` (de-identified CSV, NDJSON, Parquet) against the floor every
// command stands on: reading the same log and JSON.parse of every line. Each command and the baseline run as
// fresh processes, in alternating rounds, on one demo log written by `kapkit demo-data` (synthetic); the
// ratios are medians of the rounds. Peak RSS is the child's maximum resident set size (`/usr/bin/time -f %M`,
// when present), and so is its CPU time (user + system), which a loaded machine disturbs less than the wall
// time. Writes the `cli-pipeline` section of docs/benchmarks.md.
//
//   KAPKIT_BENCH_PATIENTS=3000   patients of the demo log (interleaved, seed 1)
//   KAPKIT_BENCH_ROUNDS=3        alternating rounds
//   KAPKIT_BENCH_BEFORE=<path>   also run another build's bin/kapkit.js (e.g. of main) in the same rounds, for
//                                before/after ratios in one run
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine, median, writeSection } from '../../../scripts/bench-report.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', 'bin', 'kapkit.js');
const PATIENTS = Number(process.env.KAPKIT_BENCH_PATIENTS ?? 3000);
const ROUNDS = Number(process.env.KAPKIT_BENCH_ROUNDS ?? 3);
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
const KEY = 'kapkit-bench-key-0123456789abcdef0123456789';

const work = mkdtempSync(join(tmpdir(), 'kapkit-pipeline-bench-'));
const log = join(work, 'demo.ndjson');
const baselineScript = join(work, 'read-parse.mjs');
// The baseline: stream the file, split lines, JSON.parse each (what any reader of the log must do).
writeFileSync(
  baselineScript,
  `import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
let n = 0;
for await (const line of createInterface({ input: createReadStream(process.argv[2]), crlfDelay: Infinity })) {
  if (line.trim() !== '') { JSON.parse(line); n++; }
}
process.stdout.write(n + '\\n');
`,
);

/** Run a fresh process; its wall time (ms), CPU time (ms, or null) and peak RSS (bytes, or null). */
function run(args, env = {}) {
  const cmd = TIME ? TIME : process.execPath;
  const argv = TIME ? ['-f', '%M %U %S', process.execPath, ...args] : args;
  const t0 = performance.now();
  const r = spawnSync(cmd, argv, {
    encoding: 'utf8',
    maxBuffer: 512 * 2 ** 20,
    env: { ...process.env, ...env },
  });
  const ms = performance.now() - t0;
  if (r.status !== 0 && r.status !== 1)
    throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  const [kb, user, system] = TIME ? r.stderr.trim().split('\n').pop().split(' ').map(Number) : [];
  const cpu = (user ?? Number.NaN) + (system ?? Number.NaN);
  return { ms, cpu: Number.isFinite(cpu) ? cpu * 1000 : null, rss: Number.isFinite(kb) ? kb * 1024 : null };
}

const BEFORE = process.env.KAPKIT_BENCH_BEFORE;
const kapkit = (b, tag) => [
  { name: `\`kapkit validate --json\`${tag}`, args: [b, 'validate', '--json', log] },
  { name: `\`kapkit analyze --json\`${tag}`, args: [b, 'analyze', '--json', log] },
  ...['csv', 'ndjson', 'parquet'].map((f) => ({
    name: `\`kapkit export --format ${f} --deidentify\`${tag}`,
    format: f,
    args: [b, 'export', '--format', f, '--deidentify', '--key-env', 'KAPKIT_BENCH_KEY', '-o'],
  })),
];
const commands = [
  { name: 'read + JSON.parse every line (baseline)', args: [baselineScript, log] },
  ...kapkit(bin, ''),
  ...(BEFORE ? kapkit(BEFORE, ' (before)') : []),
];

try {
  const gen = spawnSync(process.execPath, [bin, 'demo-data', '--patients', String(PATIENTS), '-o', log], {
    encoding: 'utf8',
  });
  if (gen.status !== 0) throw new Error(gen.stderr);
  const bytes = statSync(log).size;
  const lines = Number(spawnSync(process.execPath, [baselineScript, log], { encoding: 'utf8' }).stdout);
  console.error(`demo log: ${PATIENTS} patients, ${lines} events, ${(bytes / 1e6).toFixed(0)} MB`);
  const load = [loadavg()[0]];
  const times = commands.map(() => []);
  const cpus = commands.map(() => []);
  const rss = commands.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate the order between rounds, so load drifts do not favour one command.
    const order = commands.map((_, i) => i);
    if (round % 2 === 1) order.reverse();
    for (const i of order) {
      const c = commands[i];
      const out = join(work, `out-${round}-${i}`);
      const r = c.format
        ? run([...c.args, out, log], { KAPKIT_BENCH_KEY: KEY })
        : run(c.args, { KAPKIT_BENCH_KEY: KEY });
      rmSync(out, { recursive: true, force: true });
      times[i].push(r.ms);
      if (r.cpu !== null) cpus[i].push(r.cpu);
      if (r.rss !== null) rss[i].push(r.rss);
      console.error(
        `  round ${round + 1}: ${c.name}: ${(r.ms / 1000).toFixed(2)} s${r.cpu === null ? '' : ` (CPU ${(r.cpu / 1000).toFixed(2)} s)`}`,
      );
    }
  }
  load.push(loadavg()[0]);
  const base = median(times[0]);
  const cpuBase = cpus[0].length ? median(cpus[0]) : null;
  const rows = commands.map((c, i) => {
    const ms = median(times[i]);
    const ratio = ms / base;
    const peak = rss[i].length ? `${(Math.max(...rss[i]) / 2 ** 20).toFixed(0)}` : '-';
    const within = i === 0 || c.name.endsWith('(before)') ? '' : ratio <= 4 ? 'yes' : '**no**';
    const cpu = cpuBase === null || cpus[i].length === 0 ? null : median(cpus[i]);
    const cpuCells =
      cpu === null ? '- | -' : `${(cpu / 1000).toFixed(2)} | ${i === 0 ? '1.0' : (cpu / cpuBase).toFixed(1)}`;
    return `| ${c.name} | ${(ms / 1000).toFixed(2)} | ${i === 0 ? '1.0' : `**${ratio.toFixed(1)}**`} | ${within} | ${cpuCells} | ${peak} |`;
  });
  writeSection(
    'cli-pipeline',
    `## CLI: validate, analyze and export against reading the log

${machine()}, load average ${load.map((l) => l.toFixed(1)).join(' → ')} (2 cores shared). Demo log:
\`kapkit demo-data --patients ${PATIENTS}\` (interleaved, seed 1): ${lines.toLocaleString('en-US')} events,
${(bytes / 1e6).toFixed(0)} MB. Each command a fresh process (Node start-up included, as for the baseline), median of
${ROUNDS} alternating rounds; peak RSS the largest over the rounds. Baseline: stream the file, split lines and
\`JSON.parse\` every one. Every command does all its checks: schema, protocol rules through the episode
machine, scoring, safety flags.${BEFORE ? ' Rows marked (before) are the build this work started from, run in the same rounds.' : ''}
CPU time (user + system, median) is the figure a loaded machine disturbs least; the ≤ 4× verdict is on wall time.

| command | median s | × read + parse | ≤ 4× | CPU s | × read + parse (CPU) | peak RSS MiB |
|---|---:|---:|:---:|---:|---:|---:|
${rows.join('\n')}
`,
  );
  console.error(rows.join('\n'));
} finally {
  rmSync(work, { recursive: true, force: true });
}
