import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DemoEpisode, generateDemoCohort, interleaveEpisodes } from '@kapkit/testing';
import { describe, expect, it } from 'vitest';
import { reportCommand } from '../src/commands/report.js';
import { CliError } from '../src/io.js';
import { capture } from './helpers.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A synthetic cohort of 6 patients, interleaved as an event store would stream it. */
const cohort: DemoEpisode[] = [...generateDemoCohort({ patients: 6, seed: 'report' })];
/** A completed course with doses, assessments and at least one positive PHQ-9 item 9. */
const patient = cohort.find(
  (e) =>
    e.outcome === 'completed' &&
    e.events.some(
      (x) => x.type === 'AssessmentRecorded' && x.instrument === 'phq9' && (x.responses[8] ?? 0) > 0,
    ),
)!;

function lines(): string[] {
  return [...interleaveEpisodes(cohort)].map((e) => JSON.stringify(e));
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'kapkit-report-'));
}

function writeLog(dir: string, text: string[]): string {
  const file = join(dir, 'events.ndjson');
  writeFileSync(file, `${text.join('\n')}\n`);
  return file;
}

function run(options: Parameters<typeof reportCommand>[0], stdin = '') {
  return capture((io) => reportCommand(options, io), stdin);
}

describe('kapkit report', { timeout: 60_000 }, () => {
  it("renders one patient's outcome chart to a PNG, atomically", async () => {
    expect(patient).toBeDefined();
    const dir = tempDir();
    const events = writeLog(dir, lines());
    const out = join(dir, 'report.png');
    const { code, stderr } = await run({ events, patient: patient.patientId, out });
    expect(code).toBe(0);
    const png = readFileSync(out);
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(png.toString('latin1', 12, 16)).toBe('IHDR');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([2400, 1440]);
    expect(png.length).toBeGreaterThan(50_000); // a full chart, not an empty canvas (the charts package checks pixels)
    expect(readdirSync(dir).sort()).toEqual(['events.ndjson', 'report.png']); // no temporary file left
    const doses = patient.events.filter((e) => e.type === 'DoseAdministered' && e.kind !== 'booster').length;
    expect(stderr).toMatch(
      new RegExp(
        `^kapkit report: patient ${patient.patientId}, episode ${patient.episodeId} \\(synthetic\\): PHQ-9 \\d+, GAD-7 \\d+ assessment\\(s\\), ${doses} dose\\(s\\), [1-9]\\d* safety flag\\(s\\).* -> ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(2400×1440 PNG\\)\\n$`,
      ),
    );
    writeFileSync(join(tmpdir(), 'kapkit-report-example.png'), png);
  });

  it('reports refused and malformed lines of the patient on stderr, charts the rest and exits 1', async () => {
    const text = lines();
    const first = patient.events[0]!;
    // A duplicate of the patient's first event (refused: duplicate id), a line that is not JSON, and a
    // refused event of another patient (ignored: not this patient's).
    text.splice(40, 0, JSON.stringify(first), 'not json');
    text.push(
      JSON.stringify({ ...first, patientId: 'someone-else', episodeId: 'other-ep' }).replace(
        '"v":1',
        '"v":9',
      ),
    );
    const dir = tempDir();
    const out = join(dir, 'r.png');
    const { code, stderr } = await run({ events: writeLog(dir, text), patient: patient.patientId, out });
    expect(code).toBe(1); // as kapkit validate: something was left out
    expect(readFileSync(out).subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true); // the chart is still written
    const problems = stderr.split('\n').filter((l) => l.startsWith('line '));
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(
      new RegExp(`^line 41: episode ${patient.episodeId}: event ${first.id}: duplicate-event-id: `),
    );
    expect(problems[1]).toMatch(/^line 42: episode -: event -: invalid-json: not valid JSON/);
    expect(stderr).toContain('1 refused and 1 malformed line(s) left out');
  });

  it('charts the chosen instruments as of a point in time, and writes to stdout with --out -', async () => {
    const dir = tempDir();
    const events = writeLog(dir, lines());
    const firstDose = patient.events.find((e) => e.type === 'DoseAdministered')!;
    const { code, stdout, stderr } = await run({
      events,
      patient: patient.patientId,
      out: '-',
      instrument: 'GAD-7',
      asOf: firstDose.at,
    });
    expect(code).toBe(0);
    expect(stdout.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(stderr).toMatch(
      new RegExp(`as of ${firstDose.at.replace(/[+]/g, '\\+')}: GAD-7 \\d+ assessment\\(s\\), 1 dose\\(s\\)`),
    );
    expect(stderr).not.toContain('PHQ-9 ');
  });

  it('reads the log from stdin with --events -', async () => {
    const { code, stdout } = await run(
      { events: '-', patient: patient.patientId, out: '-' },
      `${lines().join('\n')}\n`,
    );
    expect(code).toBe(0);
    expect(stdout.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  });

  it('fails clearly for an unknown patient, a patient without assessments, and bad options', async () => {
    const dir = tempDir();
    const opened = {
      id: 'x-1',
      episodeId: 'x-ep',
      patientId: 'demo-pt-no-measures',
      type: 'EpisodeOpened',
      at: '2026-01-06T09:00:00-05:00',
      v: 1,
      synthetic: true,
    };
    const events = writeLog(dir, [...lines(), JSON.stringify(opened)]);
    const out = join(dir, 'r.png');
    await expect(run({ events, patient: 'nobody', out })).rejects.toThrow(
      /^unknown patient "nobody": no events for this patient in ".*events\.ndjson"$/,
    );
    await expect(run({ events, patient: 'demo-pt-no-measures', out })).rejects.toThrow(
      'patient "demo-pt-no-measures" (episode x-ep) has no scored PHQ-9 assessments: nothing to chart',
    );
    await expect(
      run({ events, patient: patient.patientId, out, asOf: '2020-01-01T00:00:00Z' }),
    ).rejects.toThrow(
      /^unknown patient .* up to 2020-01-01T00:00:00Z \(\d+ later event\(s\) left out by --as-of\)$/,
    );
    await expect(run({ events, patient: patient.patientId, out, instrument: 'bdi2' })).rejects.toThrow(
      /--instrument: unknown instrument "bdi2" \(known: phq9, /,
    );
    await expect(run({ events, patient: patient.patientId, out, asOf: 'tomorrow' })).rejects.toThrow(
      '--as-of: expected an ISO 8601 date-time with a UTC offset',
    );
    await expect(
      run({ events: join(dir, 'missing.ndjson'), patient: patient.patientId, out }),
    ).rejects.toThrow(CliError);
    await expect(
      run({ events, patient: patient.patientId, out: join(dir, 'no-such-dir', 'r.png') }),
    ).rejects.toThrow(/^cannot write ".*no-such-dir\/r\.png"/);
    expect(readdirSync(dir).sort()).toEqual(['events.ndjson']); // nothing written on failure
  });
});
