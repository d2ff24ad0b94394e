import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AnalysisReport, analyzeOutcomes, recordsFromEvents } from '@kapkit/analytics';
import { type EpisodeEvent, episodeEventSchema, eventTypes, parseEvent, upcastEvent } from '@kapkit/core';
import { builtinInstruments, type ScoreResult, scoreResponse } from '@kapkit/core/instruments';
import { Story } from '@kapkit/testing';
import { describe, expect, it } from 'vitest';
import type * as z from 'zod';
import {
  type analysisReportSchema,
  generateSchemas,
  SCHEMA_TARGETS,
  schemaFiles,
  type scoredAssessmentSchema,
  tables,
} from '../src/index.js';
import { ajvFor, DOCS_SCHEMAS, failures, publishedValidator } from './ajv.js';
import { cohort, interleave, listFiles } from './support.js';

/** Drop `readonly` all the way down, to compare a TypeScript interface with a zod output type. */
type Mutable<T> = T extends readonly (infer U)[]
  ? Mutable<U>[]
  : T extends object
    ? { -readonly [K in keyof T]: Mutable<T[K]> }
    : T;

// Compile-time checks (tsc --noEmit covers the tests): the schemas and the TypeScript interfaces describe the
// same records in both directions, so a field added to or removed from either side fails the type check.
export const reportToSchema = (r: AnalysisReport): z.output<typeof analysisReportSchema> =>
  r as Mutable<AnalysisReport>;
export const schemaToReport = (r: z.output<typeof analysisReportSchema>): AnalysisReport => r;
export const scoreToSchema = (r: ScoreResult): z.output<typeof scoredAssessmentSchema> =>
  r as Mutable<ScoreResult>;
// ScoreResult<InstrumentDefinition> types `severity` as null (its band ids are unknown), hence the Omit.
export const schemaToScore = (r: z.output<typeof scoredAssessmentSchema>): Omit<ScoreResult, 'severity'> => r;

const REGENERATE = 'run: npm run build -w @kapkit/export && npx kapkit schema --out docs/schemas';

describe('published JSON Schemas (docs/schemas)', () => {
  it('match what the code generates, file for file (schema drift check)', () => {
    const generated = schemaFiles();
    const committed = listFiles(DOCS_SCHEMAS);
    const missing = [...generated.keys()].filter((p) => !committed.includes(p));
    const extra = committed.filter((p) => !generated.has(p));
    expect(missing, `schemas missing from docs/schemas; ${REGENERATE}`).toEqual([]);
    expect(extra, `files in docs/schemas that the code no longer generates; ${REGENERATE}`).toEqual([]);
    const changed = [...generated].filter(
      ([p, text]) => readFileSync(join(DOCS_SCHEMAS, p), 'utf8') !== text,
    );
    expect(
      changed.map(([p]) => p),
      `docs/schemas differ from the code; ${REGENERATE}`,
    ).toEqual([]);
  });

  it('cover every record type in both dialects, each with a stable urn $id, a title and a description', () => {
    const docs = generateSchemas();
    for (const target of SCHEMA_TARGETS) {
      const paths = docs.filter((d) => d.target === target).map((d) => d.path.slice(target.length + 1));
      expect(paths).toEqual(
        expect.arrayContaining([
          'episode-event.schema.json',
          ...eventTypes.map((t) => `events/${t}.schema.json`),
          'scored-assessment.schema.json',
          'score-line.schema.json',
          'tables/assessments.schema.json',
          'tables/dosing_sessions.schema.json',
          'tables/episodes.schema.json',
          'analysis-report.schema.json',
          'export-manifest.schema.json',
          ...builtinInstruments.map((d) => `instrument-responses/${d.id}.schema.json`),
        ]),
      );
    }
    for (const d of docs) {
      expect(d.schema.$id).toBe(d.id);
      expect(d.id).toMatch(new RegExp(`^urn:kapkit:schema:${d.target}:[a-z0-9:_-]+:v\\d+$`, 'i'));
      expect(d.schema.$schema).toBe(
        d.target === 'draft-07'
          ? 'http://json-schema.org/draft-07/schema#'
          : 'https://json-schema.org/draft/2020-12/schema',
      );
      expect(typeof d.schema.title, d.path).toBe('string');
      expect(typeof d.schema.description, d.path).toBe('string');
    }
    expect(new Set(docs.map((d) => d.id)).size).toBe(docs.length);
  });

  it.each(SCHEMA_TARGETS)('all compile with Ajv in strict mode (%s)', (target) => {
    for (const d of generateSchemas().filter((x) => x.target === target)) {
      expect(() => ajvFor(target).compile(d.schema), d.path).not.toThrow();
    }
  });

  it('describe every table column with its unit or allowed values and its source; nullable ones say when null', () => {
    for (const table of Object.values(tables)) {
      const schema = generateSchemas().find(
        (d) => d.path === `draft-07/tables/${table.name}.schema.json`,
      )!.schema;
      const properties = schema.properties as Record<string, { description?: string }>;
      expect(Object.keys(properties)).toEqual(table.columns.map((c) => c.name));
      for (const c of table.columns) {
        const text = properties[c.name]!.description ?? '';
        expect(text, c.name).toContain('Source: ');
        if (c.unit) expect(text, c.name).toContain(`Unit: ${c.unit}`);
        if (c.nullable) expect(c.description.toLowerCase(), `${table.name}.${c.name}`).toContain('null');
      }
    }
  });
});

