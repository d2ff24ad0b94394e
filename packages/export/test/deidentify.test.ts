import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Story } from '@kapkit/testing';
import { describe, expect, it } from 'vitest';
import { EXPORT_FORMATS, exportEvents, type InputProblem, TABLE_NAMES } from '../src/index.js';
import { COURSE, listFiles, ndjson, SESSION, streamOf, tempDir } from './support.js';

/**
 * The canary test: an event log full of identifiers, names, contact details, dates, times and free text, all
 * synthetic. After a de-identified export in every format, no byte of any output file (nor any problem
 * message) may contain any of them.
 */

const KEY = 'canary-secret-key-9f8e7d6c5b4a39281706f5e4d3c2b1a0';

const PATIENT = 'MRN-CANARY-884213';
const PATIENT_2 = 'Jane.Canarydoe.1931';
const EPISODE = 'EP-CANARY-Smith-2026';
const EPISODE_2 = 'EP-CANARY-Doe-77';

/** Fields no kapkit event has: names, contact details, birth date, age, address, national id. */
const PERSON = {
  patientName: 'Jane Canarydoe',
  firstName: 'Janecanary',
  email: 'jane.canarydoe@example.org',
  phone: '+1-555-0199-4242',
  dateOfBirth: '1931-02-03',
  age: 93,
  address: '42 Canary Lane, Springfield',
  ssn: '078-05-1120',
  mrn: 'MRN-CANARY-884213',
};

const FREE_TEXT = {
  note: 'CANARY-NOTE: Jane called from 555-0199 about her daughter Emily Canary',
  override: 'CANARY-OVERRIDE approved by Dr. Alice Canaryman after a call',
  adverse: 'CANARY-AE: patient Jane felt dizzy at her home in Springfield',
  lot: 'LOT-CANARY-7731',
  monitor: 'Canarydoe family questionnaire',
};

export function canaryLog() {
  const a = new Story(EPISODE, PATIENT, Date.parse('2026-03-02T10:17:00-05:00'), {
    ...PERSON,
    note: FREE_TEXT.note,
  });
  a.readyToDose(COURSE);
  a.day(12).add('MedicationDelivered', { doses: 1, lot: FREE_TEXT.lot }, 90);
  a.add(
    'TreatmentPlanCreated',
    {
      plannedDosingSessions: 4,
      monitoring: { measures: [{ instrument: 'phq9' }, { instrument: FREE_TEXT.monitor }] },
    },
    95,
  );
  a.day(13).add('AssessmentRecorded', {
    assessmentId: 'ASSESSMENT-CANARY-31337',
    instrument: 'phq9',
    responses: [3, 3, 3, 2, 2, 2, 1, 1, 2], // item 9 positive: a safety flag
    supplementary: { difficulty: 2 },
    context: 'pre-dose',
  });
  a.add('SafetyFlagReviewed', {
    assessmentEventId: `${EPISODE}-e${a.events.length}`,
    rule: 'phq9-item9-positive',
    outcome: 'safety-plan',
  });
  const sid = `${EPISODE}-session-john.smith@example.com`;
  a.day(14)
    .add('DosingSessionScheduled', {
      sessionId: sid,
      scheduledFor: a.at(14.1),
      mode: 'telehealth',
      chaperone: true,
    })
    .add('VitalsRecorded', { sessionId: sid, phase: 'pre', systolic: 150, diastolic: 95, heartRate: 80 }, 60)
    .add(
      'DoseAdministered',
      {
        sessionId: sid,
        kind: 'full',
        doseMg: 250,
        route: 'sublingual',
        formulation: 'sublingual-lozenge',
        vitalsOverride: { clinicianRole: 'medical', reason: FREE_TEXT.override },
      },
      70,
    )
    .add(
      'AdverseEventReported',
      { sessionId: sid, code: 'dizziness', severity: 'mild', description: FREE_TEXT.adverse },
      90,
    )
    .add('VitalsRecorded', { sessionId: sid, phase: 'post', systolic: 135, diastolic: 85 }, 195)
    .add('DosingSessionCompleted', { sessionId: sid, durationMinutes: 135 }, 200)
    .integration(16)
    .assess(20, 'gad7', [1, 1, 1, 1, 0, 1, 1])
    .day(22)
    .add('EpisodeDiscontinued', { reason: 'patient-choice' });

  const b = new Story(EPISODE_2, PATIENT_2, Date.parse('2026-04-09T08:43:00+02:00'), { email: PERSON.email });
  b.readyToDose(COURSE).dosingSession(13, SESSION);

  const lines: (Record<string, unknown> | string)[] = [...a.events, ...b.events];
  // Excluded lines that carry identifiers too: not JSON, invalid, refused.
  lines.push(`{"patientId":"${PATIENT}","note":"${FREE_TEXT.note}" this is not JSON`);
  lines.push({ ...b.events[1], id: 'bad-CANARY', at: 'Tuesday 3 March 2026', outcome: PERSON.patientName });
  lines.push({ ...b.events[3], id: `${PATIENT}-late`, at: '2026-04-01T09:00:00+02:00' }); // before it opened
  lines.push({ ...a.events[5], id: `${PATIENT}-after-close`, at: a.at(30), recordedAt: a.at(30) }); // discontinued
  lines.push({
    ...b.events[b.events.length - 1],
    id: `${PATIENT_2}-refused-assessment`,
    type: 'AssessmentRecorded',
    instrument: 'phq9',
    responses: [1, 1, 1, 1, 1, 1, 1, 1, 3],
    supplementary: { [PERSON.patientName]: 1 },
  }); // refused (unknown supplementary question), with a positive item 9
  return lines;
}

