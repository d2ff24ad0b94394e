import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

/**
 * Synthetic event logs for tests (every event `synthetic: true`), following the seed's course: fit →
 * evaluation → plan → prescription → delivery → training → baseline measures → preparation → dosing sessions
 * with integration → completion. Timestamps are `start + days` in a fixed UTC offset.
 */
export class Story {
  readonly events: Record<string, unknown>[] = [];
  #n = 0;
  #day = 0;
  #session = 0;

  constructor(
    readonly episodeId = 'ep-1',
    readonly patientId = 'pt-synthetic-1',
    readonly start = Date.parse('2026-03-02T10:00:00-05:00'),
    readonly extra: Record<string, unknown> = {},
  ) {}

  /** ISO timestamp `days` after the start (fractional allowed), in -05:00. */
  at(days = this.#day): string {
    const ms = this.start + days * 86_400_000 - 5 * 3_600_000;
    return `${new Date(ms).toISOString().slice(0, 19)}-05:00`;
  }

  day(d: number): this {
    this.#day = d;
    return this;
  }

  add(type: string, payload: Record<string, unknown> = {}, minutes = 0): this {
    this.#n++;
    this.events.push({
      id: `${this.episodeId}-e${this.#n}`,
      episodeId: this.episodeId,
      patientId: this.patientId,
      type,
      at: this.at(this.#day + minutes / 1440),
      v: 1,
      synthetic: true,
      ...this.extra,
      ...payload,
    });
    return this;
  }

  readyToDose(phq9 = [2, 2, 2, 2, 1, 2, 1, 1, 0], gad7 = [2, 2, 2, 1, 1, 1, 1]): this {
    return this.day(0)
      .add('EpisodeOpened', { referral: 'self' })
      .add('FitAssessed', { outcome: 'good-fit' }, 60)
      .day(3)
      .add('MedicalEvaluationScheduled', { scheduledFor: this.at(7), mode: 'telehealth' })
      .day(7)
      .add('MedicalEvaluationCompleted', { eligible: true, contraindications: [] })
      .add('TreatmentPlanCreated', {
        plannedDosingSessions: 3,
        monitoring: { measures: [{ instrument: 'phq9', everyDays: 28 }, { instrument: 'gad7' }] },
      })
      .add('PrescriptionIssued', {
        medication: 'ketamine',
        route: 'sublingual',
        formulation: 'sublingual-lozenge',
        doseMg: 300,
        dosesAuthorized: 6,
      })
      .day(10)
      .add('MedicationDelivered', { doses: 4 })
      .add('SelfAdministrationTrained', { vitalsTrained: true, selfAdministrationTrained: true }, 30)
      .day(12)
      .add('AssessmentRecorded', { instrument: 'PHQ-9', responses: phq9, context: 'baseline' })
      .reviewItem9(phq9)
      .add('AssessmentRecorded', { instrument: 'gad7', responses: gad7, context: 'baseline' })
      .add('PreparationSessionCompleted', { mode: 'in-person', intentionsSet: true }, 60);
  }

  /** A positive item 9 is reviewed by the medical team at the same visit (a dose waits for it). */
  reviewItem9(phq9: readonly (number | null)[]): this {
    if ((phq9[8] ?? 0) === 0) return this;
    const assessmentEventId = this.events[this.events.length - 1]!.id as string;
    return this.add(
      'SafetyFlagReviewed',
      { assessmentEventId, rule: 'phq9-item9-positive', outcome: 'no-current-risk', recordedBy: 'medical' },
      20,
    );
  }

  /** A complete dosing session on day `d`. */
  dosingSession(d: number, options: { booster?: boolean; chaperone?: boolean } = {}): this {
    this.#session++;
    const sessionId = `${this.episodeId}-s${this.#session}`;
    this.day(d)
      // Remote sessions have a chaperone (the safety layer refuses them without one): without, in person.
      .add('DosingSessionScheduled', {
        sessionId,
        scheduledFor: this.at(d + 1 / 24),
        mode: options.chaperone === false ? 'in-person' : 'telehealth',
        chaperone: options.chaperone ?? true,
      })
      .add('VitalsRecorded', { sessionId, phase: 'pre', systolic: 122, diastolic: 78, heartRate: 72 }, 60)
      .add(
        'DoseAdministered',
        { sessionId, kind: 'full', doseMg: 300, route: 'sublingual', formulation: 'sublingual-lozenge' },
        65,
      );
    if (options.booster) {
      this.add(
        'DoseAdministered',
        { sessionId, kind: 'booster', doseMg: 100, route: 'sublingual', formulation: 'sublingual-lozenge' },
        90,
      );
    }
    // Observed 2 hours after the last dose (policy), then completed.
    return this.add(
      'VitalsRecorded',
      { sessionId, phase: 'post', systolic: 128, diastolic: 80, heartRate: 76, spo2: 98 },
      210,
    ).add('DosingSessionCompleted', { sessionId, durationMinutes: 150 }, 215);
  }

  session(n: number): string {
    return `${this.episodeId}-s${n}`;
  }

  integration(d: number): this {
    return this.day(d).add('IntegrationSessionCompleted', { mode: 'telehealth' });
  }

  assess(d: number, instrument: string, responses: (number | null)[], context = 'routine'): this {
    return this.day(d).add('AssessmentRecorded', { instrument, responses, context });
  }

  /** A full course: baseline, 3 dosing sessions 10 days apart with integration and measures, completion. */
  fullCourse(): this {
    return this.readyToDose()
      .dosingSession(14, { chaperone: true })
      .integration(15)
      .assess(20, 'phq9', [1, 1, 1, 1, 1, 1, 1, 0, 0])
      .assess(20, 'gad7', [1, 1, 1, 1, 0, 1, 1])
      .dosingSession(24, { booster: true })
      .integration(25)
      .dosingSession(34)
      .integration(35)
      .assess(40, 'phq9', [0, 1, 0, 1, 0, 0, 0, 0, 0])
      .assess(40, 'gad7', [0, 0, 1, 0, 0, 0, 0])
      .day(41)
      .add('EpisodeCompleted');
  }
}

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
    s.readyToDose([hi, hi, 2, 2, 1, 2, 1, 1, k % 7 === 0 ? 1 : 0], [hi, 2, 2, 1, 1, 1, hi]);
    s.dosingSession(14, { chaperone: k % 2 === 0 }).integration(15);
    const drop = k % 4;
    s.assess(20, 'phq9', [hi - 1, 1, 1, 1, 1, 1, drop, 0, 0]).assess(20, 'gad7', [1, 1, drop, 1, 0, 1, 1]);
    if (k % 4 === 0) {
      s.day(22).add('EpisodeDiscontinued', { reason: 'patient-choice' });
    } else if (k % 5 === 0) {
      s.dosingSession(24, { booster: true });
    } else {
      s.dosingSession(24, { booster: k % 3 === 0 })
        .integration(25)
        .dosingSession(34 + (k % 2) * 10)
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
