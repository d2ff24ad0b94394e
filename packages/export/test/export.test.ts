import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Story } from '@kapkit/testing';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import {
  activeColumns,
  type ExportFormat,
  type ExportManifest,
  exportEvents,
  SCHEMA_TARGETS,
  TABLE_NAMES,
  type TableName,
  tables,
} from '../src/index.js';
import { failures, publishedValidator } from './ajv.js';
import {
  COURSE,
  cohort,
  interleave,
  listFiles,
  ndjson,
  readLines,
  SESSION,
  streamOf,
  tempDir,
} from './support.js';

const KEY = 'test-key-0123456789abcdef0123456789abcdef';

async function run(
  events: readonly (Record<string, unknown> | string)[],
  format: ExportFormat,
  extra: Partial<Parameters<typeof exportEvents>[1]> = {},
) {
  const dir = tempDir();
  const result = await exportEvents(streamOf(ndjson(events)), { format, outDir: dir, ...extra });
  return { dir, ...result };
}

function rowsOf(dir: string, table: TableName) {
  return readLines(join(dir, `${table}.ndjson`));
}

/** One episode's full course, for the NDJSON table tests. */
const course = new Story('ep-1', 'pt-synthetic-1').fullCourse();

describe('NDJSON tables: a row per record', () => {
  it('writes one assessment row per accepted AssessmentRecorded, with dose and critical-period context', async () => {
    const { dir } = await run(course.events, 'ndjson');
    const rows = rowsOf(dir, 'assessments');
    expect(rows.map((r) => [r.instrument, r.day, r.total, r.dose_number])).toEqual([
      // Baseline on day 12, before any dose: PHQ-9 2+2+2+2+1+2+1+1+0 = 13, GAD-7 2+2+2+1+1+1+1 = 10.
      ['phq9', 12, 13, 0],
      ['gad7', 12, 10, 0],
      // Day 20, after the dose of day 14: PHQ-9 7 × 1 = 7, GAD-7 1+1+1+1+0+1+1 = 6.
      ['phq9', 20, 7, 1],
      ['gad7', 20, 6, 1],
      // Day 40, after the third dose (day 34): PHQ-9 0+1+0+1 = 2, GAD-7 1.
      ['phq9', 40, 2, 3],
      ['gad7', 40, 1, 3],
    ]);
    const first = rows[0]!;
    expect(first).toMatchObject({
      patient_id: 'pt-synthetic-1',
      episode_id: 'ep-1',
      assessment_id: 'ep-1-e9',
      at: '2026-03-14T10:00:00-05:00',
      context: 'baseline',
      status: 'complete',
      severity: 'moderate', // PHQ-9 10–14 (Kroenke et al. 2001)
      answered: 9,
      item_01: 2,
      item_09: 0,
      item_10: null,
      days_since_last_dose: null,
      in_critical_period: false,
      safety_flag: false,
      safety_rules: null,
    });
    // Day 20 is 5 days 23 h 55 min after the dose of day 14 at +65 min: 20 − (14 + 65/1440) days.
    expect(rows[2]!.days_since_last_dose).toBeCloseTo(5.954861111, 8);
    expect(rows[2]!.in_critical_period).toBe(true); // inside [14.045, 28.045), the 14-day window
    expect(rows[4]!.in_critical_period).toBe(true); // day 40 inside the window of the day-34 dose
  });

  it('writes one dosing-session row per session when it ends, boosters and vitals included', async () => {
    const { dir } = await run(course.events, 'ndjson');
    const rows = rowsOf(dir, 'dosing_sessions');
    expect(rows.map((r) => [r.session_id, r.session_number, r.dose_number, r.status])).toEqual([
      ['ep-1-s1', 1, 1, 'completed'],
      ['ep-1-s2', 2, 2, 'completed'],
      ['ep-1-s3', 3, 3, 'completed'],
    ]);
    expect(rows[0]).toMatchObject({
      chaperone: true,
      mode: 'telehealth',
      start_day: 14 + 60 / 1440,
      dose_day: 14 + 65 / 1440,
      end_day: 14 + 215 / 1440,
      duration_minutes: 150,
      dose_kind: 'full',
      dose_mg: 300,
      total_dose_mg: 300,
      booster: false,
      booster_mg: null,
      units_used: 1,
      pre_systolic: 122,
      pre_diastolic: 78,
      pre_heart_rate: 72,
      pre_spo2: null,
      post_systolic: 128,
      post_spo2: 98,
      hold_systolic_above: 140,
      hold_diastolic_above: 90,
      vitals_hold: false,
      aborted: false,
      adverse_events: 0,
    });
    // Session 2: a full dose of 300 mg and a 100 mg booster; units follow from the mg: 1 + 100/300.
    expect(rows[1]).toMatchObject({
      booster: true,
      booster_mg: 100,
      total_dose_mg: 400,
      administrations: 2,
      units_used: 1 + 100 / 300,
    });
  });

  it('writes the episode row with outcomes and critical-period coverage when the episode completes', async () => {
    const { dir } = await run(course.events, 'ndjson');
    const [row] = rowsOf(dir, 'episodes');
    expect(row).toMatchObject({
      end_state: 'completed',
      closed: true,
      end_day: 41,
      doses: 3,
      boosters: 1,
      dosing_sessions: 3,
      planned_dosing_sessions: 3,
      integration_sessions: 3,
      assessments: 6,
      // Doses on days 14, 24 and 34 (+65 min), each inside the previous 14-day window: one chain of 3,
      // from day 14.045 to the end of the last window, 34.045 + 14 = 48.045: 34 days.
      critical_period_days: 14,
      critical_period_chains: 1,
      longest_chain_doses: 3,
      longest_chain_days: 34,
      // Span: first dose to completion on day 41, all inside the union of windows.
      critical_period_coverage: 1,
      critical_period_gap_days: 0,
      // PHQ-9 13 → 2: change −11, ≤ 50% (response), < 5 (remission), ≥ 6 points (fixed-point reliable change).
      phq9_assessments: 3,
      phq9_baseline: 13,
      phq9_baseline_day: 12,
      phq9_latest: 2,
      phq9_latest_day: 40,
      phq9_change: -11,
      phq9_response: true,
      phq9_first_response_day: 28, // day 20 (7 > 6.5) is not a response; day 40 is, 28 days after day 12
      phq9_remission: true,
      phq9_reliable_change: 'improved',
      // GAD-7 10 → 1: change −9, ≥ 4 points.
      gad7_baseline: 10,
      gad7_latest: 1,
      gad7_change: -9,
      gad7_reliable_change: 'improved',
    });
  });
});

