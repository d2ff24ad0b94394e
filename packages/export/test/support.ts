import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { type DosingSessionOptions, type ReadyToDoseOptions, Story } from '@kapkit/testing';
import { type ExportManifest, type ExportOptions, exportEvents, type InputProblem } from '../src/index.js';

/** Ready to dose as the export tests record it: self-referred, 3 sessions planned, 6 doses authorised, 4 delivered. */
export const COURSE: ReadyToDoseOptions = {
  referral: 'self',
  plannedDosingSessions: 3,
  measures: [{ instrument: 'phq9', everyDays: 28 }, { instrument: 'gad7' }],
  dosesAuthorized: 6,
  dosesDelivered: 4,
};

/** A dosing session as the export tests record it: remote with a chaperone, SpO₂ after the dose, 150 minutes. */
export const SESSION: DosingSessionOptions = {
  mode: 'telehealth',
  chaperone: true,
  spo2: 98,
  minutes: { post: 210, completed: 215 },
};

/** Interleave several stories in time order (stable), as an event store streams them. */
export function interleave(...stories: Story[]): Record<string, unknown>[] {
  return stories
    .flatMap((s, k) => s.events.map((e, i) => ({ e, k, i })))
    .sort((a, b) => Date.parse(String(a.e.at)) - Date.parse(String(b.e.at)) || a.k - b.k || a.i - b.i)
    .map((x) => x.e);
}

/** NDJSON text of events (objects, or raw lines as strings). */
export function ndjson(lines: readonly (Record<string, unknown> | string)[]): string {
  return `${lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')}\n`;
}

/** A readable stream of `text`, in chunks of `chunk` characters. */
export function streamOf(text: string, chunk = 4096): Readable {
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += chunk) parts.push(text.slice(i, i + chunk));
  return Readable.from(parts);
}

export function tempDir(prefix = 'kapkit-export-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Every file under `dir` (recursively), as relative paths. */
export function listFiles(dir: string, base = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(dir, base))) {
    const rel = base ? join(base, name) : name;
    if (statSync(join(dir, rel)).isDirectory()) out.push(...listFiles(dir, rel));
    else out.push(rel);
  }
  return out.sort();
}

export function readLines(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * `n` synthetic episodes (patients `pt-synthetic-<k>`), enrolled a day apart, with different baselines and
 * courses: most complete three doses, every fourth stops after one dose and is discontinued, every fifth is
 * still open at the end. Scores fall by a patient-specific amount.
 */
export function cohort(n: number): Story[] {
  const stories: Story[] = [];
  for (let k = 1; k <= n; k++) {
    const s = new Story(
      `ep-${k}`,
      `pt-synthetic-${k}`,
      Date.parse('2026-03-02T10:00:00-05:00') + k * 86_400_000,
    );
    const hi = 1 + (k % 3);
    s.readyToDose({
      ...COURSE,
      baseline: { phq9: [hi, hi, 2, 2, 1, 2, 1, 1, k % 7 === 0 ? 1 : 0], gad7: [hi, 2, 2, 1, 1, 1, hi] },
    });
    // Every other patient's first session is in person, without a chaperone.
    s.dosingSession(
      14,
      k % 2 === 0 ? SESSION : { ...SESSION, mode: 'in-person', chaperone: false },
    ).integration(15);
    const drop = k % 4;
    s.assess(20, 'phq9', [hi - 1, 1, 1, 1, 1, 1, drop, 0, 0]).assess(20, 'gad7', [1, 1, drop, 1, 0, 1, 1]);
    if (k % 4 === 0) {
      s.day(22).add('EpisodeDiscontinued', { reason: 'patient-choice' });
    } else if (k % 5 === 0) {
      s.dosingSession(24, { ...SESSION, boosterMg: 100 });
    } else {
      s.dosingSession(24, k % 3 === 0 ? { ...SESSION, boosterMg: 100 } : SESSION)
        .integration(25)
        .dosingSession(34 + (k % 2) * 10, SESSION)
        .integration(45)
        .assess(50, 'phq9', [0, drop, 0, 1, 0, 0, 0, 0, 0])
        .assess(50, 'gad7', [0, 0, 1, 0, drop, 0, 0])
        .day(51)
        .add('EpisodeCompleted');
    }
    stories.push(s);
  }
  return stories;
}

/** Export `text` (NDJSON) with `options`, collecting the excluded lines as they are reported. */
export async function exportCollectingProblems(
  text: string,
  options: ExportOptions,
): Promise<{ manifest: ExportManifest; problems: InputProblem[] }> {
  const problems: InputProblem[] = [];
  const { manifest } = await exportEvents(streamOf(text), { ...options, onProblem: (p) => problems.push(p) });
  return { manifest, problems };
}