describe('record schemas against real records', () => {
  const stories = cohort(12);
  // The stories are written in schema version 1; the published schemas describe version 2 events, which is
  // what every reader makes of them (upcastEvent, docs/episode.md).
  const events = interleave(...stories).map((e) => upcastEvent(e) as Record<string, unknown>);

  it.each(SCHEMA_TARGETS)(
    'every generated domain event validates against episode-event and its type (%s)',
    (target) => {
      const union = publishedValidator(target, 'episode-event.schema.json');
      expect(failures(union, events)).toEqual([]);
      for (const type of eventTypes) {
        const ofType = events.filter((e) => e.type === type);
        if (ofType.length === 0) continue;
        expect(failures(publishedValidator(target, `events/${type}.schema.json`), ofType), type).toEqual([]);
      }
      // And rejects what zod rejects.
      const bad = [
        { ...events[0], at: 'yesterday' },
        { ...events[0], type: 'Unknown' },
        { ...events[1], v: 3 },
      ];
      for (const b of bad) {
        expect(episodeEventSchema.safeParse(b).success).toBe(false);
        expect(union(b)).toBe(false);
      }
    },
  );

  it.each(SCHEMA_TARGETS)('scored assessments of every built-in instrument validate (%s)', (target) => {
    const validate = publishedValidator(target, 'scored-assessment.schema.json');
    const results = builtinInstruments.flatMap((d) => {
      const n = d.items.length;
      const max = Array.from({ length: n }, (_, i) => (d.scale?.max ?? 3) * ((i + 1) % 2));
      const oneMissing = max.map((v, i) => (i === 0 ? null : v));
      const allMissing = max.map(() => null);
      return [max, oneMissing, allMissing].map((responses) => {
        try {
          return JSON.parse(JSON.stringify(scoreResponse(d, { responses }))) as unknown;
        } catch {
          return null;
        }
      });
    });
    const scored = results.filter((r) => r !== null);
    expect(scored.length).toBeGreaterThan(builtinInstruments.length);
    expect(failures(validate, scored)).toEqual([]);
    expect(validate({ ...(scored[0] as object), extra: 1 })).toBe(false);
  });

  it.each(SCHEMA_TARGETS)(
    'analytics reports validate, with patient rows, KAP views and edge cases (%s)',
    (target) => {
      const validate = publishedValidator(target, 'analysis-report.schema.json');
      const { records, courses } = recordsFromEvents(events.map((e) => parseEvent(e).data as EpisodeEvent));
      const full = analyzeOutcomes(records, { courses, includePatients: true });
      expect(Object.keys(full.instruments)).toEqual(['phq9', 'gad7']);
      const reports = [
        full,
        analyzeOutcomes(records, { rciSd: { phq9: 5.7, gad7: 4.8 }, mixedModel: false }),
        analyzeOutcomes([]),
        analyzeOutcomes(records.slice(0, 1)),
        {
          kapkitVersion: '0.1.0',
          input: { file: 'x.ndjson', format: 'events-ndjson', records: 1, excluded: 0 },
          ...full,
        },
      ];
      expect(failures(validate, JSON.parse(JSON.stringify(reports)) as unknown[])).toEqual([]);
      expect(validate({ ...full, extra: true })).toBe(false);
    },
  );

  it('a story event log is a valid log for the tests that use it (sanity)', () => {
    const s = new Story().fullCourse();
    // Version 1 events, read through the upcaster as every reader does.
    expect(s.events.every((e) => parseEvent(e).success)).toBe(true);
  });
});