describe('NDJSON tables: open episodes and table selection', () => {
  it('writes rows of episodes still open at the end of the input, and sessions not yet ended', async () => {
    const open = new Story('ep-open', 'pt-open').readyToDose(COURSE).dosingSession(14, SESSION);
    const sid = open.session(2);
    open
      .integration(15)
      .day(20)
      .add('DosingSessionScheduled', { sessionId: sid, scheduledFor: open.at(21), mode: 'in-person' });
    const { dir, manifest } = await run(open.events, 'ndjson');
    const [episode] = rowsOf(dir, 'episodes');
    expect(episode).toMatchObject({
      closed: false,
      end_state: 'dosing-course',
      closed_at: null,
      end_day: 20,
    });
    const sessions = rowsOf(dir, 'dosing_sessions');
    expect(sessions.map((s) => [s.session_number, s.status, s.start_day, s.end_day])).toEqual([
      [1, 'completed', 14 + 60 / 1440, 14 + 215 / 1440],
      [2, 'scheduled', null, null],
    ]);
    expect(manifest.input.episodesOpenAtEnd).toBe(1);
  });

  it('keeps one state per open episode only: a log of episodes one after another never holds two', async () => {
    const sequential = Array.from(
      { length: 6 },
      (_, k) => new Story(`ep-${k}`, `pt-${k}`).fullCourse().events,
    ).flat();
    let most = 0;
    await run(sequential, 'ndjson', {
      progressEvery: 1,
      onProgress: (p) => (most = Math.max(most, p.openEpisodes)),
    });
    expect(most).toBe(1);
    let interleaved = 0;
    await run(interleave(...cohort(8)), 'ndjson', {
      progressEvery: 1,
      onProgress: (p) => (interleaved = Math.max(interleaved, p.openEpisodes)),
    });
    expect(interleaved).toBeGreaterThan(1);
  });

  it('writes only the tables asked for', async () => {
    const { dir, manifest } = await run(course.events, 'csv', { tables: ['episodes'] });
    expect(listFiles(dir)).toEqual(['codebook.md', 'episodes.csv', 'manifest.json']);
    expect(manifest.files.map((f) => f.path)).toEqual(['episodes.csv', 'codebook.md']);
  });
});