/** Every identifying string of the log: canaries, ids, and the date and time of every timestamp. */
function forbiddenStrings(lines: readonly (Record<string, unknown> | string)[]): string[] {
  const out = new Set<string>([
    PATIENT,
    PATIENT_2,
    EPISODE,
    EPISODE_2,
    'ASSESSMENT-CANARY-31337',
    'john.smith',
    'Canary',
    'Springfield',
    '555-0199',
    '078-05-1120',
    '1931',
    KEY,
    ...Object.values(PERSON).map(String),
    ...Object.values(FREE_TEXT),
  ]);
  const iso = /(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/g;
  for (const line of lines) {
    const text = typeof line === 'string' ? line : JSON.stringify(line);
    for (const m of text.matchAll(iso)) {
      out.add(m[1]!); // the calendar date
      out.add(`T${m[2]!}`); // the time of day
    }
    if (typeof line !== 'string') {
      for (const k of ['id', 'sessionId'] as const)
        if (typeof line[k] === 'string') out.add(line[k] as string);
    }
  }
  return [...out].filter((s) => s !== '93');
}

async function parquetAsText(path: string): Promise<string> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const reader = await conn.runAndReadAll(`SELECT * FROM read_parquet('${path.replace(/'/g, "''")}')`);
    return JSON.stringify(reader.getRowObjectsJson()) + JSON.stringify(reader.columnNames());
  } finally {
    conn.closeSync();
  }
}

describe('de-identified export of a log full of canaries', () => {
  const lines = canaryLog();
  const forbidden = forbiddenStrings(lines);

  it('the canary log really carries the canaries into an identified export (the test can see them)', async () => {
    const dir = tempDir();
    await exportEvents(streamOf(ndjson(lines)), { format: 'csv', outDir: dir, includeFreeText: true });
    const text = listFiles(dir)
      .map((f) => readFileSync(join(dir, f), 'utf8'))
      .join('\n');
    for (const s of [PATIENT, EPISODE, FREE_TEXT.note, FREE_TEXT.override, FREE_TEXT.adverse, '2026-03-02']) {
      expect(text).toContain(s);
    }
  });

  it.each(EXPORT_FORMATS)('leaks none of them into any byte of any file (%s)', async (format) => {
    const dir = tempDir();
    const problems: InputProblem[] = [];
    const result = await exportEvents(streamOf(ndjson(lines)), {
      format,
      outDir: dir,
      deidentify: { key: KEY },
      onProblem: (p) => problems.push(p),
    });
    const files = listFiles(dir);
    expect(files.length).toBeGreaterThanOrEqual(3);
    const texts: [string, string][] = files.map((f) => [f, readFileSync(join(dir, f)).toString('latin1')]);
    for (const f of files.filter((x) => x.endsWith('.parquet'))) {
      texts.push([`${f} (decoded)`, await parquetAsText(join(dir, f))]);
    }
    texts.push(['problem messages', JSON.stringify(problems)]);
    const leaks: string[] = [];
    for (const [name, text] of texts) {
      const lower = text.toLowerCase();
      for (const s of forbidden) if (lower.includes(s.toLowerCase())) leaks.push(`${name}: ${s}`);
      // No calendar date or time of day in any form.
      const date = /(19|20)\d{2}-[01]\d-[0-3]\d/.exec(text);
      if (date) leaks.push(`${name}: date ${date[0]}`);
      const time = /T[0-2]\d:[0-5]\d/.exec(text);
      if (time) leaks.push(`${name}: time ${time[0]}`);
    }
    expect(leaks).toEqual([]);
    // What was excluded is still counted, with line numbers.
    expect(result.manifest.input.excluded).toBe(5);
    expect(problems.map((p) => p.code)).toEqual([
      'invalid-json',
      'invalid-event',
      'episode-not-opened',
      'episode-closed',
      'invalid-assessment',
    ]);
    const n = lines.length; // the five excluded lines are the last five
    expect(problems.map((p) => p.line)).toEqual([n - 4, n - 3, n - 2, n - 1, n]);
    // A refused record never hides a positive safety item, even de-identified.
    expect(problems[4]!.message).toContain('SAFETY');
    expect(problems[4]!.message).toContain('phq9-item9-positive');
    // And the data is there: the episodes, the safety flag, the overridden hold.
    if (format !== 'fhir') {
      expect(result.manifest.files.find((f) => f.table === 'episodes')?.rows).toBe(2);
    }
  });

  it('keeps the safety flag and the coded facts of the canary episode', async () => {
    const dir = tempDir();
    await exportEvents(streamOf(ndjson(lines)), { format: 'ndjson', outDir: dir, deidentify: { key: KEY } });
    const read = (t: string) =>
      readFileSync(join(dir, `${t}.ndjson`), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    const flagged = read('assessments').filter((r) => r.safety_flag === true);
    expect(flagged).toHaveLength(1);
    expect(flagged[0]!.safety_rules).toBe('phq9-item9-positive');
    const [session] = read('dosing_sessions');
    expect(session).toMatchObject({
      vitals_hold: true,
      vitals_override: true,
      override_role: 'medical',
      adverse_event_codes: 'dizziness',
      chaperone: true,
    });
    expect(session).not.toHaveProperty('override_reason');
    const episodes = read('episodes');
    expect(episodes[0]).toMatchObject({
      end_state: 'discontinued',
      end_reason: 'patient-choice',
      safety_flags: 1,
    });
    expect(episodes[0]!.safety_flags_unreviewed).toBe(0);
    for (const t of TABLE_NAMES)
      for (const row of read(t)) expect(JSON.stringify(row)).not.toMatch(/"age"|birth/i);
  });
});