describe.each(SCHEMA_TARGETS)(
  'every exported NDJSON record validates against its published schema (%s)',
  (target) => {
    const events = interleave(...cohort(12));
    const settings = {
      identified: {},
      'de-identified': { deidentify: { key: KEY } },
      'with free text': { includeFreeText: true },
    };
    it.each(Object.keys(settings))('%s', async (name) => {
      const { dir } = await run(events, 'ndjson', settings[name as keyof typeof settings]);
      for (const table of TABLE_NAMES) {
        const rows = rowsOf(dir, table);
        expect(rows.length, table).toBeGreaterThan(0);
        expect(failures(publishedValidator(target, `tables/${table}.schema.json`), rows), table).toEqual([]);
      }
      const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as unknown;
      expect(failures(publishedValidator(target, 'export-manifest.schema.json'), [manifest])).toEqual([]);
    });

    it('a row with a column the schema does not know, or a wrong type, fails', async () => {
      const { dir } = await run(events, 'ndjson');
      const validate = publishedValidator(target, 'tables/assessments.schema.json');
      const [row] = rowsOf(dir, 'assessments');
      expect(validate(row)).toBe(true);
      expect(validate({ ...row, patient_name: 'x' })).toBe(false);
      expect(validate({ ...row, total: '13' })).toBe(false);
    });
  },
);

describe('de-identified columns', () => {
  it('replace ids by 32-hex keyed pseudonyms, stable per patient, and drop every date-time column', async () => {
    const a = new Story('ep-a1', 'pt-same').fullCourse();
    const b = new Story('ep-a2', 'pt-same', Date.parse('2026-06-01T09:00:00-05:00')).fullCourse();
    const { dir, manifest } = await run([...a.events, ...b.events], 'ndjson', { deidentify: { key: KEY } });
    const episodes = rowsOf(dir, 'episodes');
    expect(episodes).toHaveLength(2);
    expect(episodes[0]!.patient_id).toMatch(/^[0-9a-f]{32}$/);
    expect(episodes[0]!.patient_id).toBe(episodes[1]!.patient_id);
    expect(episodes[0]!.episode_id).not.toBe(episodes[1]!.episode_id);
    for (const table of TABLE_NAMES) {
      const expected = activeColumns(tables[table], { deidentified: true, includeFreeText: false }).map(
        (c) => c.name,
      );
      for (const row of rowsOf(dir, table)) expect(Object.keys(row)).toEqual(expected);
      expect(expected.some((n) => n.endsWith('_at') || n === 'at' || n === 'scheduled_for')).toBe(false);
    }
    expect(manifest.deidentified).toBe(true);
    expect(manifest.input.sha256).toBeNull();
    // A different key gives different pseudonyms.
    const other = await run(a.events, 'ndjson', { deidentify: { key: `${KEY}-other` } });
    expect(rowsOf(other.dir, 'episodes')[0]!.patient_id).not.toBe(episodes[0]!.patient_id);
  });

  it('refuse free text together with de-identification, and short keys', async () => {
    await expect(run([], 'csv', { deidentify: { key: KEY }, includeFreeText: true })).rejects.toThrow(
      /free text/,
    );
    await expect(run([], 'csv', { deidentify: { key: 'short' } })).rejects.toThrow(/at least 32 characters/);
  });
});

describe('CSV tables', () => {
  const events = interleave(...cohort(10));

  it.each(['identified', 'de-identified'])(
    'round-trip through csv-parse to the same values as the NDJSON tables (%s)',
    async (mode) => {
      const options = mode === 'de-identified' ? { deidentify: { key: KEY } } : {};
      const json = await run(events, 'ndjson', options);
      const csv = await run(events, 'csv', options);
      for (const table of TABLE_NAMES) {
        const text = readFileSync(join(csv.dir, `${table}.csv`), 'utf8');
        expect(text.charCodeAt(0)).not.toBe(0xfeff); // no byte-order mark
        expect(text.endsWith('\r\n')).toBe(true);
        expect(text.replace(/\r\n/g, '')).not.toMatch(/\n/); // every record ends with CRLF
        const parsed = parse(text, { columns: true, bom: false }) as Record<string, string>[];
        const expected = rowsOf(json.dir, table).map((row) =>
          Object.fromEntries(
            Object.entries(row).map(([k, v]) => [k, v === null ? '' : typeof v === 'string' ? v : String(v)]),
          ),
        );
        expect(parsed, table).toEqual(expected);
      }
    },
  );

  it('neutralises spreadsheet formulas in text cells (ids, free text) and keeps negative numbers as numbers', async () => {
    const hostile = new Story('=HYPERLINK("http://x","y")', '+cmd|calc', undefined, {}).fullCourse();
    const s = hostile.events.find((e) => e.type === 'AssessmentRecorded')!;
    s.note = '@SUM(1+1)';
    const t = hostile.events.filter((e) => e.type === 'AssessmentRecorded')[1]!;
    t.note = '-2+3, "quoted"\r\nsecond line';
    const { dir } = await run(hostile.events, 'csv', { includeFreeText: true });
    const text = readFileSync(join(dir, 'assessments.csv'), 'utf8');
    const rows = parse(text, { columns: true }) as Record<string, string>[];
    expect(rows[0]!.patient_id).toBe("'+cmd|calc");
    expect(rows[0]!.episode_id).toBe('\'=HYPERLINK("http://x","y")');
    expect(rows[0]!.note).toBe("'@SUM(1+1)");
    expect(rows[1]!.note).toBe('\'-2+3, "quoted"\r\nsecond line');
    const episodes = parse(readFileSync(join(dir, 'episodes.csv'), 'utf8'), { columns: true }) as Record<
      string,
      string
    >[];
    expect(episodes[0]!.phq9_change).toBe('-11'); // a number, not neutralised
    for (const line of text.split('\r\n')) {
      for (const cellStart of line.split(',')) expect(cellStart).not.toMatch(/^"?[=+@]/);
    }
  });
});

describe('CSV read by DuckDB without a parser written for kapkit', () => {
  it('auto-detects the header, the row count and the column types', async () => {
    const { dir, manifest } = await run(interleave(...cohort(8)), 'csv', { deidentify: { key: KEY } });
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    try {
      const path = join(dir, 'assessments.csv').replace(/'/g, "''");
      const reader = await conn.runAndReadAll(
        `SELECT count(*) AS n, typeof(any_value(total)) AS total, typeof(any_value(patient_id)) AS id, typeof(any_value(in_critical_period)) AS inside FROM read_csv_auto('${path}')`,
      );
      const [row] = reader.getRowObjectsJson();
      expect(Number(row!.n)).toBe(manifest.files.find((f) => f.table === 'assessments')!.rows);
      expect(['BIGINT', 'DOUBLE']).toContain(row!.total);
      expect(row!.id).toBe('VARCHAR');
      expect(row!.inside).toBe('BOOLEAN');
    } finally {
      conn.closeSync();
    }
  });
});

describe('Parquet tables', () => {
  it('are read by DuckDB with the same rows and values as the NDJSON tables', async () => {
    const events = interleave(...cohort(10));
    const json = await run(events, 'ndjson', { deidentify: { key: KEY } });
    const pq = await run(events, 'parquet', { deidentify: { key: KEY }, rowGroupSize: 7 });
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    try {
      for (const table of TABLE_NAMES) {
        const path = join(pq.dir, `${table}.parquet`).replace(/'/g, "''");
        const reader = await conn.runAndReadAll(`SELECT * FROM read_parquet('${path}')`);
        const got = reader.getRowObjectsJson();
        const expected = rowsOf(json.dir, table);
        expect(got.length, table).toBe(expected.length);
        expect(pq.manifest.files.find((f) => f.table === table)!.rows).toBe(expected.length);
        expect(reader.columnNames()).toEqual(Object.keys(expected[0]!));
        got.forEach((row, i) => {
          for (const [k, v] of Object.entries(expected[i]!)) {
            if (typeof v === 'number') expect(Number(row[k]), `${table}[${i}].${k}`).toBeCloseTo(v, 12);
            else expect(row[k], `${table}[${i}].${k}`).toEqual(v);
          }
        });
      }
    } finally {
      conn.closeSync();
    }
  });
});

describe('manifest.json and codebook.md', () => {
  it.each(['ndjson', 'csv', 'parquet', 'fhir'] as const)(
    'list every file with its size and SHA-256, matching the bytes on disk (%s)',
    async (format) => {
      const { dir, manifest } = await run(interleave(...cohort(6)), format);
      const onDisk = listFiles(dir);
      expect(onDisk.filter((f) => f.startsWith('.'))).toEqual([]);
      expect([...manifest.files.map((f) => f.path), 'manifest.json'].sort()).toEqual(onDisk);
      for (const f of manifest.files) {
        const bytes = readFileSync(join(dir, f.path));
        expect(f.bytes, f.path).toBe(bytes.length);
        expect(f.sha256, f.path).toBe(createHash('sha256').update(bytes).digest('hex'));
        if (format === 'ndjson' && f.kind === 'table') {
          expect(f.rows).toBe(bytes.toString('utf8').split('\n').filter(Boolean).length);
        }
      }
      const written = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ExportManifest;
      expect(written).toEqual(manifest);
      expect(written.kapkitVersion).toMatch(/^\d+\.\d+\.\d+/);
    },
  );

  it('the codebook describes every column of every file written, and no other', async () => {
    const { dir } = await run(new Story().fullCourse().events, 'csv', { deidentify: { key: KEY } });
    const codebook = readFileSync(join(dir, 'codebook.md'), 'utf8');
    for (const table of TABLE_NAMES) {
      const header = readFileSync(join(dir, `${table}.csv`), 'utf8')
        .split('\r\n')[0]!
        .split(',');
      expect(codebook).toContain(`## Table \`${table}\` (\`${table}.csv\`)`);
      for (const column of header) expect(codebook, column).toContain(`| \`${column}\` |`);
      const section = codebook.split(`## Table \`${table}\``)[1]!.split('\n## ')[0]!;
      const listed = [...section.matchAll(/^\| `([a-z0-9_]+)` \|/gm)].map((m) => m[1]);
      expect(listed).toEqual(header);
    }
    expect(codebook).toContain('HMAC-SHA-256');
    expect(codebook).toContain('Day 0');
  });
});

describe('corrections and late reports', () => {
  /** A full course, one PHQ-9 of which was entered in error and voided, and an adverse event after closure. */
  function corrected() {
    const s = new Story('ep-v', 'pt-v').fullCourse();
    const wrong = s.events.find(
      (e) => e.type === 'AssessmentRecorded' && e.instrument === 'phq9' && (e.at as string) > s.at(19),
    )!;
    s.day(42).add('EventVoided', {
      voidedEventId: wrong.id,
      reason: 'Entered for the wrong patient.',
      recordedBy: 'therapist',
    });
    s.day(45).add('AdverseEventReported', { code: 'headache', severity: 'severe', recordedBy: 'patient' });
    return { events: s.events, wrong: wrong.id as string };
  }

  it('leaves a voided assessment out, and accepts an adverse event reported after the episode closed', async () => {
    const { events, wrong } = corrected();
    const { dir, manifest } = await run(events, 'ndjson');
    const rows = rowsOf(dir, 'assessments');
    expect(rows.map((r) => r.assessment_id)).not.toContain(wrong);
    expect(rows.some((r) => 'voided' in r)).toBe(false);
    const [episode] = rowsOf(dir, 'episodes');
    expect(episode).toMatchObject({
      voided_events: 1,
      adverse_events: 1,
      adverse_events_unreviewed: 1,
      closed: true,
    });
    expect(manifest.input).toMatchObject({ voided: 1, voidedIncluded: false, excluded: 0 });
  });

  it('with includeVoided, adds the voided assessment marked voided, and FHIR resources entered-in-error', async () => {
    const { events, wrong } = corrected();
    const { dir } = await run(events, 'ndjson', { includeVoided: true });
    const rows = rowsOf(dir, 'assessments');
    expect(rows.filter((r) => r.voided === true).map((r) => r.assessment_id)).toEqual([wrong]);
    expect(rows.filter((r) => r.voided === false).length).toBe(rows.length - 1);
    const fhir = await run(events, 'fhir', { includeVoided: true });
    const bundle = JSON.parse(readFileSync(join(fhir.dir, 'fhir-bundle.json'), 'utf8')) as {
      entry: { resource: { resourceType: string; status?: string } }[];
    };
    const statuses = bundle.entry
      .map((e) => e.resource)
      .filter((r) => r.resourceType === 'QuestionnaireResponse')
      .map((r) => r.status);
    expect(statuses.filter((x) => x === 'entered-in-error')).toHaveLength(1);
    expect(statuses.filter((x) => x === 'completed').length).toBeGreaterThan(3);
    const without = await run(events, 'fhir');
    expect(readFileSync(join(without.dir, 'fhir-bundle.json'), 'utf8')).not.toContain('entered-in-error');
  });
});
